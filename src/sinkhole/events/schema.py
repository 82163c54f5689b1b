"""The one Arrow schema every event is stored in.

Column names follow Shadowserver's sinkhole report fields where one exists
(``timestamp``, ``protocol``, ``src_ip`` … ``http_agent``, ``ssl_servername``,
``machine_name``), so an event converts to a CERT-ready report row by column
selection; our own columns carry the sinkhole's extra knowledge (``sensor``,
``channel``, ``bot_id``, ``dns_qname`` …). Every column but ``timestamp`` may
be null: a DNS event has no URL, an HTTP event no query name.
"""

from __future__ import annotations

import pyarrow as pa

#: Low-cardinality text columns: plain strings in Arrow (so write-ahead-log batches
#: never carry changing dictionaries); Parquet dictionary-encodes them on disk.
_DICT = pa.string()

FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("timestamp", pa.timestamp("us", tz="UTC"), "when the sensor saw it (UTC)"),
    ("protocol", _DICT, "transport: udp or tcp"),
    ("application", _DICT, "listener: dns, http, tls, raw"),
    ("src_ip", pa.string(), "the contacting address (for DNS, the resolver)"),
    ("src_port", pa.int32(), "source port"),
    ("dst_ip", pa.string(), "the sinkhole address contacted"),
    ("dst_port", pa.int32(), "the sinkhole port contacted"),
    ("sensor", _DICT, "node id of the sinkhole process"),
    ("family", _DICT, "botnet family the contact was attributed to"),
    ("infection", _DICT, "Shadowserver-style infection tag"),
    ("channel", _DICT, "how the bot got here: static-domains, dns-servers, dga, static-ips"),
    ("tag", _DICT, "free tag (e.g. dga-unplanned, malformed, rate-limited)"),
    ("bot_id", pa.string(), "bot identity from a family decoder"),
    ("version", _DICT, "bot version from a family decoder"),
    ("dns_qname", pa.string(), "DNS query name, lowercase, no trailing dot"),
    ("dns_qtype", pa.int32(), "DNS query type number"),
    ("dns_rcode", pa.int32(), "DNS response code sent"),
    ("http_method", _DICT, "HTTP method"),
    ("http_url", pa.string(), "HTTP request target"),
    ("http_host", pa.string(), "HTTP Host header"),
    ("http_agent", pa.string(), "HTTP User-Agent header"),
    ("http_referer", pa.string(), "HTTP Referer header"),
    ("ssl_servername", pa.string(), "TLS SNI name"),
    ("machine_name", pa.string(), "machine name from a family decoder"),
    ("payload_head", pa.binary(), "first bytes of the payload or request body"),
]

SCHEMA = pa.schema(
    [pa.field(name, dtype, nullable=name != "timestamp") for name, dtype, _ in FIELDS]
)
NAMES: tuple[str, ...] = tuple(SCHEMA.names)
#: Columns whose values are text, for exports.
DESCRIPTIONS = {name: text for name, _, text in FIELDS}
