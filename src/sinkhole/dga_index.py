"""Reverse DGA lookup: which families generate a domain, and on which dates.

The index holds, for every DGA family and every seeding period in a window
(default: two years either side of today), each generated domain with the
first and last bot day that tries it. It is built once per family, in
parallel, and cached as Parquet under the user's cache folder, keyed by the
window, the parameters and the family module's source, so an edited family
is rebuilt and the others are not. Lookups join the queried names (and their
parent domains, so ``www.<dga-domain>`` is found too) against the index in
DuckDB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sinkhole import __version__, families
from sinkhole.dga import TIMELESS
from sinkhole.exceptions import DgaError
from sinkhole.types import ParamValue

#: Called as progress(family, done, total) while the index is built.
Progress = Callable[[str, int, int], None]

SCHEMA = pa.schema(
    [
        ("domain", pa.string()),
        ("family", pa.string()),
        ("first_day", pa.date32()),
        ("last_day", pa.date32()),
        ("any_date", pa.bool_()),
    ]
)


def default_cache_dir() -> Path:
    """Where built indexes are kept: $XDG_CACHE_HOME/sinkhole/dga-index."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sinkhole" / "dga-index"


@dataclass(frozen=True)
class IndexSpec:
    """What an index covers: a window of bot dates, and families with their parameters."""

    start: dt.date
    end: dt.date
    params: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)

    @classmethod
    def around(
        cls,
        center: dt.date,
        years: float = 2.0,
        names: Iterable[str] | None = None,
        params: Mapping[str, Mapping[str, ParamValue]] | None = None,
    ) -> IndexSpec:
        """A window of `years` either side of `center` over `names` (default: every DGA)."""
        if not 0 < years <= 10:
            raise DgaError(f"index window of {years} years: expected more than 0 and at most 10")
        half = dt.timedelta(days=round(365.25 * years))
        chosen = list(names) if names else [f.name for f in families.all_families() if f.dga]
        values: dict[str, dict[str, ParamValue]] = {}
        for name in chosen:
            family = families.get(name)
            if family.dga is None:
                raise DgaError(f"family {family.name!r} has no DGA to index")
            values[family.name] = family.dga.params((params or {}).get(family.name, {}))
        return cls(center - half, center + half, values)

    def key(self, family: str) -> str:
        """Cache key of one family's part: window, parameters and module source."""
        module = inspect.getmodule(families.get(family).dga)
        source = inspect.getsource(module) if module else ""
        blob = json.dumps(
            [__version__, family, str(self.start), str(self.end), dict(self.params[family])],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256((blob + source).encode()).hexdigest()[:20]


def build_family(
    family: str, params: Mapping[str, ParamValue], start: dt.date, end: dt.date
) -> pa.Table:
    """The index rows of one family over [start, end]."""
    dga = families.get(family).dga
    if dga is None:
        raise DgaError(f"family {family!r} has no DGA to index")
    values = dga.params(params)
    names: list[str] = []
    firsts: list[dt.date] = []
    lasts: list[dt.date] = []
    for key, (lo, hi) in dga.key_spans(start, end).items():
        batch = list(dict.fromkeys(dga.domains_for(key, values)))
        names.extend(batch)
        firsts.extend([lo] * len(batch))
        lasts.extend([hi] * len(batch))
    timeless = dga.period_start(start) == TIMELESS
    return pa.table(
        {
            "domain": pa.array(names, pa.string()),
            "family": pa.array([family] * len(names), pa.string()),
            "first_day": pa.array(firsts, pa.date32()),
            "last_day": pa.array(lasts, pa.date32()),
            "any_date": pa.array([timeless] * len(names), pa.bool_()),
        },
        schema=SCHEMA,
    )


def _build_part(job: tuple[str, dict[str, ParamValue], dt.date, dt.date, str]) -> str:
    family, params, start, end, path = job
    table = build_family(family, params, start, end)
    tmp = f"{path}.tmp{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return family


def ensure(
    spec: IndexSpec,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[Path]:
    """The index parts for `spec`, building (in parallel) those not cached yet."""
    folder = cache_dir or default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DgaError(f"cannot create the index cache {folder}: {exc.strerror}") from None
    parts = {name: folder / f"{name}-{spec.key(name)}.parquet" for name in spec.params}
    todo = [
        (name, dict(spec.params[name]), spec.start, spec.end, str(path))
        for name, path in parts.items()
        if not path.exists()
    ]
    done = len(parts) - len(todo)
    if progress:
        progress("index", done, len(parts))
    if todo:
        count = min(len(todo), workers or os.cpu_count() or 1)
        try:
            if count == 1:
                results: Iterable[str] = map(_build_part, todo)
                for _ in results:
                    done += 1
                    if progress:
                        progress("index", done, len(parts))
            else:
                with ProcessPoolExecutor(max_workers=count) as pool:
                    for _ in pool.map(_build_part, todo):
                        done += 1
                        if progress:
                            progress("index", done, len(parts))
        except OSError as exc:
            raise DgaError(f"cannot write the index cache {folder}: {exc.strerror}") from None
    return list(parts.values())


@dataclass(frozen=True)
class Match:
    """One family that generates a domain (or a parent of it), on these bot dates."""

    family: str
    dates: tuple[tuple[dt.date, dt.date], ...]
    any_date: bool
    via: str

    def describe(self) -> str:
        """Dates as `first..last` ranges joined by commas (or `any date`)."""
        if self.any_date:
            return "any date"
        return ",".join(a.isoformat() if a == b else f"{a}..{b}" for a, b in self.dates)


def normalize_query(name: str) -> str:
    """A queried name as the index stores it: lowercase, no trailing dot."""
    return name.strip().lower().rstrip(".")


def _candidates(names: list[str]) -> pa.Table:
    query: list[str] = []
    candidate: list[str] = []
    for name in names:
        labels = name.split(".")
        for cut in range(max(1, len(labels) - 1)):
            query.append(name)
            candidate.append(".".join(labels[cut:]))
    return pa.table({"query": query, "domain": candidate})


def lookup(parts: list[Path], names: Iterable[str]) -> dict[str, list[Match]]:
    """For each name, the families (and dates) that generate it or a parent of it."""
    wanted = list(dict.fromkeys(normalize_query(n) for n in names if n.strip()))
    result: dict[str, list[Match]] = {name: [] for name in wanted}
    if not wanted or not parts:
        return result
    candidates = _candidates(wanted)  # noqa: F841  (read by DuckDB by name)
    files = [str(p) for p in parts]
    con = duckdb.connect()
    try:
        rows = con.execute(
            """
            SELECT c.query, i.family, i.domain, i.any_date,
                   list(struct_pack(a := i.first_day, b := i.last_day) ORDER BY i.first_day)
            FROM candidates c JOIN read_parquet(?) i USING (domain)
            GROUP BY ALL
            """,
            [files],
        ).fetchall()
    finally:
        con.close()
    for query, family, domain, any_date, spans in rows:
        merged: list[tuple[dt.date, dt.date]] = []
        for span in spans:
            a, b = span["a"], span["b"]
            if merged and a <= merged[-1][1] + dt.timedelta(days=1):
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        via = "exact" if domain == query else f"parent {domain}"
        result[query].append(Match(family, tuple(merged), bool(any_date), via))
    for matches in result.values():
        matches.sort(key=lambda m: (m.via != "exact", m.family))
    return result
