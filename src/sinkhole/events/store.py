"""The read path: the events of a data folder, queried through DuckDB.

Closed segments are Parquet files under ``events/day=YYYY-MM-DD/``; segments
still being written are Arrow IPC streams under ``wal/``. A query sees both,
so events are readable while the sinkhole is still writing them (every batch
flushed so far is visible).

A read works on one consistent snapshot. The writer names the Parquet files
made from a WAL segment after the segment (``<stem>.parquet``, one per day)
and removes the segment only once they are all in place, so the snapshot reads
the WAL segments first and then takes every Parquet file whose stem is not one
of the segments it read: a segment converted meanwhile is counted once, from
whichever side it was seen on, and one that vanished before it could be opened
is found as Parquet.

One unreadable Parquet file (truncated, empty, not Parquet at all) must not
hide the others: each is checked (its footer read) before DuckDB sees the
list, and a bad one is moved to ``quarantine/`` with a note and a log line.

Every read also takes a shared store by URL (``s3://bucket/prefix``) and
several stores at once (``sinkhole.events.sources``): a shared store's closed
segments are read through pyarrow's file system, and a segment found in
several sources (a local segment and its shipped copy) is read once. An
unreadable segment in a shared store is skipped with a log line, not moved:
the shared store is the sensors' to write, not a reader's.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from sinkhole import duck
from sinkhole.events import private, sources
from sinkhole.events.schema import SCHEMA
from sinkhole.events.sources import Location, Source, Stores
from sinkhole.events.writer import (
    EVENTS_DIR,
    STATS_DIR,
    WAL_DIR,
    quarantine,
    quarantined,
    read_segment,
)
from sinkhole.exceptions import SinkholeError

log = logging.getLogger(__name__)

#: The listeners that write events (the `application` column).
APPLICATIONS = ("dns", "http", "tls", "raw")

T = TypeVar("T")

#: DuckDB errors that say nothing about the files (no reason to look for a damaged one).
_NOT_DATA = (
    duckdb.OutOfMemoryException,
    duckdb.InterruptException,
    duckdb.ParserException,
    duckdb.BinderException,
    duckdb.CatalogException,
)


class StoreError(SinkholeError):
    """The event store could not be read or exported."""


@dataclass(frozen=True)
class Filter:
    """Which events to read."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    family: str | None = None
    application: str | None = None
    src_ip: str | None = None
    limit: int | None = None

    def check(self) -> Filter:
        """This filter with its values checked (StoreError naming the option) and normalised."""
        if self.application is not None and self.application not in APPLICATIONS:
            raise StoreError(
                f"--application {self.application!r}: expected one of {', '.join(APPLICATIONS)}"
            )
        src_ip = self.src_ip
        if src_ip is not None:
            try:
                src_ip = str(ipaddress.ip_address(src_ip.strip()))
            except ValueError:
                raise StoreError(
                    f"--src-ip {self.src_ip!r}: expected an IPv4 or IPv6 address"
                ) from None
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise StoreError(
                f"--since {self.since.isoformat()} is not before --until {self.until.isoformat()}"
            )
        if self.limit is not None and self.limit < 1:
            raise StoreError(f"--limit {self.limit}: expected at least 1")
        return Filter(self.since, self.until, self.family, self.application, src_ip, self.limit)


@dataclass
class Shared:
    """The checked segments of one shared store (paths in its file system)."""

    source: Source
    fs: pafs.FileSystem
    paths: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    """One consistent view of a store: checked Parquet segments and the live WAL rows."""

    parquet: list[Path] = field(default_factory=list)
    wal: pa.Table = field(default_factory=SCHEMA.empty_table)
    #: Unreadable Parquet files found by this snapshot (moved to quarantine when possible).
    unreadable: list[Path] = field(default_factory=list)
    #: The local store each Parquet file is in (where an unreadable one is set aside).
    owners: dict[Path, Path] = field(default_factory=dict)
    #: Segments in shared stores (object stores), per store.
    shared: list[Shared] = field(default_factory=list)
    #: Unreadable segments of shared stores, skipped (source text, path).
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def files(self) -> int:
        """How many Parquet segments the snapshot reads."""
        return len(self.parquet) + sum(len(s.paths) for s in self.shared)


def check_segment(path: Path | str, fs: pafs.FileSystem | None = None) -> str:
    """Why the Parquet file at `path` cannot be read as events ('' when it can).

    Cheap: reads the footer (row groups, schema), not the data. `fs`: the file
    system `path` is in (a shared store's); this machine's when None.
    """
    try:
        with pq.ParquetFile(path, filesystem=fs) as handle:
            meta = handle.metadata
            for index in range(meta.num_row_groups):
                meta.row_group(index)
            schema = handle.schema_arrow
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        return "not a readable Parquet segment (" + " ".join(str(exc).split())[:200] + ")"
    index = schema.get_field_index("timestamp")
    if index < 0 or not pa.types.is_timestamp(schema.field(index).type):
        return "a Parquet file but not an event segment (no timestamp column)"
    return ""


def _deep_check(path: Path | str, fs: pafs.FileSystem | None = None) -> str:
    """Why reading every value of `path` fails ('' when it does not): after DuckDB failed."""
    try:
        pq.read_table(path, filesystem=fs)
    except FileNotFoundError:
        return ""
    except (pa.ArrowException, OSError, ValueError) as exc:
        return "damaged Parquet segment data (" + " ".join(str(exc).split())[:200] + ")"
    return ""


def _set_aside(root: Path, path: Path, reason: str, snap: Snapshot) -> None:
    snap.unreadable.append(path)
    quarantine(root, path, reason)


def segments(root: Path, skip_stems: frozenset[str] = frozenset()) -> Snapshot:
    """The closed Parquet segments under `root` that can be read; bad ones go to quarantine."""
    root = Path(root)
    snap = Snapshot()
    folder = root / EVENTS_DIR
    listed = sorted(folder.glob("day=*/*.parquet")) if folder.exists() else []
    for path in listed:
        if path.stem in skip_stems:
            continue
        try:
            reason = check_segment(path)
        except FileNotFoundError:
            continue  # quarantined by another reader meanwhile
        if reason:
            _set_aside(root, path, reason, snap)
        else:
            snap.parquet.append(path)
    return snap


def set_aside_unreadable(location: Location | Stores) -> int:
    """Read every closed segment in full and quarantine those that fail; returns how many.

    For engines that were handed checked footers and still failed on the data
    (population's DuckDB and Spark): the same deep check the store's own reads use.
    Only local folders are searched (a shared store's segments are not moved).
    """
    bad = 0
    for root in sources.stores(location).folders:
        snap = segments(Path(root))
        for path in snap.parquet:
            reason = _deep_check(path) if path.exists() else ""
            if reason:
                _set_aside(Path(root), path, reason, snap)
                bad += 1
    return bad


def _identity(day_folder: str, stem: str) -> str:
    """A segment's identity in every store it is copied to: its day and its name."""
    return f"{day_folder}/{stem}"


def shared_segments(
    source: Source, skip: frozenset[str] = frozenset(), exclude: frozenset[str] = frozenset()
) -> Shared:
    """The readable closed segments of a shared store, skipping identities in `skip`.

    Footers are checked (in parallel: each is a round trip to the store); an unreadable
    segment is logged and left out. `exclude`: paths already found damaged.
    """
    fs = source.filesystem()
    base = source.events_path()
    try:
        listed = fs.get_file_info(pafs.FileSelector(base, allow_not_found=True, recursive=True))
    except OSError as exc:
        raise StoreError(f"cannot list {source}: {' '.join(str(exc).split())[:300]}") from None
    chosen: list[str] = []
    for info in listed:
        parts = info.path.rsplit("/", 2)
        if (
            info.type != pafs.FileType.File
            or len(parts) != 3
            or not parts[1].startswith("day=")
            or not parts[2].endswith(".parquet")
            or parts[2].startswith(".")  # an upload in progress on a shared folder
            or info.path in exclude
        ):
            continue
        if _identity(parts[1], parts[2][: -len(".parquet")]) not in skip:
            chosen.append(info.path)
    chosen.sort()
    with ThreadPoolExecutor(max_workers=8) as pool:
        reasons = list(pool.map(lambda path: _shared_check(path, fs), chosen))
    found = Shared(source, fs)
    for path, reason in zip(chosen, reasons, strict=True):
        if reason:
            log.warning("unreadable segment %s in %s skipped: %s", path, source, reason)
        else:
            found.paths.append(path)
    return found


def _shared_check(path: str, fs: pafs.FileSystem) -> str:
    try:
        return check_segment(path, fs)
    except FileNotFoundError:
        return "gone since it was listed"


def snapshot(
    location: Location | Stores, exclude: frozenset[str] = frozenset(), wal: bool = True
) -> Snapshot:
    """The events of one or several stores as one consistent snapshot (module docstring).

    Local folders come first, then shared stores; a segment already taken from one
    source (or still in a WAL) is not taken again from another. `exclude`: shared
    store paths found damaged by an earlier attempt. `wal=False`: closed segments only
    (the analyses' view).
    """
    snap = Snapshot()
    tables = [SCHEMA.empty_table()]
    taken: set[str] = set()
    wal_stems: set[str] = set()
    found = sources.stores(location)
    parts = [(Path(root), _local_snapshot(Path(root), wal)) for root in found.folders]
    for _, part in parts:
        tables.append(part.wal)
        wal_stems.update(part.wal_stems)
        snap.unreadable.extend(part.unreadable)
    for root, part in parts:
        for path in part.parquet:
            key = _identity(path.parent.name, path.stem)
            if key not in taken and path.stem not in wal_stems:
                taken.add(key)
                snap.parquet.append(path)
                snap.owners[path] = Path(root)
    for source in found.sources:
        if source.folder is not None:
            continue
        skip = frozenset(taken)
        shared = shared_segments(source, skip, exclude)
        kept = [p for p in shared.paths if p.rsplit("/", 1)[1][: -len(".parquet")] not in wal_stems]
        shared.paths = kept
        taken.update(
            _identity(p.rsplit("/", 2)[1], p.rsplit("/", 1)[1][: -len(".parquet")]) for p in kept
        )
        snap.shared.append(shared)
    snap.wal = pa.concat_tables(tables)
    return snap


@dataclass
class _Local:
    parquet: list[Path]
    wal: pa.Table
    wal_stems: set[str]
    unreadable: list[Path]


def _local_snapshot(root: Path, wal: bool = True) -> _Local:
    """One local store's WAL rows and the Parquet segments not read from its WAL."""
    if not root.exists():
        raise StoreError(f"no event store at {root}")
    folder = root / WAL_DIR
    tables = [SCHEMA.empty_table()]
    read: set[str] = set()
    for path in sorted(folder.glob("*.arrows")) if wal and folder.exists() else []:
        try:
            table, _ = read_segment(path)
        except FileNotFoundError:
            continue  # converted since the listing: its Parquet files are listed below
        except OSError as exc:
            log.warning("WAL segment %s skipped: %s", path.name, exc.strerror or exc)
            continue
        # a live segment's unreadable tail is a batch still being written: not an error
        read.add(path.stem)
        tables.append(table)
    snap = segments(root, frozenset(read))
    return _Local(snap.parquet, pa.concat_tables(tables), read, snap.unreadable)


def _open(snap: Snapshot) -> duckdb.DuckDBPyConnection:
    con = duck.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        # spills (big sorts) go to a private folder, never a shared or relative one
        con.execute(f"SET temp_directory = {private.duckdb_path_literal(private.spill_folder())}")
        con.register("wal_events", snap.wal)
        views = []
        if snap.parquet:
            files = [str(p) for p in snap.parquet]
            con.read_parquet(files, union_by_name=True).create_view("parquet_events")
            views.append("parquet_events")
        for index, shared in enumerate(snap.shared):
            if shared.paths:
                # read through pyarrow's file system (its S3 client), scanned by DuckDB
                data = pads.dataset(shared.paths, schema=SCHEMA, filesystem=shared.fs)
                con.register(f"shared_events_{index}", data)
                views.append(f"shared_events_{index}")
        views.append("wal_events")
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {view}" for view in views)
        con.execute(f"CREATE VIEW events AS {union}")
    except BaseException:
        con.close()
        raise
    return con


def connect(root: Location | Stores) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view `events` over Parquet and WAL."""
    return _open(snapshot(root))


def _query(root: Location | Stores, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """Run `work` on a fresh snapshot; a segment whose data DuckDB cannot read is set aside."""
    damaged: set[str] = set()
    for attempt in range(3):
        snap = snapshot(root, frozenset(damaged))
        try:
            con = _open(snap)
        except duckdb.Error as exc:
            error: duckdb.Error = exc
        else:
            try:
                return work(con)
            except duckdb.Error as exc:
                error = exc
            finally:
                con.close()
        # the footers were fine but the data is not: find the culprit by reading it all
        found = False
        for path in [] if isinstance(error, _NOT_DATA) else snap.parquet:
            if not path.exists():
                found = True  # set aside by another reader meanwhile: a new snapshot will do
                continue
            reason = _deep_check(path)
            if reason:
                _set_aside(snap.owners[path], path, reason, snap)
                found = True
        for shared in [] if isinstance(error, _NOT_DATA) else snap.shared:
            for shared_path in shared.paths:
                reason = _deep_check(shared_path, shared.fs)
                if reason:
                    log.warning(
                        "damaged segment %s in %s skipped: %s", shared_path, shared.source, reason
                    )
                    damaged.add(shared_path)
                    found = True
        if not found or attempt == 2:
            message = " ".join(str(error).split())[:300]
            raise StoreError(
                f"cannot read events under {sources.stores(root)}: {message}"
            ) from None
    raise AssertionError("unreachable")


def query(root: Location | Stores, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """Run `work` on a connection whose view `events` is one snapshot of the store.

    A segment whose data cannot be read is set aside and the work runs again, so `work`
    must only read (it may create temporary tables and views).
    """
    return _query(root, work)


def _where(flt: Filter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if flt.since is not None:
        clauses.append("timestamp >= ?")
        params.append(flt.since)
    if flt.until is not None:
        clauses.append("timestamp < ?")
        params.append(flt.until)
    for column in ("family", "application", "src_ip"):
        value = getattr(flt, column)
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def read(root: Location | Stores, flt: Filter | None = None) -> pa.Table:
    """Events matching `flt`, ordered by time."""
    flt = (flt or Filter()).check()
    where, params = _where(flt)
    limit = f" LIMIT {int(flt.limit)}" if flt.limit is not None else ""
    sql = f"SELECT * FROM events{where} ORDER BY timestamp{limit}"

    def work(con: duckdb.DuckDBPyConnection) -> pa.Table:
        table = con.sql(sql, params=params).to_arrow_table()
        return SCHEMA.empty_table() if table is None else table

    table = _query(root, work)
    return table.cast(SCHEMA) if table.schema != SCHEMA else table


def count(root: Location | Stores, flt: Filter | None = None) -> int:
    """How many events match `flt`."""
    where, params = _where((flt or Filter()).check())

    def work(con: duckdb.DuckDBPyConnection) -> int:
        row = con.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
        return int(row[0]) if row else 0

    return _query(root, work)


def sensor_stats(root: Location | Stores) -> list[dict[str, Any]]:
    """The latest stats file of every sensor (written every flush by running workers).

    Sensors write these into their local stores; a shared store has none.
    """
    out = []
    listed = [
        path
        for folder in sources.stores(root).folders
        if (folder / STATS_DIR).exists()
        for path in sorted((folder / STATS_DIR).glob("*.json"))
    ]
    for path in listed:
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        # a file that is not a writer's stats document is not a sensor (skipped, not fatal)
        if (
            isinstance(document, dict)
            and isinstance(document.get("sensor"), str)
            and all(isinstance(document.get(k), int) for k in ("accepted", "durable", "dropped"))
        ):
            out.append(document)
    return out


def summary(root: Location | Stores) -> dict[str, Any]:
    """Totals from the store: events, unique source IPs, days, per application and family.

    `quarantined` counts the unreadable files set aside so far (this read's included).
    """

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        total, unique, first, last = con.execute(
            "SELECT count(*), count(DISTINCT src_ip), min(timestamp), max(timestamp) FROM events"
        ).fetchone() or (0, 0, None, None)
        per_app = dict(
            con.execute(
                "SELECT coalesce(application, '?'), count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        per_family = dict(
            con.execute(
                "SELECT coalesce(family, '(none)'), count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        return {
            "events": total,
            "unique_src_ips": unique,
            "first_day": _day(first),
            "last_day": _day(last),
            "per_application": per_app,
            "per_family": per_family,
        }

    totals = _query(root, work)
    totals["quarantined"] = sum(len(quarantined(f)) for f in sources.stores(root).folders)
    return totals


def _day(value: object) -> str | None:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).date().isoformat()
    return None


def holdings(totals: dict[str, Any]) -> str:
    """What a store holds, in one line (for 'nothing matched' messages)."""
    if not totals.get("events"):
        return "the store holds no events yet"
    apps = ", ".join(sorted(str(a) for a in totals.get("per_application", {})))
    fams = ", ".join(sorted(str(f) for f in totals.get("per_family", {})))
    days = (
        f"on {totals['first_day']}"
        if totals["first_day"] == totals["last_day"]
        else f"from {totals['first_day']} to {totals['last_day']}"
    )
    noun = "event" if totals["events"] == 1 else "events"
    return (
        f"the store holds {totals['events']:,} {noun} {days} (UTC); "
        f"applications: {apps}; families: {fams}"
    )
