"""One XARF v4 report per infected address (category infrastructure, type botnet).

Each report names the address and the first source port seen (what an ISP
behind CGNAT needs), the family, the C&C names it asked for and the protocol,
and carries as evidence a short CSV of what the sinkhole saw (first and last
contact, how many). Report ids are UUIDs derived from the notification's report
id, the address and the family, so a rebuilt report keeps its ids.

The `xarf` package validates them: by default the first report of each contact
(every report of a batch has the same shape; only values differ), or every one
with ``check="all"`` (about 1.4 ms a report). A report it rejects stops the
batch with the package's first error, before anything is sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import xarf

from sinkhole.exceptions import SinkholeError

if TYPE_CHECKING:
    from sinkhole.notify.batch import Reporter

CHECKS = ("first", "all", "none")

#: Our listeners -> XARF c2_protocol values.
_PROTOCOL = {"http": "http", "tls": "https", "dns": "dns", "raw": "tcp"}
_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4a5e-9d7b-2f0c4b1e9a10")


class XarfError(SinkholeError):
    """A XARF report did not validate."""


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_for(row: dict[str, Any], reporter: Reporter, report_id: str) -> dict[str, Any]:
    """The XARF report of one infected address (one row of the batch's host table)."""
    first, last = row["first_seen"], row["last_seen"]
    if isinstance(first, dt.datetime):
        first, last = _time(first), _time(last)
    family = str(row["family"])
    names = sorted(n for n in (row.get("names") or []) if n)
    evidence = (
        "src_ip,src_port,family,first_seen,last_seen,contacts,cc_names\r\n"
        f"{row['src_ip']},{row['src_port'] or ''},{family},{first},{last},"
        f"{row['contacts']},{' '.join(names)}\r\n"
    ).encode()
    contact = {"org": reporter.org, "contact": reporter.address, "domain": reporter.domain}
    report: dict[str, Any] = {
        "xarf_version": xarf.SPEC_VERSION,
        "report_id": str(uuid.uuid5(_NAMESPACE, f"{report_id}/{row['src_ip']}/{family}")),
        "timestamp": last,
        "reporter": contact,
        "sender": contact,
        "source_identifier": str(row["src_ip"]),
        "category": "infrastructure",
        "type": "botnet",
        "evidence_source": "automated_discovery",
        "description": (
            f"{family} bot: {row['contacts']} contacts with a sinkhole of {reporter.operation!r} "
            f"from {first} to {last}"
        )[:1000],
        "confidence": 1,
        "compromise_evidence": "C2 communication observed at a sinkhole",
        "malware_family": family,
        "c2_protocol": _PROTOCOL.get(str(row.get("application")), "custom"),
        "c2_server": names[0] if names else str(row.get("dst_ip") or ""),
        "tags": [f"malware:{_tag(family)}", "botnet:sinkholed"],
        "evidence": [
            {
                "content_type": "text/csv",
                "description": "sinkhole contacts of this address",
                "payload": base64.b64encode(evidence).decode(),
                "hash": f"sha256:{hashlib.sha256(evidence).hexdigest()}",
                "size": len(evidence),
            }
        ],
    }
    port = row.get("src_port")
    if port:
        report["source_port"] = int(port)
    if not report["c2_server"]:
        del report["c2_server"]
    return report


def _tag(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_+-" else "-" for c in text.lower())
    return cleaned.strip("-_+") or "unknown"


def validate(report: dict[str, Any]) -> None:
    """Raise XarfError unless the `xarf` package accepts the report with no error or warning."""
    result = xarf.parse(report)
    problems = [f"{e.field or '(report)'}: {e.message}" for e in result.errors]
    problems += [f"{w.field or '(report)'}: {w.message}" for w in result.warnings]
    if problems or result.report is None:
        raise XarfError(
            f"XARF report for {report.get('source_identifier')} does not validate: "
            f"{problems[0] if problems else 'rejected'}"
        )


def build(hosts: pa.Table, reporter: Reporter, report_id: str, check: str = "first") -> bytes:
    """JSON lines: one validated XARF report per row of `hosts`."""
    if check not in CHECKS:
        raise XarfError(f"XARF check {check!r}: expected one of {', '.join(CHECKS)}")
    # times as text in one pass (strftime per row is most of a report's cost otherwise)
    for name in ("first_seen", "last_seen"):
        column = pc.strftime(
            hosts.column(name).cast(pa.timestamp("us", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ"
        )
        hosts = hosts.set_column(hosts.column_names.index(name), name, column)
    encode = json.JSONEncoder(separators=(",", ":")).encode
    lines = []
    for k, row in enumerate(hosts.to_pylist()):
        report = report_for(row, reporter, report_id)
        if check == "all" or (check == "first" and k == 0):
            validate(report)
        lines.append(encode(report))
    return ("\n".join(lines) + "\n").encode() if lines else b""
