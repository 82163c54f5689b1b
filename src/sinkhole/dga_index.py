"""Reverse DGA lookup: which families generate a domain, and on which dates.

The index holds, for every DGA family, each generated domain with the first
and last bot day that tries it. It is cut into one Parquet file per (family,
parameter set, year) under the user's cache folder, so:

* a lookup covers each family's active years by default (`DgaInfo.active_years`,
  from the public record, like DGArchive), and ``--around``/explicit windows
  map to the years they touch and reuse the files already built;
* a build is resumable: each year is written atomically (temp file + rename)
  as soon as it is done, so an interrupted build keeps every finished year;
* an edited family module or other parameters get files of their own (the
  folder name hashes the parameters and the module source).

Years are built in parallel worker processes; a progress callback hears of
each finished (family, year). Lookups join the queried names (and their parent
domains, so ``www.<dga-domain>`` is found too) against the year files in
DuckDB, clipping each family's dates to the window asked for.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import inspect
import json
import multiprocessing
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sinkhole import __version__, duck, families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.types import ParamValue

#: Called as progress(unit, done, total) while the index is built; unit names the
#: (family, year) just finished ("" for the first call, before any is built).
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

_EPOCH = dt.date(1970, 1, 1)
_PARAMS_FILE = "params.json"
#: Years either side of today covered for a family that declares no active years.
RECENT_YEARS = 2
_OLD_PART = re.compile(r"[a-z0-9_-]+-[0-9a-f]{20}\.parquet")
_TMP = re.compile(r".*\.tmp(\d+)")


def default_cache_dir() -> Path:
    """Where built indexes are kept: $XDG_CACHE_HOME/sinkhole/dga-index."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sinkhole" / "dga-index"


def _dga(name: str) -> BaseDga:
    family = families.get(name)
    if family.dga is None:
        raise DgaError(f"family {family.name!r} has no DGA to index")
    return family.dga


def _clamped(center: dt.date, days: int) -> dt.date:
    ordinal = center.toordinal() + days
    return dt.date.fromordinal(min(max(ordinal, 1), dt.date.max.toordinal()))


@dataclass(frozen=True)
class IndexSpec:
    """What an index covers: per family, a window of bot dates and its parameters."""

    windows: Mapping[str, tuple[dt.date, dt.date]]
    params: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)
    #: How the windows were chosen, for messages ("each family's active years", a range).
    label: str = ""

    @property
    def start(self) -> dt.date:
        """The earliest bot date covered."""
        return min(lo for lo, _ in self.windows.values())

    @property
    def end(self) -> dt.date:
        """The latest bot date covered."""
        return max(hi for _, hi in self.windows.values())

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
        half = round(365.25 * years)
        return cls.between(_clamped(center, -half), _clamped(center, half), names, params)

    @classmethod
    def between(
        cls,
        first: dt.date,
        last: dt.date,
        names: Iterable[str] | None = None,
        params: Mapping[str, Mapping[str, ParamValue]] | None = None,
    ) -> IndexSpec:
        """Bot dates `first`..`last` over `names` (default: every DGA that can generate them)."""
        if last < first:
            raise DgaError(f"index window {first}..{last}: the end is before the start")
        given = list(names or [])
        windows: dict[str, tuple[dt.date, dt.date]] = {}
        for name in _chosen(given):
            low, high = _dga(name).bounds
            if first <= high and last >= low:
                windows[name] = (max(first, low), min(last, high))
            elif given:  # a family asked for by name is refused, not silently left out
                _dga(name).check_dates(first, last)
        if not windows:
            raise DgaError(f"no DGA family generates for bot dates {first}..{last}")
        return cls(windows, _values(windows, params), f"between {first} and {last}")

    @classmethod
    def active(
        cls,
        names: Iterable[str] | None = None,
        params: Mapping[str, Mapping[str, ParamValue]] | None = None,
        today: dt.date | None = None,
    ) -> IndexSpec:
        """Each family's active years (recent years around `today` if it declares none)."""
        now = today or dt.datetime.now(dt.UTC).date()
        windows: dict[str, tuple[dt.date, dt.date]] = {}
        for name in _chosen(names):
            dga = _dga(name)
            years = dga.info.active_years
            if years is None:
                years = (now.year - RECENT_YEARS, now.year + RECENT_YEARS)
            low, high = dga.bounds
            first = max(dt.date(max(years[0], 1), 1, 1), low)
            last = min(dt.date(min(years[1], 9999), 12, 31), high)
            if first <= last:
                windows[name] = (first, last)
        if not windows:
            raise DgaError("no DGA family to index")
        years_text = ", ".join(f"{n} {a.year}-{b.year}" for n, (a, b) in windows.items())
        return cls(windows, _values(windows, params), f"in its active years ({years_text})")

    def key(self, family: str) -> str:
        """Cache key of one family's files: version, parameters and module source."""
        module = inspect.getmodule(_dga(family))
        source = inspect.getsource(module) if module else ""
        blob = json.dumps(
            [__version__, family, dict(self.params[family])], sort_keys=True, default=str
        )
        return hashlib.sha256((blob + source).encode()).hexdigest()[:20]

    def units(self, folder: Path) -> list[Unit]:
        """The (family, year) files this spec needs, built or not."""
        out: list[Unit] = []
        for name, (first, last) in self.windows.items():
            dga = _dga(name)
            base = folder / name / self.key(name)
            values = dict(self.params[name])
            if dga.info.seeding == "time-independent":
                low, high = dga.bounds
                out.append(Unit(name, values, None, low, high, base / "any.parquet"))
                continue
            for year in range(first.year, last.year + 1):
                lo, hi = max(dt.date(year, 1, 1), dga.bounds[0]), dt.date(year, 12, 31)
                hi = min(hi, dga.bounds[1])
                out.append(Unit(name, values, year, lo, hi, base / f"{year}.parquet"))
        return out


def _chosen(names: Iterable[str] | None) -> list[str]:
    given = list(names or [])
    if given:
        return [families.get(n).name for n in given]
    return [f.name for f in families.all_families() if f.dga]


def _values(
    windows: Mapping[str, object], params: Mapping[str, Mapping[str, ParamValue]] | None
) -> dict[str, dict[str, ParamValue]]:
    given = params or {}
    return {name: _dga(name).params(given.get(name, {})) for name in windows}


@dataclass(frozen=True)
class Unit:
    """One file of the index: a family's domains for the bot days of one year (or any date)."""

    family: str
    params: dict[str, ParamValue]
    year: int | None
    first: dt.date
    last: dt.date
    path: Path

    @property
    def label(self) -> str:
        """`necurs 2015`, or `ramnit (any date)`."""
        return f"{self.family} {self.year if self.year is not None else '(any date)'}"


def build_family(
    family: str, params: Mapping[str, ParamValue], start: dt.date, end: dt.date
) -> pa.Table:
    """The index rows of one family over bot dates [start, end]."""
    dga = _dga(family)
    values = dga.params(params)
    spans = dga.key_spans(start, end)
    lists = dga.domains_for_keys(list(spans), values)
    # one row per domain and run of days: DGAs keyed by day whose lists repeat over
    # several days (Gozi's 4-day periods, Nymaim v2's ten days back) would otherwise store
    # a row per day. Keys come in date order, so a run only ever grows at its end.
    held: dict[str, list[list[dt.date]]] = {}
    day = dt.timedelta(days=1)
    for (lo, hi), generated in zip(spans.values(), lists, strict=True):
        for name in generated:
            runs = held.get(name)
            if runs is None:
                held[name] = [[lo, hi]]
            elif lo <= runs[-1][1] + day:
                runs[-1][1] = max(runs[-1][1], hi)
            else:
                runs.append([lo, hi])
    names: list[str] = []
    firsts: list[dt.date] = []
    lasts: list[dt.date] = []
    for name, runs in held.items():
        for lo, hi in runs:
            names.append(name)
            firsts.append(lo)
            lasts.append(hi)
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


def _build_unit(unit: Unit) -> Unit:
    if unit.year is None:
        # a time-independent list: one key, whatever the span; build it over one day
        table = build_family(unit.family, unit.params, unit.first, unit.first)
        count = table.num_rows
        table = table.set_column(2, "first_day", pa.array([unit.first] * count, pa.date32()))
        table = table.set_column(3, "last_day", pa.array([unit.last] * count, pa.date32()))
    else:
        table = build_family(unit.family, unit.params, unit.first, unit.last)
    unit.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = unit.path.with_name(f"{unit.path.name}.tmp{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)  # durable before it takes the final name: never an empty year file
    finally:
        os.close(fd)
    os.replace(tmp, unit.path)
    return unit


def _usable(path: Path) -> bool:
    """Whether a cached year file is there and whole; a damaged one is removed (it is rebuilt)."""
    if not path.exists():
        return False
    try:
        pq.ParquetFile(path).close()
    except (OSError, pa.ArrowException):
        path.unlink(missing_ok=True)
        return False
    return True


def _quiet_worker() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, the
    # workers must not each print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _params_text(params: Mapping[str, ParamValue]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=str)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tidy(folder: Path, spec: IndexSpec) -> None:
    """Remove what no lookup will read again: old layouts, dead builds' temp files,
    and files of an earlier family module or version with the same parameters."""
    for path in folder.glob("*.parquet"):
        if _OLD_PART.fullmatch(path.name):
            path.unlink(missing_ok=True)
    for name, params in spec.params.items():
        current = spec.key(name)
        wanted = _params_text(params)
        for stamp in folder.glob(f"{name}/*/{_PARAMS_FILE}"):
            if stamp.parent.name != current and stamp.read_text() == wanted:
                shutil.rmtree(stamp.parent, ignore_errors=True)
    for path in folder.glob("*/*/*.tmp*"):
        match = _TMP.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Index:
    """A built index: what it covers and its files."""

    spec: IndexSpec
    parts: tuple[Path, ...]
    built: int


def ensure(
    spec: IndexSpec,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Index:
    """The index for `spec`, building (in parallel) the years not cached yet."""
    folder = cache_dir or default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _tidy(folder, spec)
    except OSError as exc:
        raise DgaError(f"cannot create the index cache {folder}: {exc.strerror}") from None
    units = spec.units(folder)
    todo = [u for u in units if not _usable(u.path)]
    try:
        for name in {u.family for u in todo}:
            # the parameters, so that a later module version can tell these files are stale
            stamp = folder / name / spec.key(name) / _PARAMS_FILE
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(_params_text(spec.params[name]))
    except OSError as exc:
        raise DgaError(f"cannot write the index cache {folder}: {exc.strerror}") from None
    done = len(units) - len(todo)
    if progress:
        progress("", done, len(units))
    count = min(len(todo), workers or os.cpu_count() or 1)
    try:
        if count <= 1:
            for unit in todo:
                _build_unit(unit)
                done += 1
                if progress:
                    progress(unit.label, done, len(units))
        elif todo:
            pool = multiprocessing.get_context().Pool(count, initializer=_quiet_worker)
            try:
                for unit in pool.imap_unordered(_build_unit, todo):
                    done += 1
                    if progress:
                        progress(unit.label, done, len(units))
            except BaseException:
                # interrupted or failed: stop the workers now; every year written so far stays
                pool.terminate()
                raise
            else:
                pool.close()
            finally:
                pool.join()
    except OSError as exc:
        raise DgaError(f"cannot write the index cache {folder}: {exc.strerror}") from None
    return Index(spec, tuple(u.path for u in units), len(todo))


class Match(NamedTuple):
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


_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")


def valid_name(name: str) -> bool:
    """Whether a normalized name is a domain name: two or more LDH labels, 253 octets at most."""
    return len(name) <= 253 and _NAME.fullmatch(name) is not None


@dataclass
class Queries:
    """Names to look up, and what was skipped because it is not a domain name."""

    names: list[str] = field(default_factory=list)
    invalid: int = 0
    example: str = ""

    def add(self, raw: str, where: str) -> None:
        """Keep `raw` if it is a domain name (IDNs as their A-labels), else count it."""
        name = normalize_query(raw)
        if not name:
            return
        if not name.isascii():
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                name = ""
        if name and valid_name(name):
            self.names.append(name)
            return
        self.invalid += 1
        if not self.example:
            self.example = f"{raw[:40]!r} ({where})"


def read_queries(path: Path, into: Queries) -> None:
    """Add the names of a list file (one a line, or `rank,domain`) to `into`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DgaError(
            f"{path}: cannot read the list of domains to look up: {exc.strerror}"
        ) from None
    if b"\0" in data[:8192]:
        raise DgaError(f"{path}: a binary file, not a list of domain names")
    before = (len(into.names), into.invalid)
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        item = line.split("#", 1)[0].strip()
        if "," in item:
            item = item.rsplit(",", 1)[1].strip()
        if item:
            into.add(item, f"{path.name} line {number}")
    if len(into.names) == before[0]:
        skipped = into.invalid - before[1]
        detail = f": {skipped:,} lines are not domain names" if skipped else " (it is empty)"
        raise DgaError(f"{path}: no domain names in it{detail}")


def _candidates(names: pa.Array) -> pa.Table:
    """Each name with itself and its parents down to two labels (a.b.c.d: b.c.d, c.d)."""
    queries, domains = [names], [names]
    query, domain = names, names
    while len(domain):
        # drop the first label; keep going while two labels or more are left
        parent = pc.replace_substring_regex(domain, r"^[^.]*\.", "", max_replacements=1)
        deeper = pc.and_(pc.match_substring(domain, "."), pc.match_substring(parent, "."))
        query, domain = query.filter(deeper), parent.filter(deeper)
        queries.append(query)
        domains.append(domain)
    return pa.table({"query": pa.concat_arrays(queries), "domain": pa.concat_arrays(domains)})


def lookup(index: Index, names: Iterable[str]) -> dict[str, list[Match]]:
    """For each name, the families (and dates in the index's windows) that generate it."""
    # a million result lists would trigger full collections over everything the
    # caller holds (it took longer than the join); nothing here makes cycles
    paused = gc.isenabled()
    gc.disable()
    try:
        return _lookup(index, names)
    finally:
        if paused:
            gc.enable()


def _lookup(index: Index, names: Iterable[str]) -> dict[str, list[Match]]:
    given = pa.array(list(names), pa.string())
    # normalize_query, vectorized: a million names a second in Python was the slow part
    normal = pc.utf8_rtrim(pc.utf8_lower(pc.utf8_trim_whitespace(given)), ".")
    wanted = list(dict.fromkeys(normal.filter(pc.not_equal(normal, "")).to_pylist()))
    result: dict[str, list[Match]] = {name: [] for name in wanted}
    if not wanted or not index.parts:
        return result
    candidates = _candidates(pa.array(wanted, pa.string()))  # noqa: F841  (read by DuckDB)
    spec = index.spec
    windows = pa.table(  # noqa: F841  (read by DuckDB by name)
        {
            "family": list(spec.windows),
            "lo": pa.array([w[0] for w in spec.windows.values()], pa.date32()),
            "hi": pa.array([w[1] for w in spec.windows.values()], pa.date32()),
        }
    )
    files = [str(p) for p in index.parts]
    con = duck.connect()
    try:
        table = con.sql(
            """
            SELECT c.query, i.family, i.domain, i.any_date,
                   list(greatest(i.first_day, w.lo) ORDER BY i.first_day) AS starts,
                   list(least(i.last_day, w.hi) ORDER BY i.first_day) AS ends
            FROM candidates c
            JOIN read_parquet(?) i USING (domain)
            JOIN windows w ON w.family = i.family
            WHERE i.any_date OR (i.last_day >= w.lo AND i.first_day <= w.hi)
            GROUP BY ALL
            """,
            params=[files],
        ).to_arrow_table()
    except duckdb.Error as exc:
        # whole footers, damaged data (a disk error): a cache, so drop it and say so
        for part in index.parts:
            part.unlink(missing_ok=True)
        message = " ".join(str(exc).split())[:200]
        raise DgaError(
            f"the DGA index cache was damaged ({message}); it was removed and is rebuilt "
            "on the next lookup"
        ) from None
    finally:
        con.close()
    # whole columns to Python at once: row by row (fetchall) took three times the join
    found, owners, domains, timeless = (table.column(i).to_pylist() for i in range(4))
    starts = table.column(4).combine_chunks()
    offsets = starts.offsets.to_pylist()
    # dates as day numbers, each distinct day made once: pyarrow's own date conversion
    # was the slowest step of a lookup
    first_days = starts.flatten().cast(pa.int32()).to_pylist()
    last_days = table.column(5).combine_chunks().flatten().cast(pa.int32()).to_pylist()
    epoch = _EPOCH.toordinal()
    calendar = {n: dt.date.fromordinal(epoch + n) for n in {*first_days, *last_days}}
    firsts = [calendar[n] for n in first_days]
    lasts = [calendar[n] for n in last_days]
    base = offsets[0]
    day = dt.timedelta(days=1)
    shared: list[list[Match]] = []  # names several families (or parents) match: sorted below
    for row, query in enumerate(found):
        lo, hi = offsets[row] - base, offsets[row + 1] - base
        if hi - lo == 1:  # most names: one span, nothing to merge
            dates: tuple[tuple[dt.date, dt.date], ...] = ((firsts[lo], lasts[lo]),)
        else:
            merged: list[tuple[dt.date, dt.date]] = []
            for a, b in zip(firsts[lo:hi], lasts[lo:hi], strict=True):
                if merged and a <= merged[-1][1] + day:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], b))
                else:
                    merged.append((a, b))
            dates = tuple(merged)
        domain = domains[row]
        via = "exact" if domain == query else f"parent {domain}"
        matches = result[query]
        if matches:
            shared.append(matches)
        matches.append(Match(owners[row], dates, bool(timeless[row]), via))
    for matches in shared:
        matches.sort(key=lambda m: (m.via != "exact", m.family))
    return result
