"""Before and after: the mail from bot addresses against all mail, around the takedown.

A message counts as a bot's when its client address was seen at the sinkhole
(an event from the bot itself: not a lookup relayed by an ISP resolver)
within ``tolerance`` hours of the message, before or after. Addresses churn:
a bot's address today may be someone else's tomorrow, so the tolerance is
kept short (12 hours by default: half the commonest lease of addresses that
are renumbered daily). Each family seen at the sinkhole is tried, so a
message is attributed to the families whose bots used its address then; the
target family's share is the share of messages from the operation's targets.

Rates are per hour over the spans the mail covers: from its first second to
the takedown (before) and from the takedown to its last second (after);
hours without mail count as hours with none. ``drop`` is the relative fall
of the bots' messages per hour. After the takedown, the bots' share per day
is watched: when it rises again well above its low (the botnet found another
way to its spammers, as Mega-D did within weeks in 2009), the report warns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sinkhole import attribution
from sinkhole.blocklist import state
from sinkhole.blocklist.state import BlocklistError
from sinkhole.events import store
from sinkhole.impact.errors import ImpactError
from sinkhole.impact.ingest import Mail, analysis_connection

#: Hours either side of a sinkhole sighting in which mail from the address is a bot's.
TOLERANCE_HOURS = 12.0
#: A day after the takedown whose bots' share is this many times its low, and has risen
#: by this fraction of the fall, warns of a recovery.
RECOVERY_FACTOR = 2.0
RECOVERY_PART = 0.25
#: Bot messages a day needs before its share can raise the warning.
RECOVERY_MIN_MESSAGES = 20
#: Networks listed in the report.
TOP_NETWORKS = 12
#: The kinds that are messages (accepted or refused); connections are counted apart.
MESSAGE_KINDS = ("message", "reject")


@dataclass
class Report:
    """Everything `sinkhole impact` prints."""

    messages: int
    bot_messages: int
    family_messages: int
    listed_messages: int
    unit: str
    takedown: str
    tolerance_hours: float
    before: dict[str, Any]
    after: dict[str, Any]
    drop: float | None
    all_drop: float | None
    connections: int = 0
    per_family: dict[str, int] = field(default_factory=dict)
    per_network: list[dict[str, Any]] = field(default_factory=list)
    per_hour: list[dict[str, Any]] = field(default_factory=list)
    recovery: dict[str, Any] = field(default_factory=dict)
    blocklist: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON report."""
        return dict(vars(self))


def _listing(con: duckdb.DuckDBPyConnection, root: Path) -> str:
    """Table `listed` (ip): the addresses the store's blocklist lists now; returns what was
    joined, or why nothing was (no listing built yet)."""
    try:
        with state.connect(Path(root)) as db:
            ips = [row[0] for row in db.execute("SELECT ip FROM listing")]
    except BlocklistError as exc:
        con.execute("CREATE TEMP TABLE listed (ip VARCHAR)")
        return f"not joined: {exc.message}"
    con.register("listing_in", pa.table({"ip": pa.array(ips, pa.string())}))
    con.execute("CREATE TEMP TABLE listed AS SELECT DISTINCT ip FROM listing_in")
    return f"joined: {len(ips):,} addresses listed now"


def _sightings(con: duckdb.DuckDBPyConnection, root: Path, tolerance_seconds: int) -> None:
    """Table `seen`: (ip, family, lo) per hour an address reached the sinkhole (lo: the
    hour's first second), for the mail's addresses and time span (with the tolerance)."""
    files = store.segments(Path(root)).parquet if Path(root).exists() else []
    if not files:
        raise ImpactError(f"no events under {root} (closed Parquet segments are read)")
    listed = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    con.execute(
        f"""
        CREATE TEMP TABLE seen AS
        SELECT src_ip AS ip, coalesce(family, '(unknown)') AS family,
               (epoch_ms(timestamp) // 3600000) * 3600 AS lo
        FROM read_parquet({listed})
        WHERE (application <> 'dns' OR channel = 'dns-servers')
          AND timestamp >= (SELECT to_timestamp(min(second) - {tolerance_seconds} - 3600) FROM mail)
          AND timestamp <= (SELECT to_timestamp(max(second) + {tolerance_seconds} + 3600) FROM mail)
          AND src_ip IN (SELECT DISTINCT ip FROM mail)
        GROUP BY ALL
        """
    )


def _matched(con: duckdb.DuckDBPyConnection, tolerance_seconds: int, targets: list[str]) -> None:
    """Table `judged`: the mail rows with bot (any family), fam (a target family) and families.

    Each address's sighting hours, widened by the tolerance, are merged per family into
    islands (consecutive hours whose widened spans touch); a message is a family's when it
    falls in one of its address's islands. One hash join on the address, then the range.
    """
    tol = tolerance_seconds
    con.execute(
        f"""
        CREATE TEMP TABLE islands AS
        WITH gaps AS (
            SELECT ip, family, lo,
                   lo - lag(lo) OVER (PARTITION BY ip, family ORDER BY lo) AS gap
            FROM seen
        ),
        numbered AS (
            SELECT ip, family, lo,
                   sum(CASE WHEN gap IS NULL OR gap > 3600 + 2 * {tol} THEN 1 ELSE 0 END)
                       OVER (PARTITION BY ip, family ORDER BY lo) AS island
            FROM gaps
        )
        SELECT ip, family, min(lo) - {tol} AS lo, max(lo) + 3599 + {tol} AS hi
        FROM numbered GROUP BY ip, family, island
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE judged AS
        WITH hits AS (
            SELECT m.ip, m.second, m.kind, i.family
            FROM mail m JOIN islands i ON m.ip = i.ip AND m.second BETWEEN i.lo AND i.hi
        ),
        per AS (
            SELECT ip, second, kind,
                   bool_or(family IN (SELECT unnest(?::VARCHAR[]))) AS fam,
                   list(DISTINCT family ORDER BY family) AS families
            FROM hits GROUP BY ip, second, kind
        )
        SELECT m.ip, m.second, m.kind, m.n,
               m.ip IN (SELECT ip FROM listed) AS listed,
               p.families IS NOT NULL AS bot,
               coalesce(p.fam, false) AS fam,
               p.families
        FROM mail m LEFT JOIN per p ON m.ip = p.ip AND m.second = p.second AND m.kind = p.kind
        """,
        [targets],
    )


def _span(stats: dict[str, Any], hours: float) -> dict[str, Any]:
    if hours <= 0:
        return {
            "hours": 0.0,
            "messages": 0,
            "bot_messages": 0,
            "family_messages": 0,
            "listed_messages": 0,
            "per_hour": None,
            "bot_share": None,
            "family_share": None,
            "listed_share": None,
        }
    total, bots, fam = int(stats["all"] or 0), int(stats["bot"] or 0), int(stats["fam"] or 0)
    listed = int(stats["listed"] or 0)
    return {
        "hours": hours,
        "messages": total,
        "bot_messages": bots,
        "family_messages": fam,
        "listed_messages": listed,
        "per_hour": {
            "all": round(total / hours, 3),
            "bot": round(bots / hours, 3),
            "family": round(fam / hours, 3),
        },
        "bot_share": round(bots / total, 5) if total else None,
        "family_share": round(fam / total, 5) if total else None,
        "listed_share": round(listed / total, 5) if total else None,
    }


def _drop(before: dict[str, Any], after: dict[str, Any], key: str) -> float | None:
    """1 - (after's rate / before's rate), from the counts (the printed rates are rounded)."""
    count = {"all": "messages", "bot": "bot_messages", "family": "family_messages"}[key]
    if not before["hours"] or not after["hours"] or not before[count]:
        return None
    rate_before = float(before[count]) / float(before["hours"])
    rate_after = float(after[count]) / float(after["hours"])
    return round(1.0 - rate_after / rate_before, 4)


def recovery(per_day: list[dict[str, Any]], before_share: float | None) -> dict[str, Any]:
    """The bots' share per day after the takedown, and a warning when it rises again."""
    out: dict[str, Any] = {"per_day": per_day, "warning": None}
    low: float | None = None
    for day in per_day:
        share = day["bot_share"]
        if share is None:
            continue
        if low is not None and day["bot_messages"] >= RECOVERY_MIN_MESSAGES:
            fall = (before_share or share) - low
            if share >= RECOVERY_FACTOR * low and share - low >= RECOVERY_PART * max(fall, 0.0):
                out["warning"] = (
                    f"the bots' share rose again to {share:.1%} on day {day['day']} after the "
                    f"takedown, from a low of {low:.1%}: the botnet may be recovering"
                )
                break
        low = share if low is None else min(low, share)
    return out


def analyse(
    mail: Mail,
    root: Path,
    takedown: dt.datetime,
    targets: list[str],
    dataset: attribution.Attributor | None = None,
    tolerance_hours: float = TOLERANCE_HOURS,
) -> Report:
    """Join the mail with the sinkhole's sightings and compare before and after `takedown`."""
    if takedown.tzinfo is None:
        takedown = takedown.replace(tzinfo=dt.UTC)
    if not 0 <= tolerance_hours <= 24 * 30:
        raise ImpactError(f"--tolerance {tolerance_hours:g}: expected 0 to 720 hours")
    messages = mail.count(MESSAGE_KINDS)
    connections = mail.count(["connect"])
    if messages == 0 and connections == 0:
        raise ImpactError("no messages or connections in the mail given (see the files' notes)")
    unit = "messages" if messages else "connections"
    kinds = list(MESSAGE_KINDS) if messages else ["connect"]
    cut = int(takedown.timestamp())
    for attempt in range(2):
        try:
            return _joined(
                mail, root, takedown, cut, kinds, unit, targets, dataset, tolerance_hours
            )
        except duckdb.Error as exc:
            # a damaged segment is set aside (quarantined, not deleted) and the join run again
            if attempt == 0 and store.set_aside_unreadable(Path(root)):
                continue
            message = " ".join(str(exc).split())[:300]
            raise ImpactError(
                f"cannot join the mail with the events under {root}: {message}"
            ) from None
    raise AssertionError("unreachable")


def _joined(
    mail: Mail,
    root: Path,
    takedown: dt.datetime,
    cut: int,
    kinds: list[str],
    unit: str,
    targets: list[str],
    dataset: attribution.Attributor | None,
    tolerance_hours: float,
) -> Report:
    con = analysis_connection()
    try:
        con.register("mail_in", mail.table)
        con.execute(
            "CREATE TEMP TABLE mail AS SELECT ip, second, kind, sum(n)::BIGINT AS n "
            "FROM mail_in WHERE kind IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL",
            [kinds],
        )
        _sightings(con, root, round(tolerance_hours * 3600))
        listing = _listing(con, root)
        _matched(con, round(tolerance_hours * 3600), targets)
        return _report(con, mail, takedown, cut, unit, listing, dataset, tolerance_hours)
    finally:
        con.close()


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
    table = con.sql(query).to_arrow_table()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _report(
    con: duckdb.DuckDBPyConnection,
    mail: Mail,
    takedown: dt.datetime,
    cut: int,
    unit: str,
    listing: str,
    dataset: attribution.Attributor | None,
    tolerance_hours: float,
) -> Report:
    sums = (
        "sum(n) AS all, sum(n) FILTER (WHERE bot) AS bot, sum(n) FILTER (WHERE fam) AS fam, "
        "sum(n) FILTER (WHERE listed) AS listed"
    )
    whole = _rows(con, f"SELECT {sums}, min(second) AS first, max(second) AS last FROM judged")[0]
    sides = {
        r["side"]: r
        for r in _rows(con, f"SELECT second >= {cut} AS side, {sums} FROM judged GROUP BY side")
    }
    empty = {"all": 0, "bot": 0, "fam": 0, "listed": 0}
    first, last = int(whole["first"]), int(whole["last"]) + 1
    before = _span(sides.get(False, empty), (cut - first) / 3600.0 if cut > first else 0.0)
    after = _span(sides.get(True, empty), (last - cut) / 3600.0 if last > cut else 0.0)
    hours = _rows(
        con,
        f"SELECT second // 3600 AS hour, {sums} FROM judged GROUP BY hour ORDER BY hour",
    )
    per_hour = [
        {
            "hour": dt.datetime.fromtimestamp(int(r["hour"]) * 3600, dt.UTC).isoformat(),
            "messages": int(r["all"] or 0),
            "bot_messages": int(r["bot"] or 0),
            "family_messages": int(r["fam"] or 0),
        }
        for r in hours
    ]
    days = _rows(
        con,
        f"SELECT (second - {cut}) // 86400 AS day, {sums} FROM judged "
        f"WHERE second >= {cut} GROUP BY day ORDER BY day",
    )
    per_day = [
        {
            "day": int(r["day"]) + 1,
            "messages": int(r["all"] or 0),
            "bot_messages": int(r["bot"] or 0),
            "bot_share": round(int(r["bot"] or 0) / int(r["all"]), 5) if r["all"] else None,
        }
        for r in days
    ]
    families = _rows(
        con,
        "SELECT f AS family, sum(n) AS n FROM (SELECT unnest(families) AS f, n FROM judged "
        "WHERE bot) GROUP BY f ORDER BY n DESC, f",
    )
    report = Report(
        messages=int(whole["all"] or 0),
        bot_messages=int(whole["bot"] or 0),
        family_messages=int(whole["fam"] or 0),
        unit=unit,
        takedown=takedown.astimezone(dt.UTC).isoformat(),
        tolerance_hours=tolerance_hours,
        before=before,
        after=after,
        drop=_drop(before, after, "bot"),
        all_drop=_drop(before, after, "all"),
        connections=mail.count(["connect"]),
        per_family={str(r["family"]): int(r["n"]) for r in families},
        per_hour=per_hour,
        recovery=recovery(per_day, before["bot_share"]),
        listed_messages=int(whole["listed"] or 0),
        blocklist=listing,
        files=[f.as_dict() for f in mail.files],
    )
    report.per_network = _networks(con, cut, dataset or attribution.lab())
    if report.recovery["warning"]:
        report.warnings.append(report.recovery["warning"])
    if before["per_hour"] is None:
        report.warnings.append("the mail starts after the takedown: nothing to compare with")
    if after["per_hour"] is None:
        report.warnings.append("the mail ends before the takedown: nothing to compare with")
    malformed = sum(f.malformed for f in mail.files)
    if malformed:
        report.warnings.append(f"{malformed:,} malformed lines or messages skipped (see files)")
    return report


def _networks(
    con: duckdb.DuckDBPyConnection, cut: int, dataset: attribution.Attributor
) -> list[dict[str, Any]]:
    """Bot messages before and after per network (attributed by the datasets)."""
    per_ip = con.sql(
        f"SELECT ip, sum(n) FILTER (WHERE second < {cut}) AS b, "
        f"sum(n) FILTER (WHERE second >= {cut}) AS a FROM judged WHERE bot GROUP BY ip"
    ).to_arrow_table()
    if not per_ip.num_rows:
        return []
    found = dataset.attribute(per_ip["ip"]).table.select(["ip", "asn", "as_name", "country"])
    con.register("attributed", found)
    con.register("per_ip", per_ip)
    rows = _rows(
        con,
        "SELECT a.asn, any_value(a.as_name) AS network, any_value(a.country) AS country, "
        "coalesce(sum(p.b), 0) AS before, coalesce(sum(p.a), 0) AS after, "
        "count(*) AS addresses "
        "FROM per_ip p LEFT JOIN (SELECT DISTINCT * FROM attributed) a ON p.ip = a.ip "
        f"GROUP BY a.asn ORDER BY sum(p.b) + sum(p.a) DESC, a.asn LIMIT {TOP_NETWORKS}",
    )
    return [
        {
            "asn": r["asn"],
            "network": r["network"] or "(unattributed)",
            "country": r["country"] or "",
            "addresses": int(r["addresses"]),
            "before": int(r["before"]),
            "after": int(r["after"]),
        }
        for r in rows
    ]
