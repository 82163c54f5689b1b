"""Shadowserver's sinkhole report formats: the exact columns, in their published order.

CERT tooling (IntelMQ's Shadowserver parser, Shadowserver's own consumers) reads
these CSVs by header and by file name (``YYYY-MM-DD-<report>-<org>-<suffix>.csv``),
so a report holds every column of its type, in order, empty where we know
nothing. Our events map onto them by column selection (the store already uses
Shadowserver's names) plus attribution (``src_asn``, ``src_geo``, ``dst_asn``,
``dst_geo``) and a few renames:

- ``infection`` is the family (IntelMQ turns it into ``malware.name``);
- the DNS report has ``query``/``query_type`` (text, ``A``) and ``count``: one row
  per resolver, name, type and hour, with the first query's time and port;
- timestamps are ``YYYY-MM-DD HH:MM:SS`` in UTC;
- an IPv4 client seen on a dual-stack socket (``::ffff:a.b.c.d``) is reported as
  the IPv4 address it is.

Which events go where: DNS events to ``event4_sinkhole_dns`` (Shadowserver
publishes no IPv6 form of it; IPv6 resolvers are reported there too), HTTP
events to ``event4_sinkhole_http`` or ``event6_sinkhole_http``, TLS and raw
TCP/UDP events to ``event4_sinkhole`` or ``event6_sinkhole``, by the source's
address family. Column lists are from the published report schema
(The-Shadowserver-Foundation/report_schema).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

import dns.rdatatype
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sinkhole import duck
from sinkhole.exceptions import SinkholeError

if TYPE_CHECKING:
    from sinkhole.attribution import Attributor

_SOURCE = [
    "timestamp",
    "protocol",
    "src_ip",
    "src_port",
    "src_asn",
    "src_geo",
    "src_region",
    "src_city",
    "src_hostname",
    "src_naics",
    "src_sector",
    "device_vendor",
    "device_type",
    "device_model",
    "severity",
]
_DESTINATION = [
    "dst_ip",
    "dst_port",
    "dst_asn",
    "dst_geo",
    "dst_region",
    "dst_city",
    "dst_hostname",
    "dst_naics",
    "dst_sector",
    "public_source",
    "infection",
    "family",
    "tag",
    "application",
    "version",
    "event_id",
]
_EVENTS = [*_SOURCE, *_DESTINATION, "ssl_cipher", "ssl_servername"]
_HTTP = [
    *_SOURCE,
    *_DESTINATION,
    *[
        "http_url",
        "http_host",
        "http_agent",
        "forwarded_by",
        "ssl_cipher",
        "http_referer",
        "ssl_servername",
    ],
    "machine_name",
]
_DNS = [*_SOURCE, "infection", "family", "tag", "query_type", "query", "count"]

#: Report name -> its columns, in the published order.
REPORTS: dict[str, tuple[str, ...]] = {
    "event4_sinkhole": tuple(_EVENTS),
    "event6_sinkhole": tuple(_EVENTS),
    "event4_sinkhole_http": tuple(_HTTP),
    "event6_sinkhole_http": tuple(_HTTP),
    "event4_sinkhole_dns": tuple(_DNS),
}

#: Default severity per report, as Shadowserver publishes it (report_schema/severity.md).
SEVERITY = {name: "info" if name.endswith("_dns") else "critical" for name in REPORTS}

#: Report name -> (the listeners whose events it holds, the source address family or 0: both).
_HOLDS: dict[str, tuple[tuple[str, ...], int]] = {
    "event4_sinkhole": (("tls", "raw"), 4),
    "event6_sinkhole": (("tls", "raw"), 6),
    "event4_sinkhole_http": (("http",), 4),
    "event6_sinkhole_http": (("http",), 6),
    "event4_sinkhole_dns": (("dns",), 0),
}


class ReportError(SinkholeError):
    """A Shadowserver report could not be made."""


def check(report: str) -> str:
    """`report` if it is a report type we write, else one clear error."""
    if report not in REPORTS:
        raise ReportError(f"report {report!r}: expected one of {', '.join(REPORTS)}")
    return report


def file_name(day: str, report: str, org: str, suffix: str = "report") -> str:
    """`YYYY-MM-DD-<report>-<org>-<suffix>.csv`, with `org` made of word characters only."""
    return f"{day}-{check(report)}-{slug(org)}-{slug(suffix)}.csv"


def slug(text: str) -> str:
    """Text as one word of [a-z0-9_] (what Shadowserver file-name parsers accept)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "unknown"


def reports_for(events: pa.Table) -> list[str]:
    """The report types that have at least one of these events."""
    con = duck.connect()
    try:
        con.register("ev", events)
        rows = con.execute(
            f"SELECT DISTINCT application, {_V6} AS v6 FROM ev WHERE application IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    held = set()
    for application, v6 in rows:
        for name, (apps, family) in _HOLDS.items():
            if application in apps and family in (0, 6 if v6 else 4):
                held.add(name)
    return [name for name in REPORTS if name in held]


# an address with a colon that is not an IPv4 address on a dual-stack socket
_V6 = "(contains(src_ip, ':') AND NOT (lower(src_ip) LIKE '::ffff:%' AND contains(src_ip, '.')))"
_IP = "CASE WHEN lower({c}) LIKE '::ffff:%' AND contains({c}, '.') THEN substr({c}, 8) ELSE {c} END"


def reported_ip(column: str) -> str:
    """SQL for the address a report shows for `column` (an IPv4-mapped one as IPv4)."""
    return _IP.format(c=column)


def build(events: pa.Table, report: str, networks: Attributor | None = None) -> pa.Table:
    """The rows of `report` for the events it holds: every column text, in published order."""
    con = duck.connect()
    try:
        con.register("ev", events)
        return build_in(con, "ev", report, networks)
    finally:
        con.close()


@contextmanager
def _prepared(
    con: duckdb.DuckDBPyConnection, source: str, report: str, networks: Attributor | None
) -> Iterator[str]:
    """Temporary `sel` (the events `report` holds) and `net` (their networks); yields the SQL."""
    apps, family = _HOLDS[check(report)]
    wanted = ", ".join(f"'{a}'" for a in apps)
    where = f"application IN ({wanted})"
    if family:
        where += f" AND {'' if family == 6 else 'NOT '}{_V6}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE sel AS SELECT *, {_IP.format(c='src_ip')} AS src, "
        f"{_IP.format(c='dst_ip')} AS dst FROM {source} WHERE {where}"
    )
    try:
        con.register("net", _networks(con, networks))
        sql = _DNS_SQL if report == "event4_sinkhole_dns" else _EVENT_SQL
        yield sql.replace("$severity", SEVERITY[report])
    finally:
        con.execute("DROP TABLE IF EXISTS sel")
        con.unregister("net")


def shape(table: pa.Table | pa.RecordBatch, report: str) -> pa.Table:
    """Rows of `report` as published: its columns in order, every one text, absent ones empty."""
    if not isinstance(table, pa.Table):
        table = pa.Table.from_batches([table])
    if report == "event4_sinkhole_dns":
        table = _type_names(table)
    out = []
    for name in REPORTS[report]:
        if name in table.column_names:
            out.append(table.column(name).cast(pa.string()))
        else:
            out.append(pa.chunked_array([pa.nulls(table.num_rows, pa.string())], pa.string()))
    return pa.table(out, names=list(REPORTS[report]))


def build_in(
    con: duckdb.DuckDBPyConnection, source: str, report: str, networks: Attributor | None = None
) -> pa.Table:
    """`build` over a table or view of events that `con` already has (the store's, say)."""
    with _prepared(con, source, report, networks) as sql:
        return shape(con.sql(sql).to_arrow_table(), report)


def batches_in(
    con: duckdb.DuckDBPyConnection,
    source: str,
    report: str,
    networks: Attributor | None,
    keys: str,
    rows: int = 65_536,
) -> Iterator[tuple[pa.Table, np.ndarray[Any, Any]]]:
    """The rows of `report` grouped by a key, streamed: (shaped rows, their keys) per batch.

    `keys` names a table or view of `con` with columns ``ip`` (text) and ``key`` (an
    integer): a row whose source address has a key comes out in key order, then in
    the report's own order (time, source); a row whose source has none is left out.
    DuckDB sorts (spilling past its memory limit), so memory stays one batch wide.
    """
    # ties within a second in a fixed order, so the same window gives the same files
    if report == "event4_sinkhole_dns":
        order = "r.timestamp, r.src_ip, r.query, r.query_type, r.src_port"
    else:
        order = "r.timestamp, r.src_ip, r.src_port, r.dst_port, r.application, r.http_url"
    with _prepared(con, source, report, networks) as sql:
        keyed = (
            f"SELECT r.*, k.key AS _key FROM ({sql}) r JOIN {keys} k ON k.ip = r.src_ip "
            f"ORDER BY k.key, {order}"
        )
        reader = con.sql(keyed).to_arrow_reader(rows)
        for batch in reader:
            if batch.num_rows:
                key = batch.column(batch.schema.get_field_index("_key"))
                yield shape(batch, report), key.to_numpy(zero_copy_only=False)


def _networks(con: duckdb.DuckDBPyConnection, networks: Attributor | None) -> pa.Table:
    """ASN and country of every source and destination address in `sel`."""
    ips = con.sql(
        "SELECT DISTINCT ip FROM (SELECT src AS ip FROM sel UNION SELECT dst FROM sel) "
        "WHERE ip IS NOT NULL"
    ).to_arrow_table()
    if networks is None or ips.num_rows == 0:
        return pa.table(
            {"ip": pa.array([], pa.string()), "asn": pa.array([], pa.int64()),
             "country": pa.array([], pa.string())}
        )  # fmt: skip
    found = networks.attribute(ips.column("ip").combine_chunks())
    table = found.table
    return pa.table(
        {
            "ip": table.column("ip").cast(pa.string()),
            "asn": table.column("asn"),
            "country": table.column("country").cast(pa.string()),
        }
    )


_TIME = "strftime({c}, '%Y-%m-%d %H:%M:%S')"
_COMMON = f"""
    {_TIME.format(c="timestamp")} AS timestamp, protocol, src AS src_ip, src_port,
    s.asn AS src_asn, nullif(s.country, '') AS src_geo, '$severity' AS severity,
    family AS infection, family, tag"""

_EVENT_SQL = f"""
SELECT {_COMMON},
    dst AS dst_ip, dst_port, d.asn AS dst_asn, nullif(d.country, '') AS dst_geo,
    application, version, http_url, http_host, http_agent, http_referer, ssl_servername,
    machine_name
FROM sel
LEFT JOIN net s ON s.ip = sel.src
LEFT JOIN net d ON d.ip = sel.dst
ORDER BY sel.timestamp, src_ip
"""

_DNS_SQL = f"""
SELECT {_TIME.format(c="first")} AS timestamp, protocol, src AS src_ip, src_port,
    s.asn AS src_asn, nullif(s.country, '') AS src_geo, '$severity' AS severity,
    family AS infection, family, tag, query_type, query, count
FROM (
    SELECT min(timestamp) AS first, arg_min(src_port, timestamp) AS src_port,
        protocol, src, family, tag, dns_qname AS query, dns_qtype AS query_type,
        count(*) AS count
    FROM sel
    GROUP BY date_trunc('hour', timestamp), protocol, src, family, tag, dns_qname, dns_qtype
) g
LEFT JOIN net s ON s.ip = g.src
ORDER BY first, src_ip, query
"""


def _type_names(table: pa.Table) -> pa.Table:
    """DNS query types as their names (`A`, `TXT`, `TYPE65280`)."""
    codes = table.column("query_type").to_pylist()
    names = {c: dns.rdatatype.to_text(c) for c in set(codes) if c is not None and 0 <= c < 65536}
    texts = pa.array([names.get(c) if c is not None else None for c in codes], pa.string())
    index = table.column_names.index("query_type")
    return table.set_column(index, "query_type", texts)


_CSV = pacsv.WriteOptions(quoting_style="needed")


def write(table: pa.Table, handle: IO[Any]) -> None:
    """A report as CSV: a header of its columns, empty fields for what is unknown."""
    pacsv.write_csv(table, handle, write_options=_CSV)


def writer(handle: IO[Any], report: str) -> pacsv.CSVWriter:
    """A CSV writer for `report`, for its shaped rows a batch at a time (the header first)."""
    schema = pa.schema([(name, pa.string()) for name in REPORTS[check(report)]])
    return pacsv.CSVWriter(handle, schema, write_options=_CSV)
