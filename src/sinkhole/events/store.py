"""The read path: the events of a data folder, queried through DuckDB.

Closed segments are Parquet files under ``events/day=YYYY-MM-DD/``; segments
still being written are Arrow IPC streams under ``wal/``. A query sees both,
so events are readable while the sinkhole is still writing them (every batch
flushed so far is visible).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sinkhole.events.schema import SCHEMA
from sinkhole.events.writer import EVENTS_DIR, STATS_DIR, WAL_DIR, read_segment
from sinkhole.exceptions import SinkholeError


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


def parquet_files(root: Path) -> list[str]:
    """The closed Parquet segments under `root`."""
    folder = Path(root) / EVENTS_DIR
    return sorted(str(p) for p in folder.glob("day=*/*.parquet")) if folder.exists() else []


def wal_table(root: Path) -> pa.Table:
    """Every complete batch of the WAL segments being written."""
    folder = Path(root) / WAL_DIR
    tables = (
        [read_segment(p)[0] for p in sorted(folder.glob("*.arrows"))] if folder.exists() else []
    )
    return pa.concat_tables([SCHEMA.empty_table(), *tables])


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view `events` over Parquet and WAL."""
    if not Path(root).exists():
        raise StoreError(f"no event store at {root}")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    live = wal_table(root)
    con.register("wal_events", live)
    files = parquet_files(root)
    if files:
        con.read_parquet(files, union_by_name=True).create_view("parquet_events")
        con.execute(
            "CREATE VIEW events AS SELECT * FROM parquet_events "
            "UNION ALL BY NAME SELECT * FROM wal_events"
        )
    else:
        con.execute("CREATE VIEW events AS SELECT * FROM wal_events")
    return con


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
    flt = flt or Filter()
    con = connect(root)
    try:
        where, params = _where(flt)
        limit = f" LIMIT {int(flt.limit)}" if flt.limit is not None else ""
        sql = f"SELECT * FROM events{where} ORDER BY timestamp{limit}"
        table = con.sql(sql, params=params).to_arrow_table()
        if table is None:
            return SCHEMA.empty_table()
    except duckdb.Error as exc:
        raise StoreError(f"cannot read events under {root}: {exc}") from None
    finally:
        con.close()
    return table.cast(SCHEMA) if table.schema != SCHEMA else table


def count(root: Path, flt: Filter | None = None) -> int:
    """How many events match `flt`."""
    con = connect(root)
    try:
        where, params = _where(flt or Filter())
        row = con.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def sensor_stats(root: Path) -> list[dict[str, Any]]:
    """The latest stats file of every sensor (written every flush by running workers)."""
    folder = Path(root) / STATS_DIR
    out = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return out


def summary(root: Path) -> dict[str, object]:
    """Totals from the store: events, unique source IPs, per application and family."""
    con = connect(root)
    try:
        total, unique = con.execute(
            "SELECT count(*), count(DISTINCT src_ip) FROM events"
        ).fetchone() or (0, 0)
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
    finally:
        con.close()
    return {
        "events": total,
        "unique_src_ips": unique,
        "per_application": per_app,
        "per_family": per_family,
    }
