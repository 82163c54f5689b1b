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
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sinkhole import duck
from sinkhole.events import private
from sinkhole.events.schema import SCHEMA
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
class Snapshot:
    """One consistent view of a store: checked Parquet segments and the live WAL rows."""

    parquet: list[Path] = field(default_factory=list)
    wal: pa.Table = field(default_factory=SCHEMA.empty_table)
    #: Unreadable Parquet files found by this snapshot (moved to quarantine when possible).
    unreadable: list[Path] = field(default_factory=list)


def check_segment(path: Path) -> str:
    """Why the Parquet file at `path` cannot be read as events ('' when it can).

    Cheap: reads the footer (row groups, schema), not the data.
    """
    try:
        with pq.ParquetFile(path) as handle:
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


def _deep_check(path: Path) -> str:
    """Why reading every value of `path` fails ('' when it does not): after DuckDB failed."""
    try:
        pq.read_table(path)
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


def set_aside_unreadable(root: Path) -> int:
    """Read every closed segment in full and quarantine those that fail; returns how many.

    For engines that were handed checked footers and still failed on the data
    (population's DuckDB and Spark): the same deep check the store's own reads use.
    """
    snap = segments(Path(root))
    bad = 0
    for path in snap.parquet:
        reason = _deep_check(path) if path.exists() else ""
        if reason:
            _set_aside(Path(root), path, reason, snap)
            bad += 1
    return bad


def snapshot(root: Path) -> Snapshot:
    """The store's events as one consistent snapshot (see the module docstring)."""
    root = Path(root)
    if not root.exists():
        raise StoreError(f"no event store at {root}")
    folder = root / WAL_DIR
    tables = [SCHEMA.empty_table()]
    read: set[str] = set()
    for path in sorted(folder.glob("*.arrows")) if folder.exists() else []:
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
    snap.wal = pa.concat_tables(tables)
    return snap


def _open(snap: Snapshot) -> duckdb.DuckDBPyConnection:
    con = duck.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        # spills (big sorts) go to a private folder, never a shared or relative one
        con.execute(f"SET temp_directory = {private.duckdb_path_literal(private.spill_folder())}")
        con.register("wal_events", snap.wal)
        if snap.parquet:
            files = [str(p) for p in snap.parquet]
            con.read_parquet(files, union_by_name=True).create_view("parquet_events")
            con.execute(
                "CREATE VIEW events AS SELECT * FROM parquet_events "
                "UNION ALL BY NAME SELECT * FROM wal_events"
            )
        else:
            con.execute("CREATE VIEW events AS SELECT * FROM wal_events")
    except BaseException:
        con.close()
        raise
    return con


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view `events` over Parquet and WAL."""
    return _open(snapshot(root))


def _query(root: Path, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """Run `work` on a fresh snapshot; a segment whose data DuckDB cannot read is set aside."""
    root = Path(root)
    for attempt in range(3):
        snap = snapshot(root)
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
                _set_aside(root, path, reason, snap)
                found = True
        if not found or attempt == 2:
            message = " ".join(str(error).split())[:300]
            raise StoreError(f"cannot read events under {root}: {message}") from None
    raise AssertionError("unreachable")


def query(root: Path, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
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


def read(root: Path, flt: Filter | None = None) -> pa.Table:
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


def count(root: Path, flt: Filter | None = None) -> int:
    """How many events match `flt`."""
    where, params = _where((flt or Filter()).check())

    def work(con: duckdb.DuckDBPyConnection) -> int:
        row = con.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
        return int(row[0]) if row else 0

    return _query(root, work)


def sensor_stats(root: Path) -> list[dict[str, Any]]:
    """The latest stats file of every sensor (written every flush by running workers)."""
    folder = Path(root) / STATS_DIR
    out = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
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


def summary(root: Path) -> dict[str, Any]:
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
    totals["quarantined"] = len(quarantined(root))
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
