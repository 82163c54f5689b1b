"""From the store to one report per abuse contact: who gets which addresses, in which files.

The events of the window are attributed once (every distinct source address),
and each address goes to its network's abuse contact; a network without one is
grouped by its ASN and listed (``no-contact``), addresses no dataset covers are
counted. Per contact, the folder ``<out>/<contact>/`` gets:

- Shadowserver CSVs, one per report type and day
  (``YYYY-MM-DD-<report>-<contact>-report.csv``), one row per infected address,
  family, listener, port and day: its first contact that day, whose time and
  source port are what an ISP needs to find the subscriber behind a CGNAT
  address. DNS rows are the resolvers' queries per name, type and hour;
- ``YYYY-MM-DD-xarf-<contact>.jsonl``: one XARF v4 report (infrastructure/botnet)
  per infected address, with first/last seen, contact count and the C&C names;
- ``message.eml``: the e-mail, text from the templates with the files attached.

The report id is a hash of the operation, the contact and the days covered, so
building the same window again gives the same ids, and the ledger keeps a
report that went out from being built or sent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from email_validator import EmailNotValidError, validate_email

from sinkhole.events import private, shadowserver, store
from sinkhole.notify import message, xarf_reports
from sinkhole.notify.ledger import Ledger

if TYPE_CHECKING:
    from sinkhole.attribution import Attributor


@dataclass(frozen=True)
class Reporter:
    """Who the reports come from."""

    org: str
    address: str
    operation: str
    reply_to: str = ""

    @property
    def domain(self) -> str:
        """The sender's mail domain (for Message-IDs and XARF)."""
        return self.address.rpartition("@")[2] or "localhost"


@dataclass
class Report:
    """One contact's report."""

    report_id: str
    contact: str  # the abuse mailbox, or asN when none is known
    recipient: str  # the mailbox to send to ("" when there is none)
    slug: str
    folder: Path
    first_day: str
    last_day: str
    addresses: int
    first_seen: str
    last_seen: str
    families: list[str]
    networks: list[dict[str, Any]]
    files: list[Path] = field(default_factory=list)
    state: str = "built"  # built, no-contact or invalid-contact
    problem: str = ""
    message_id: str = ""

    def ledger_row(self) -> dict[str, Any]:
        """What the ledger keeps of it."""
        return {
            "report_id": self.report_id,
            "contact": self.contact,
            "recipient": self.recipient,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "addresses": self.addresses,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "families": ",".join(self.families),
            "networks": self.networks,
            "folder": str(self.folder),
            "message_id": self.message_id,
        }


@dataclass
class Batch:
    """Everything one `notify` run built."""

    reports: list[Report]
    events: int
    addresses: int
    unattributed: int
    skipped_sent: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        """Counts for people and for JSON."""
        by_state: dict[str, int] = {}
        for report in self.reports:
            by_state[report.state] = by_state.get(report.state, 0) + 1
        return {
            "reports": len(self.reports),
            "by_state": by_state,
            "events": self.events,
            "addresses": self.addresses,
            "unattributed_addresses": self.unattributed,
            "already_sent": self.skipped_sent,
            "seconds": round(self.seconds, 2),
        }


def _literal(moment: dt.datetime) -> str:
    return f"TIMESTAMPTZ '{moment.astimezone(dt.UTC).isoformat()}'"


def _window(since: dt.datetime | None, until: dt.datetime | None) -> str:
    clauses = ["family IS NOT NULL", "src_ip IS NOT NULL"]
    if since is not None:
        clauses.append(f"timestamp >= {_literal(since)}")
    if until is not None:
        clauses.append(f"timestamp < {_literal(until)}")
    return " AND ".join(clauses)


#: Ledger states whose files a new build may write again.
REBUILT = ("built", "dry-run", "no-contact", "invalid-contact")

#: Infected machines: every bot contact but DNS queries that came through a resolver.
_INFECTED = "(application <> 'dns' OR channel = 'dns-servers')"


def build(
    root: Path,
    out: Path,
    networks: Attributor,
    reporter: Reporter,
    ledger: Ledger,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    templates: Path | None = None,
    xarf_check: str = "first",
    progress: Callable[[str], None] | None = None,
) -> Batch:
    """Build every contact's report for the window (reports already sent are left alone)."""
    began = time.monotonic()
    say = progress or (lambda _text: None)
    texts = message.Templates.load(templates)
    window = _window(since, until)

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE picked AS "
            "SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY src_ip, "
            "family, application, dst_port, CAST(timestamp AS DATE) ORDER BY timestamp) AS rn "
            f"FROM events WHERE {window} AND application <> 'dns') WHERE rn = 1 "
            f"UNION ALL SELECT * FROM events WHERE {window} AND application = 'dns'"
        )
        say("selecting each address's first contact per day")
        counted = con.execute(f"SELECT count(*) FROM events WHERE {window}").fetchall()[0]
        hosts = con.sql(
            "SELECT src_ip, family, min(timestamp) AS first_seen, max(timestamp) AS last_seen, "
            "count(*) AS contacts, arg_min(src_port, timestamp) AS src_port, "
            "arg_min(application, timestamp) AS application, "
            "arg_min(dst_ip, timestamp) AS dst_ip, arg_min(dst_port, timestamp) AS dst_port, "
            "list(DISTINCT coalesce(http_host, ssl_servername, dns_qname)) "
            "FILTER (WHERE coalesce(http_host, ssl_servername, dns_qname) IS NOT NULL) AS names "
            f"FROM events WHERE {window} AND {_INFECTED} GROUP BY src_ip, family "
            "ORDER BY src_ip, family"
        ).to_arrow_table()
        say("writing the Shadowserver reports")
        reports = {}
        for name in shadowserver.REPORTS:
            table = shadowserver.build_in(con, "picked", name, networks)
            if table.num_rows:
                reports[name] = table
        return {"events": int(counted[0]) if counted else 0, "hosts": hosts, "reports": reports}

    found = store.query(root, work)
    hosts: pa.Table = found["hosts"]
    reports: dict[str, pa.Table] = found["reports"]

    # every address that appears anywhere gets its contact, once
    ips = pa.concat_arrays(
        [hosts.column("src_ip").combine_chunks().cast(pa.string())]
        + [t.column("src_ip").combine_chunks() for t in reports.values()]
    )
    unique = pc.unique(ips)
    attributed = networks.attribute(unique).table
    contact_of = _contacts(attributed)
    known = attributed.column("ip").combine_chunks()

    plan = _plan(hosts, reports, known, contact_of, attributed, reporter, since, until)
    batch = Batch([], found["events"], 0, 0, 0, 0.0)
    batch.unattributed = int(np.count_nonzero(contact_of["codes"] < 0))
    batch.addresses = int(hosts.num_rows and pc.count_distinct(hosts.column("src_ip")).as_py())
    step = max(1, len(plan) // 10)
    for done, entry in enumerate(plan.values(), start=1):
        report = entry["report"]
        report.folder = out / report.slug
        existing = ledger.get(report.report_id)
        if existing is not None and existing.state not in REBUILT:
            # in flight or done: its message stays byte for byte what was (or will be) sent
            batch.skipped_sent += existing.state in ("sent", "bounced")
            continue
        _write_files(report, entry, reporter, texts, xarf_check)
        ledger.add(report.ledger_row(), report.state)
        batch.reports.append(report)
        if done % step == 0 or done == len(plan):
            say(f"written {done:,} of {len(plan):,} reports ({report.contact})")
    batch.seconds = time.monotonic() - began
    return batch


def _contacts(attributed: pa.Table) -> dict[str, Any]:
    """Per attributed address: a contact code into a list of contact keys (-1: nobody)."""
    contact = attributed.column("abuse_contact").combine_chunks().cast(pa.string())
    asn = attributed.column("asn").combine_chunks()
    keys = pc.if_else(
        pc.not_equal(pc.fill_null(contact, ""), ""),
        contact,
        pc.if_else(
            pc.is_valid(asn),
            pc.binary_join_element_wise("as", pc.cast(asn, pa.string()), ""),
            pa.scalar(None, pa.string()),
        ),
    )
    encoded = keys.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return {"codes": codes, "keys": encoded.dictionary.to_pylist()}


def _codes_for(
    column: pa.ChunkedArray | pa.Array, known: pa.Array, contact_of: dict[str, Any]
) -> np.ndarray[Any, Any]:
    """The contact code of each address in `column` (-1: not attributed)."""
    index = pc.index_in(pc.cast(column, pa.string()), value_set=known)
    where = pc.fill_null(index, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes: np.ndarray[Any, Any] = np.where(
        where >= 0, contact_of["codes"][np.maximum(where, 0)], -1
    )
    return codes


def _runs(codes: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], dict[int, tuple[int, int]]]:
    """A stable order that groups equal codes, and each code's [start, end) in it."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    bounds: dict[int, tuple[int, int]] = {}
    if len(ordered):
        cuts = np.flatnonzero(np.diff(ordered)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(ordered)]])
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            bounds[int(ordered[start])] = (start, end)
    return order, bounds


def _plan(
    hosts: pa.Table,
    reports: dict[str, pa.Table],
    known: pa.Array,
    contact_of: dict[str, Any],
    attributed: pa.Table,
    reporter: Reporter,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> dict[str, dict[str, Any]]:
    """Per contact: its rows of every report and of the host table, and its Report."""
    keys: list[str] = contact_of["keys"]
    host_codes = _codes_for(hosts.column("src_ip"), known, contact_of)
    host_order, host_runs = _runs(host_codes)
    report_runs = {}
    for name, table in reports.items():
        codes = _codes_for(table.column("src_ip"), known, contact_of)
        order, runs = _runs(codes)
        report_runs[name] = (table.take(pa.array(order)), runs)
    host_ips = pc.unique(hosts.column("src_ip").combine_chunks().cast(pa.string()))
    nets = _networks_per_contact(attributed, contact_of, host_ips)
    plan: dict[str, dict[str, Any]] = {}
    codes_seen = set(host_runs) | {c for _t, runs in report_runs.values() for c in runs}
    for code in sorted(c for c in codes_seen if c >= 0):
        key = keys[code]
        start, end = host_runs.get(code, (0, 0))
        mine = hosts.take(pa.array(host_order[start:end]))
        rows = {
            name: table.slice(runs[code][0], runs[code][1] - runs[code][0])
            for name, (table, runs) in report_runs.items()
            if code in runs
        }
        plan[key] = {
            "hosts": mine,
            "rows": rows,
            "report": _report(key, mine, rows, nets.get(code, []), reporter, since, until),
        }
    return plan


def _networks_per_contact(
    attributed: pa.Table, contact_of: dict[str, Any], hosts_ips: pa.Array
) -> dict[int, list[Any]]:
    """The networks (ASN, name, country) of each contact's infected addresses, with counts."""
    infected = pc.is_in(attributed.column("ip").cast(pa.string()), value_set=hosts_ips)
    codes = contact_of["codes"]
    table = pa.table(
        {
            "code": pa.array(codes),
            "asn": attributed.column("asn"),
            "as_name": attributed.column("as_name").cast(pa.string()),
            "country": attributed.column("country").cast(pa.string()),
        }
    )
    grouped = (
        table.filter(infected)
        .group_by(["code", "asn", "as_name", "country"])
        .aggregate([("code", "count")])
    )
    out: dict[int, list[Any]] = {}
    for row in grouped.to_pylist():
        out.setdefault(int(row["code"]), []).append(
            {
                "asn": row["asn"],
                "as_name": row["as_name"] or "",
                "country": row["country"] or "",
                "addresses": int(row["code_count"]),
            }
        )
    for nets in out.values():
        nets.sort(key=lambda n: -n["addresses"])
    return out


def _day(value: Any) -> str:
    return str(value)[:10]


def _report(
    key: str,
    hosts: pa.Table,
    rows: dict[str, pa.Table],
    nets: list[dict[str, Any]],
    reporter: Reporter,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Report:
    stamps = [t.column("timestamp") for t in rows.values()]
    firsts = [pc.min(s).as_py() for s in stamps if len(s)]
    lasts = [pc.max(s).as_py() for s in stamps if len(s)]
    if hosts.num_rows:
        first_seen = pc.min(hosts.column("first_seen")).as_py()
        last_seen = pc.max(hosts.column("last_seen")).as_py()
        first = first_seen.strftime("%Y-%m-%d %H:%M:%S")
        last = last_seen.strftime("%Y-%m-%d %H:%M:%S")
    else:
        first, last = min(firsts), max(lasts)
    first_day = since.date().isoformat() if since else _day(min([first, *firsts]))
    last_day = _day(max([last, *lasts]))
    if until is not None:
        last_day = min(last_day, (until - dt.timedelta(microseconds=1)).date().isoformat())
    ident = hashlib.sha256(f"{reporter.operation}\n{key}\n{first_day}\n{last_day}".encode())
    families = sorted({str(f) for f in hosts.column("family").to_pylist() if f}) or sorted(
        {str(f) for t in rows.values() for f in t.column("family").to_pylist() if f}
    )
    slug = shadowserver.slug(key)
    report = Report(
        report_id=ident.hexdigest()[:20],
        contact=key,
        recipient="",
        slug=slug,
        folder=Path(slug),
        first_day=first_day,
        last_day=last_day,
        addresses=int(hosts.num_rows and pc.count_distinct(hosts.column("src_ip")).as_py()),
        first_seen=first,
        last_seen=last,
        families=families,
        networks=nets,
    )
    report.message_id = f"<{report.report_id}.{slug}@{reporter.domain}>"
    if re.fullmatch(r"as\d+", key):
        report.state, report.problem = "no-contact", "no abuse contact known for this network"
        return report
    try:
        report.recipient = validate_email(key, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        report.state, report.problem = "invalid-contact", f"{key!r}: {exc}"
    return report


def _write_files(
    report: Report,
    entry: dict[str, Any],
    reporter: Reporter,
    texts: message.Templates,
    xarf_check: str,
) -> None:
    """Write one contact's CSVs, XARF reports and message (each file 0600, whole or absent)."""
    folder = private.folder(report.folder)
    files: list[Path] = []
    for name, rows in entry["rows"].items():
        day = pc.utf8_slice_codeunits(rows.column("timestamp"), 0, 10)
        days = day.to_numpy(zero_copy_only=False)
        for value in sorted(set(days.tolist())):
            picked = rows.filter(pc.equal(day, value))
            path = folder / shadowserver.file_name(str(value), name, report.contact)
            _atomic(path, partial(shadowserver.write, picked))
            files.append(path)
    if entry["hosts"].num_rows:
        path = folder / f"{report.last_day}-xarf-{report.slug}.jsonl"
        lines = xarf_reports.build(entry["hosts"], reporter, report.report_id, xarf_check)
        _atomic(path, lambda handle: handle.write(lines))
        files.append(path)
    report.files = files
    mail = message.render(report, reporter, texts, files)
    _atomic(folder / "message.eml", lambda handle: handle.write(mail))


def _atomic(path: Path, write: Callable[[Any], Any]) -> None:
    """Write `path` through a temporary name in the same folder, fsync'd, then renamed."""
    temporary = path.with_name(f".{path.name}.part")
    with private.open_file(temporary) as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
