"""The dashboard's analyses: each a function from the store (and the operation) to JSON data.

They call the rooms that own the figures (``population.report`` for the counts and
the machine estimate, ``store.summary`` for what `sinkhole stats` prints,
``plan.compute`` for the names held per day, the notification ledger), so the
dashboard shows the numbers the CLI prints. :mod:`sinkhole.web.board` runs them in
the background.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sinkhole import attribution, population
from sinkhole.events import export, store
from sinkhole.exceptions import SinkholeError

#: Bot contacts, as population counts them (resolvers relaying lookups left out).
CONTACTS = "(application <> 'dns' OR channel = 'dns-servers')"
#: Networks listed at most (the rest are summed into one row).
NETWORKS_MAX = 5000
#: Hours of time series kept (older hours are summed per day).
SERIES_HOURS = 24 * 62
#: Gap names listed at most.
GAP_NAMES_MAX = 100
#: The Impact page's state when the dashboard was given no mail.
NO_MAIL = "no mail logs given (sinkhole dashboard --mail FILE…)"
#: Columns the event explorer shows.
EVENT_COLUMNS = (
    "timestamp",
    "application",
    "src_ip",
    "src_port",
    "dst_port",
    "family",
    "channel",
    "bot_id",
    "dns_qname",
    "dns_rcode",
    "http_method",
    "http_url",
    "http_agent",
    "ssl_servername",
    "tag",
)


class DashboardError(SinkholeError):
    """A dashboard request or analysis could not be answered."""


@dataclass
class Sources:
    """Where the dashboard reads from."""

    data_dir: Path
    operation_path: Path | None = None
    notify_dir: Path | None = None
    datasets: list[Path | str] = field(default_factory=list)
    #: The impact page's mail logs and spam traps, and how `sinkhole impact` would read them.
    mail: list[Path] = field(default_factory=list)
    takedown: dt.datetime | None = None
    tolerance_hours: float = 12.0
    mail_timezone: str = "UTC"


@dataclass
class Context:
    """One round of analyses: the sources, the attribution, and what earlier steps found."""

    sources: Sources
    networks: attribution.Attributor
    memo: dict[str, Any]
    report: population.Report | None = None


def summary(ctx: Context) -> dict[str, Any]:
    """Population's counts and estimates, and the store totals `sinkhole stats` prints."""
    root = ctx.sources.data_dir
    ctx.report = population.report(root, "duckdb", ctx.networks)
    rep = ctx.report.as_dict()
    return {
        "events": rep["events"],
        "unique_ips": rep["unique_ips"],
        "checkins": rep["checkins"],
        "bot_ids": rep["bot_ids"],
        "machines": rep["machines"],
        "machine_days": rep["machine_days"],
        "online_at_peak": rep["online_at_peak"],
        "interval_seconds": rep["interval_seconds"],
        "fixed_ratio": rep["fixed_ratio"],
        "nat": rep["nat"],
        "first_seen": rep["first"],
        "last_seen": rep["last"],
        "per_channel": rep["per_channel"],
        "per_family": rep["per_family"],
        "store": store.summary(root),
    }


def series(ctx: Context) -> dict[str, Any]:
    """Contacts per hour and channel, unique addresses per hour and per day."""
    root = ctx.sources.data_dir
    rep = ctx.report

    def work(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
        return con.execute(
            "SELECT date_trunc('hour', timestamp) AS hour, coalesce(channel, '(none)'), count(*) "
            f"FROM events WHERE {CONTACTS} GROUP BY ALL ORDER BY 1"
        ).fetchall()

    rows = store.query(root, work)
    hours = sorted({r[0] for r in rows})[-SERIES_HOURS:]
    index = {h: i for i, h in enumerate(hours)}
    channels: dict[str, list[int]] = {}
    for hour, channel, count in rows:
        if hour in index:
            channels.setdefault(str(channel), [0] * len(hours))[index[hour]] = int(count)
    unique = {r["hour"]: r["unique_ips"] for r in (rep.per_hour if rep else [])}
    hour_text = [_iso(h) for h in hours]
    return {
        "hours": hour_text,
        "contacts_per_channel": channels,
        "unique_ips_per_hour": [unique.get(h) for h in hour_text],
        "per_day": rep.per_day if rep else [],
        "active_per_day": rep.active_per_day if rep else [],
    }


def networks(ctx: Context) -> dict[str, Any]:
    """Per network (ASN) and per country: unique addresses, contacts, first and last seen."""
    root = ctx.sources.data_dir

    def work(con: duckdb.DuckDBPyConnection) -> pa.Table:
        return con.sql(
            "SELECT src_ip, count(*) AS events, min(timestamp) AS first, max(timestamp) AS last "
            f"FROM events WHERE {CONTACTS} AND src_ip IS NOT NULL GROUP BY src_ip"
        ).to_arrow_table()

    per_ip = store.query(root, work)
    found = ctx.networks.attribute(per_ip["src_ip"]).table
    joined = pa.table(
        {
            "asn": found["asn"],
            "as_name": found["as_name"],
            "country": found["country"],
            "abuse_contact": found["abuse_contact"],
            "src_ip": per_ip["src_ip"],
            "events": per_ip["events"],
            "first": per_ip["first"],
            "last": per_ip["last"],
        }
    )
    ids = {n["asn"]: n["bot_ids"] for n in (ctx.report.per_network if ctx.report else [])}
    keys = ["asn", "as_name", "country", "abuse_contact"]
    grouped = joined.group_by(keys, use_threads=False).aggregate(
        [("src_ip", "count"), ("events", "sum"), ("first", "min"), ("last", "max")]
    )
    nets = [
        {
            "asn": r["asn"],
            "as_name": r["as_name"] or "(unattributed)",
            "country": r["country"] or "",
            "abuse_contact": r["abuse_contact"] or "",
            "unique_ips": int(r["src_ip_count"]),
            "bot_ids": int(ids.get(r["asn"], 0)),
            "events": int(r["events_sum"]),
            "first_seen": _iso(r["first_min"]),
            "last_seen": _iso(r["last_max"]),
        }
        for r in grouped.to_pylist()
    ]
    nets.sort(key=lambda n: (-n["unique_ips"], str(n["asn"])))
    countries: dict[str, dict[str, Any]] = {}
    for net in nets:
        code = net["country"] or "??"
        row = countries.setdefault(
            code,
            {
                "country": code,
                "numeric": _numeric(code),
                "name": _name(code),
                "unique_ips": 0,
                "events": 0,
                "networks": 0,
            },
        )
        row["unique_ips"] += net["unique_ips"]
        row["events"] += net["events"]
        row["networks"] += 1
    return {
        "networks": nets[:NETWORKS_MAX],
        "networks_total": len(nets),
        "countries": sorted(countries.values(), key=lambda c: (-c["unique_ips"], c["country"])),
    }


def networks_csv(data: dict[str, Any]) -> str:
    """The networks table as CSV (what the page exports)."""
    columns = (
        "asn",
        "as_name",
        "country",
        "abuse_contact",
        "unique_ips",
        "bot_ids",
        "events",
        "first_seen",
        "last_seen",
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in data.get("networks", []):
        writer.writerow({k: _csv_text(row.get(k)) for k in columns})
    return buffer.getvalue()


def _csv_text(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: AS names and contacts come from outside data,
    and one starting with = + - @ would otherwise run as a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(export.FORMULA_STARTS):
        return "'" + value
    return value


_PLAN_LOCK = threading.Lock()


def coverage(ctx: Context) -> dict[str, Any]:
    """Names held per day against what the sinkhole saw, and the gaps it shows."""
    from sinkhole import operation
    from sinkhole import plan as plan_mod

    path = ctx.sources.operation_path
    if path is None:
        return {"available": False, "reason": "no operation file given"}
    key = (str(path), path.stat().st_mtime_ns)
    with _PLAN_LOCK:
        if ctx.memo.get("plan_key") != key:
            ctx.memo["plan"] = plan_mod.compute(operation.load(path))
            ctx.memo["plan_key"] = key
        plan = ctx.memo["plan"]

    def work(con: duckdb.DuckDBPyConnection) -> tuple[list[Any], list[Any]]:
        days = con.execute(
            "SELECT CAST(timestamp AS DATE) AS day, count(*), "
            "count(*) FILTER (WHERE application = 'dns'), "
            "count(DISTINCT dns_qname) FILTER (WHERE application = 'dns' AND dns_rcode = 0), "
            "count(*) FILTER (WHERE tag = 'dga-unplanned'), "
            "count(DISTINCT dns_qname) FILTER (WHERE tag = 'dga-unplanned'), "
            "count(*) FILTER (WHERE application <> 'dns') "
            "FROM events GROUP BY 1 ORDER BY 1"
        ).fetchall()
        names = con.execute(
            "SELECT dns_qname, any_value(family), count(*), min(timestamp), max(timestamp) "
            "FROM events WHERE tag = 'dga-unplanned' GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT ?",
            [GAP_NAMES_MAX],
        ).fetchall()
        return days, names

    seen_days, gap_names = store.query(ctx.sources.data_dir, work)
    seen = {row[0]: row for row in seen_days}
    held = dict(plan.per_day())
    all_days = sorted(set(held) | set(seen))
    per_day = []
    for day in all_days:
        row = seen.get(day, (day, 0, 0, 0, 0, 0, 0))
        per_day.append(
            {
                "day": day.isoformat(),
                "held": held.get(day),
                "events": int(row[1]),
                "dns_queries": int(row[2]),
                "names_answered": int(row[3]),
                "unplanned_queries": int(row[4]),
                "unplanned_names": int(row[5]),
                "checkins": int(row[6]),
            }
        )
    gaps = [
        {"kind": f.kind, "family": f.family, "subject": f.subject, "detail": f.detail}
        for f in (*plan.unseizable, *plan.gaps)
    ]
    seen_list = sorted(seen)
    if seen_list:
        first, last = seen_list[0], seen_list[-1]
        silent = [
            d
            for d in (first + dt.timedelta(n) for n in range((last - first).days))
            if d not in seen
        ]
        for day in silent:
            gaps.append(
                {
                    "kind": "silent-day",
                    "family": "",
                    "subject": day.isoformat(),
                    "detail": "no event at all that day, between days with events: "
                    "a sinkhole outage, or names lost",
                }
            )
        after = [d for d in seen_list if d > plan.end]
        if after:
            gaps.append(
                {
                    "kind": "after-hold",
                    "family": "",
                    "subject": after[0].isoformat(),
                    "detail": f"bots still reached the sinkhole on {len(after)} day(s) "
                    f"after the plan's last held day {plan.end.isoformat()}",
                }
            )
    return {
        "available": True,
        "window": {"start": plan.start.isoformat(), "end": plan.end.isoformat()},
        "domains": len(plan.domains),
        "addresses": len(plan.addresses),
        "per_day": per_day,
        "gaps": gaps,
        "unplanned_names": [
            {"name": n, "family": f, "queries": int(c), "first_seen": _iso(a), "last_seen": _iso(b)}
            for n, f, c, a, b in gap_names
        ],
    }


def notifications(ctx: Context) -> dict[str, Any]:
    """The notification ledger's states, and its latest reports."""
    from sinkhole.notify import ledger

    folder = ctx.sources.notify_dir
    if folder is None:
        return {"available": False, "reason": "no notification folder given (--notify DIR)"}
    if not (folder / ledger.FILE).is_file():
        return {"available": False, "reason": f"no notification ledger in {folder} yet"}
    with ledger.Ledger(folder, create=False) as book:
        entries = book.entries()
        totals = book.totals()
    latest = sorted(entries, key=lambda e: e.updated, reverse=True)[:50]
    return {
        "available": True,
        "reports": len(entries),
        "addresses": sum(e.addresses for e in entries),
        "per_state": totals,
        "latest": [
            {
                k: getattr(e, k)
                for k in (
                    "contact",
                    "recipient",
                    "first_day",
                    "last_day",
                    "addresses",
                    "state",
                    "attempts",
                    "updated",
                    "sent_at",
                )
            }
            for e in latest
        ],
    }


def listings(ctx: Context) -> dict[str, Any]:
    """The blocklist's listed addresses per family and its serial, where a listing exists."""
    try:
        # imported by name: a build without the blocklist room still serves the rest
        policy = importlib.import_module("sinkhole.blocklist.policy")
        state = importlib.import_module("sinkhole.blocklist.state")
    except ImportError:
        return {"available": False, "reason": "this version has no blocklist"}
    root = ctx.sources.data_dir
    if not Path(state.db_path(root)).is_file():
        return {"available": False, "reason": "no listing for this store (sinkhole blocklist)"}
    per_family = {str(k): int(v) for k, v in policy.families_in(root).items()}
    return {
        "available": True,
        "listed": sum(per_family.values()),
        "per_family": per_family,
        "serial": int(state.serial(root)),
    }


def mail_marks(paths: list[Path]) -> tuple[Any, ...]:
    """What changes when a mail input changes: each file's (or Maildir's) size and time."""
    marks: list[Any] = []
    for path in paths:
        for part in (path, path / "new", path / "cur") if path.is_dir() else (path,):
            try:
                info = part.stat()
            except OSError:
                marks.append((str(part), None))
                continue
            marks.append((str(part), info.st_size, info.st_mtime_ns))
    return tuple(marks)


def impact(ctx: Context) -> dict[str, Any]:
    """The mail from bot addresses before and after the takedown: `sinkhole impact`'s report."""
    from sinkhole import impact as impact_room
    from sinkhole import operation

    src = ctx.sources
    if not src.mail:
        return {"available": False, "reason": NO_MAIL}
    targets: list[str] = []
    takedown = src.takedown
    if src.operation_path is not None:
        op = operation.load(src.operation_path)
        targets = [t.family for t in op.targets]
        if takedown is None:
            takedown = dt.datetime.combine(op.operation.start, dt.time(), dt.UTC)
    if takedown is None:
        raise DashboardError("the impact page needs --takedown TIME (or an operation file)")
    # reading a large log takes a while: read again only when a file (or the takedown) changed
    key = (mail_marks(src.mail), takedown, src.mail_timezone)
    if ctx.memo.get("mail_key") != key:
        ctx.memo.pop("mail", None)
        ctx.memo.pop("mail_key", None)
        ctx.memo["mail"] = impact_room.read(src.mail, takedown, src.mail_timezone)
        ctx.memo["mail_key"] = key
    report = impact_room.analyse(
        ctx.memo["mail"], src.data_dir, takedown, targets, ctx.networks, src.tolerance_hours
    )
    return {"available": True, "targets": targets, **report.as_dict()}


#: The analyses, in the order they run (summary first: the others reuse its report).
ANALYSES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "summary": summary,
    "series": series,
    "networks": networks,
    "coverage": coverage,
    "notifications": notifications,
    "listings": listings,
    "impact": impact,
}


def today(root: Path) -> dict[str, Any]:
    """Today's (UTC) events and unique bot addresses, and the last hour's contacts per minute."""
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date(), dt.time(), dt.UTC)
    hour_ago = (now - dt.timedelta(hours=1)).replace(second=0, microsecond=0)

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        events, contacts, unique = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {CONTACTS}), "
            f"count(DISTINCT src_ip) FILTER (WHERE {CONTACTS}) FROM events WHERE timestamp >= ?",
            [midnight],
        ).fetchone() or (0, 0, 0)
        minutes = con.execute(
            "SELECT date_trunc('minute', timestamp), count(*) FROM events "
            f"WHERE timestamp >= ? AND {CONTACTS} GROUP BY 1 ORDER BY 1",
            [hour_ago],
        ).fetchall()
        return {
            "day": now.date().isoformat(),
            "events": int(events),
            "contacts": int(contacts),
            "unique_ips": int(unique),
            "per_minute": [[_iso(m), int(c)] for m, c in minutes],
        }

    return store.query(root, work)


@dataclass(frozen=True)
class EventQuery:
    """One page of the event explorer."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    family: str | None = None
    application: str | None = None
    src_ip: str | None = None
    channel: str | None = None
    limit: int = 100
    offset: int = 0


def event_page(root: Path, query: EventQuery, page_max: int, offset_max: int) -> dict[str, Any]:
    """The newest events matching `query`: at most `page_max` rows from `offset` on."""
    if not 1 <= query.limit <= page_max:
        raise DashboardError(f"limit {query.limit}: expected 1 to {page_max}")
    if not 0 <= query.offset <= offset_max:
        raise DashboardError(f"offset {query.offset}: expected 0 to {offset_max}")
    flt = store.Filter(
        query.since, query.until, query.family, query.application, query.src_ip
    ).check()
    clauses, params = [], []
    for column, value in (
        ("timestamp >= ?", flt.since),
        ("timestamp < ?", flt.until),
        ("family = ?", flt.family),
        ("application = ?", flt.application),
        ("src_ip = ?", flt.src_ip),
        ("channel = ?", query.channel),
    ):
        if value is not None:
            clauses.append(column)
            params.append(value)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = (
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM events{where} "
        f"ORDER BY timestamp DESC LIMIT {query.limit + 1} OFFSET {query.offset}"
    )

    def work(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
        return con.execute(sql, params).fetchall()

    rows = store.query(root, work)
    return {
        "columns": list(EVENT_COLUMNS),
        "rows": [[_cell(v) for v in row] for row in rows[: query.limit]],
        "offset": query.offset,
        "limit": query.limit,
        "more": len(rows) > query.limit,
    }


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _iso(value)
    return value


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    return str(value)


@cache
def _country_codes() -> dict[str, tuple[str, str]]:
    """Alpha-2 -> (numeric, name): the bundled ISO 3166 table and the world shapes' names."""
    vendor = files("sinkhole.web").joinpath("static/vendor")
    codes = json.loads(vendor.joinpath("iso-country-codes.json").read_text(encoding="utf-8"))
    world = json.loads(vendor.joinpath("countries-110m.json").read_text(encoding="utf-8"))
    names = {
        g.get("id"): g.get("properties", {}).get("name", "")
        for g in world["objects"]["countries"]["geometries"]
    }
    return {row[0]: (row[2], names.get(row[2], row[0])) for row in codes}


def _numeric(alpha2: str) -> str | None:
    found = _country_codes().get(alpha2.upper())
    return found[0] if found else None


def _name(alpha2: str) -> str:
    found = _country_codes().get(alpha2.upper())
    return found[1] if found else ("unattributed" if alpha2 == "??" else alpha2)
