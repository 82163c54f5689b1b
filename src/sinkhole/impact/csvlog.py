"""A generic CSV of mail events: a time column and a client address column, with a header.

Column names are matched case-insensitively: the time is ``time``,
``timestamp``, ``date``, ``datetime``, ``received`` or ``ts``; the address is
``ip``, ``client_ip``, ``client``, ``src_ip``, ``source_ip``, ``sender_ip`` or
``address``. Times are ISO 8601 (with a zone, or in the given zone) or epoch
seconds. Delimiters ``,``, ``;``, tab and ``|`` are recognised. Each row is one
message. Rows with a time that cannot be read are malformed.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import duckdb

from sinkhole.impact import mta
from sinkhole.impact.errors import ImpactError

TIME_NAMES = ("time", "timestamp", "date", "datetime", "received", "ts")
IP_NAMES = ("ip", "client_ip", "client", "src_ip", "source_ip", "sender_ip", "address")
DELIMITERS = ",;\t|"

_names = itertools.count()


def columns(header: str) -> tuple[str, str] | None:
    """(time column, address column) when `header` is a CSV header naming both."""
    for delimiter in DELIMITERS:
        if delimiter not in header:
            continue
        names = next(csv.reader([header], delimiter=delimiter))
        lowered = {n.strip().lower(): n.strip() for n in names}
        time = next((lowered[n] for n in TIME_NAMES if n in lowered), None)
        ip = next((lowered[n] for n in IP_NAMES if n in lowered), None)
        if time is not None and ip is not None:
            return time, ip
    return None


def read(
    con: duckdb.DuckDBPyConnection, path: Path, names: tuple[str, str], gzipped: bool
) -> mta.Scan:
    """Count the rows of a CSV per client address and second."""
    number = next(_names)
    rejects, scans = f"impact_csv_rejects_{number}", f"impact_csv_scans_{number}"
    time, ip = (mta.literal(n) for n in names)
    source = (
        f"read_csv({mta.literal(str(path))}, header = true, all_varchar = true, "
        "ignore_errors = true, store_rejects = true, "
        f"rejects_table = '{rejects}', rejects_scan = '{scans}', "
        f"compression = '{'gzip' if gzipped else 'none'}')"
    )
    iso = r"regexp_replace(trim(t), ' ?([+-]\d\d):?(\d\d)$', '\1:\2')"
    when = (
        r"CASE WHEN regexp_full_match(trim(t), '\d+(\.\d+)?') THEN to_timestamp(t::DOUBLE) "
        f"ELSE try_cast({iso} AS TIMESTAMPTZ) END"
    )
    query = f"""
        WITH raw AS (SELECT columns({time}) AS t, columns({ip}) AS ip FROM {source}),
        timed AS (SELECT t, trim(ip) AS ip, {when} AS w FROM raw),
        judged AS (SELECT *, w IS NULL OR ip IS NULL OR ip = '' AS bad FROM timed)
        SELECT CASE WHEN bad THEN NULL ELSE ip END AS ip,
               CASE WHEN bad THEN NULL ELSE epoch_ms(w) // 1000 END AS second,
               CASE WHEN bad THEN NULL ELSE 'message' END AS kind,
               count(*) AS n, count(*) FILTER (WHERE bad) AS bad,
               min(coalesce(t, '') || ',' || coalesce(ip, '')) FILTER (WHERE bad) AS first_bad,
               max(coalesce(t, '') || ',' || coalesce(ip, '')) FILTER (WHERE bad) AS last_bad
        FROM judged GROUP BY ALL
    """
    try:
        result = con.sql(query).to_arrow_table()
        rejected = con.execute(
            f"SELECT count(*), min(csv_line), max(csv_line), "
            f"string_agg(DISTINCT lower(error_type), ', ') FROM {rejects}"
        ).fetchone()
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())[:200]
        raise ImpactError(f"{path}: cannot read it as CSV ({message})") from None
    return mta.finish(result, rejected)
