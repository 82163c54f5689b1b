"""What the MTA log parsers share: timestamps, the line scan in DuckDB, the year inference.

An MTA log is read by DuckDB as a one-column CSV (a delimiter and quote that
never split a log line), so the file streams through in parallel blocks,
gzipped or not, and is never whole in memory. One RE2 expression per format,
anchored at the start of the line, takes the timestamp, then one of the
format's events (accepted message, rejected message, connection) with the
client address; lines without a keyword of the format skip the expression.
The result is grouped by (client address, second, kind) as it goes.

Timestamps: classic syslog (``Dec  7 10:15:01``, no year, no zone), RFC 3339 /
ISO 8601 as rsyslog's high-precision format writes them, RFC 5424
(``<22>1 2026-12-07T10:15:01.003Z host app procid msgid sd msg``), and Exim's
own ``2026-12-07 10:15:01`` (``+0100`` after it with log_timezone). Times
without a zone are read in the given zone (UTC by default). A classic syslog
time gets the year that puts it nearest the reference time (the takedown):
within half a year either side, so a December line in a log read against a
January takedown is last year's.
The file's modification time is not used: copies and decompression change it.

Malformed lines are counted and a few kept as examples: lines that are not
text (invalid UTF-8), lines without a timestamp of the format at their start,
event lines whose time does not exist (``Feb 30``), and (checked afterwards,
see :mod:`.ingest`) client addresses that are not addresses.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sinkhole.impact.errors import ImpactError

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Classic syslog (groups: month, day, hour, minute, second) or RFC 3339 / Exim's own
#: (group: iso, its zone optional), optionally behind an RFC 5424 priority and version.
SYSLOG_TIME = (
    r"(?:<\d{1,3}>\d{1,2} )?"
    r"(?:(" + "|".join(MONTHS) + r") {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.\d+)?"
    r"|(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z| ?[+-]\d\d:?\d\d)?))"
)
#: An address in brackets, as MTAs log it (IPv4, IPv6, Sendmail's `IPv6:` tag).
ADDRESS = r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]"

#: The event kinds: an accepted message, a rejected one, a connection.
KINDS = ("message", "reject", "connect")
#: What the parsers hand on: per client address, second (epoch seconds) and kind, a count.
SCHEMA = pa.schema(
    [("ip", pa.string()), ("second", pa.int64()), ("kind", pa.string()), ("n", pa.int64())]
)

#: Half a year: the window either side of the reference time a year-less time falls in.
HALF_YEAR_DAYS = 183


def program(names: str) -> str:
    """The syslog tag of a program (`postfix/smtpd[123]: `, RFC 5424's `app procid msgid sd `)."""
    return (
        r"(?:\S*/)?(?:" + names + r")(?:/[\w.-]+)*"
        r"(?:(?:\[\d+\])?: | \S+ \S+ (?:-|(?:\[[^\]]*\])+) (?:\x{FEFF})?)"
    )


@dataclass(frozen=True)
class Event:
    """One kind of line the log holds: the keywords that mark it and how the address is read."""

    kind: str
    #: the line holds this event only if it contains one of these (cheap, tried first)
    keywords: tuple[str, ...]
    #: RE2 with one group, the client address; it follows the head directly
    pattern: str


@dataclass(frozen=True)
class Format:
    """One MTA's log: how its lines start and the events it records."""

    name: str
    #: RE2, anchored by the scan, that leads up to an event (SYSLOG_TIME first)
    head: str
    #: tried in order
    events: tuple[Event, ...]
    #: Python regex that tells this format's lines apart (format detection)
    taste: re.Pattern[str]

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every event's keywords."""
        return tuple(k for event in self.events for k in event.keywords)


@dataclass
class Scan:
    """The events of one file and what was wrong with it."""

    table: pa.Table
    lines: int
    malformed: int
    examples: list[str]


_names = itertools.count()


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _time_sql(reference: dt.datetime) -> str:
    """SQL for the event's time (TIMESTAMPTZ; zone-less times in the session's zone)."""
    month = f"list_position([{', '.join(literal(m) for m in MONTHS)}], s.mon)"
    # the year nearest the reference: compare month/day positions (31-day months are
    # close enough half a year away from the reference)
    ref_pos = (reference.month - 1) * 31 + reference.day
    pos = f"(({month} - 1) * 31 + s.day::INTEGER)"
    year = (
        f"({reference.year} - CASE WHEN {pos} - {ref_pos} > {HALF_YEAR_DAYS} THEN 1 "
        f"WHEN {ref_pos} - {pos} > {HALF_YEAR_DAYS} THEN -1 ELSE 0 END)"
    )
    syslog = (
        f"try(make_timestamp({year}, {month}, s.day::INTEGER, s.hh::INTEGER, s.mi::INTEGER, "
        "s.ss::DOUBLE))::TIMESTAMPTZ"
    )
    # `+0100` and ` +01:00` as DuckDB reads them (`+01:00`); `Z` and no zone stay
    iso = r"regexp_replace(s.iso, ' ?([+-]\d\d):?(\d\d)$', '\1:\2')"
    return f"CASE WHEN s.mon <> '' THEN {syslog} ELSE try_cast({iso} AS TIMESTAMPTZ) END"


def _any(keywords: tuple[str, ...]) -> str:
    """SQL: the line contains one of the keywords."""
    return "(" + " OR ".join(f"contains(line, {literal(k)})" for k in keywords) + ")"


def scan(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: Format,
    gzipped: bool,
    reference: dt.datetime,
) -> Scan:
    """Read the events of one MTA log file (see the module docstring)."""
    number = next(_names)
    rejects, scans = f"impact_rejects_{number}", f"impact_scans_{number}"
    # the whole line's shape is checked by RE2's automaton (no captures: fast); the time
    # and the address are then taken by short expressions that capture little
    full = "^(?:" + fmt.head + ")(?:" + "|".join(f"(?:{e.pattern})" for e in fmt.events) + ")"
    groups = ", ".join(map(literal, ("mon", "day", "hh", "mi", "ss", "iso")))
    found = [
        f"CASE WHEN {_any(e.keywords)} THEN nullif(regexp_extract(line, {literal(e.pattern)}, 1), "
        "'') END"
        for e in fmt.events
    ]
    kind = (
        "CASE "
        + " ".join(f"WHEN ip{i} IS NOT NULL THEN '{e.kind}'" for i, e in enumerate(fmt.events))
        + " END"
    )
    per_event = ", ".join(f"CASE WHEN ev THEN {f} END AS ip{i}" for i, f in enumerate(found))
    source = (
        f"read_csv({literal(str(path))}, columns = {{'line': 'VARCHAR'}}, delim = '\\x01', "
        "quote = '', escape = '', header = false, auto_detect = false, strict_mode = false, "
        "ignore_errors = true, store_rejects = true, "
        f"rejects_table = '{rejects}', rejects_scan = '{scans}', max_line_size = 1048576, "
        f"compression = '{'gzip' if gzipped else 'none'}')"
    )
    query = f"""
        WITH raw AS (SELECT line FROM {source} WHERE line IS NOT NULL AND line <> ''),
        hit AS (
            SELECT line, CASE WHEN {_any(fmt.keywords)}
                THEN regexp_matches(line, {literal(full)}) ELSE false END AS ev
            FROM raw
        ),
        found AS (
            SELECT line, ev,
                CASE WHEN ev THEN regexp_extract(line, {literal("^" + SYSLOG_TIME)}, [{groups}])
                END AS s,
                {per_event}
            FROM hit
        ),
        timed AS (
            SELECT line, ev, coalesce({", ".join(f"ip{i}" for i in range(len(fmt.events)))}) AS ip,
                {kind} AS kind, CASE WHEN ev THEN {_time_sql(reference)} END AS t
            FROM found
        ),
        judged AS (
            SELECT line, ip, kind, t,
                CASE WHEN ev THEN t IS NULL OR ip IS NULL
                     ELSE NOT regexp_matches(line, {literal("^" + SYSLOG_TIME + " ")}) END AS bad
            FROM timed
        )
        SELECT CASE WHEN bad THEN NULL ELSE ip END AS ip,
               CASE WHEN bad THEN NULL ELSE epoch_ms(t) // 1000 END AS second,
               CASE WHEN bad THEN NULL ELSE kind END AS kind,
               count(*) AS n,
               count(*) FILTER (WHERE bad) AS bad,
               min(line) FILTER (WHERE bad) AS first_bad,
               max(line) FILTER (WHERE bad) AS last_bad
        FROM judged GROUP BY ALL
    """
    try:
        result = con.sql(query).to_arrow_table()
        rejected = con.execute(
            f"SELECT count(*), min(csv_line), max(csv_line), "
            f"string_agg(DISTINCT lower(error_type), ', ') FROM {rejects}"
        ).fetchone()
        con.execute(f"DROP TABLE IF EXISTS {rejects}; DROP TABLE IF EXISTS {scans}")
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())[:200]
        raise ImpactError(f"{path}: cannot read it as a {fmt.name} log ({message})") from None
    return finish(result, rejected)


def finish(result: pa.Table, rejected: tuple[Any, ...] | None) -> Scan:
    """A Scan from the grouped rows (ip, second, kind, n, bad, first_bad, last_bad) and the
    reader's (count, example, example, why) of lines it could not read (not UTF-8, too long)."""
    lines = int(pc.sum(result["n"]).as_py() or 0)
    malformed = int(pc.sum(result["bad"]).as_py() or 0)
    examples: list[str] = []
    with_bad = result.filter(pc.is_valid(result["first_bad"]))
    for first, last in zip(
        with_bad["first_bad"].to_pylist(), with_bad["last_bad"].to_pylist(), strict=True
    ):
        for example in (first, last):
            if example not in examples:
                examples.append(example)
    bad_text = int(rejected[0]) if rejected else 0
    if bad_text and rejected is not None:
        lines += bad_text
        malformed += bad_text
        why = rejected[3] if len(rejected) > 3 and rejected[3] else "not readable as text"
        examples.append(f"({why}) {rejected[1]!s:.200}")
    events = result.filter(pc.is_valid(result["kind"])).select(["ip", "second", "kind", "n"])
    return Scan(events.cast(SCHEMA), lines, malformed, [e[:300] for e in examples[:3]])
