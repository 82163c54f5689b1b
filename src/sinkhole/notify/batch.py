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
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


#: DuckDB's memory ceiling while a batch is built (sorts and the day's first contacts spill).
MEMORY_LIMIT = "3GB"
#: Where the CSVs are written while the batch is built, under --out.
STAGING = ".staging"


@dataclass
class _Staged:
    """One contact's Shadowserver rows, written to files as they stream out of DuckDB."""

    files: list[tuple[str, Path]] = field(default_factory=list)  # (final name, staged path)
    first: str | None = None
    last: str | None = None
    families: set[str] = field(default_factory=set)


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
    """Build every contact's report for the window (reports already sent are left alone).

    Memory stays bounded by the number of infected addresses, not of events: DuckDB
    picks and sorts the rows (spilling to its private folder past MEMORY_LIMIT), and
    each contact's CSVs are written a batch at a time into ``<out>/.staging`` before
    they are moved into the contact's folder.
    """
    began = time.monotonic()
    say = progress or (lambda _text: None)
    texts = message.Templates.load(templates)
    window = _window(since, until)
    staging = out / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # what a crashed run left half-written
    private.folder(staging)

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute("SET preserve_insertion_order = false")
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
        sources = con.sql(
            f"SELECT DISTINCT {shadowserver.reported_ip('src_ip')} AS ip FROM picked"
        ).to_arrow_table()
        # every address that appears anywhere gets its contact, once
        ips = pa.concat_arrays(
            [
                hosts.column("src_ip").combine_chunks().cast(pa.string()),
                sources.column("ip").combine_chunks().cast(pa.string()),
            ]
        )
        attributed = networks.attribute(pc.unique(ips)).table
        contact_of = _contacts(attributed)
        keyed = pa.table(
            {"ip": attributed.column("ip").cast(pa.string()), "key": pa.array(contact_of["codes"])}
        ).filter(pc.greater_equal(pa.array(contact_of["codes"]), 0))
        con.register("contact_keys", keyed)
        say("writing the Shadowserver reports")
        staged: dict[int, _Staged] = {}
        for name in shadowserver.REPORTS:
            _stage(con, name, networks, staging, contact_of["keys"], staged)
        con.unregister("contact_keys")
        return {
            "events": int(counted[0]) if counted else 0,
            "hosts": hosts,
            "attributed": attributed,
            "contact_of": contact_of,
            "staged": staged,
        }

    found = store.query(root, work)
    hosts: pa.Table = found["hosts"]
    attributed: pa.Table = found["attributed"]
    contact_of: dict[str, Any] = found["contact_of"]
    staged: dict[int, _Staged] = found["staged"]
    known = attributed.column("ip").combine_chunks()

    keys: list[str] = contact_of["keys"]
    host_codes = _codes_for(hosts.column("src_ip"), known, contact_of)
    host_order, host_runs = _runs(host_codes)
    host_ips = pc.unique(hosts.column("src_ip").combine_chunks().cast(pa.string()))
    nets = _networks_per_contact(attributed, contact_of, host_ips)
    codes = sorted(c for c in set(host_runs) | set(staged) if c >= 0)

    batch = Batch([], found["events"], 0, 0, 0, 0.0)
    batch.unattributed = int(np.count_nonzero(contact_of["codes"] < 0))
    batch.addresses = int(hosts.num_rows and pc.count_distinct(hosts.column("src_ip")).as_py())
    step = max(1, len(codes) // 10)
    for done, code in enumerate(codes, start=1):
        start, end = host_runs.get(code, (0, 0))
        mine = hosts.take(pa.array(host_order[start:end]))
        rows = staged.get(code, _Staged())
        report = _report(keys[code], mine, rows, nets.get(code, []), reporter, since, until)
        report.folder = out / report.slug
        existing = ledger.get(report.report_id)
        if existing is not None and existing.state not in REBUILT:
            # in flight or done: its message stays byte for byte what was (or will be) sent
            batch.skipped_sent += existing.state in ("sent", "bounced")
            for _name, path in rows.files:
                path.unlink(missing_ok=True)
            continue
        _write_files(report, mine, rows, reporter, texts, xarf_check)
        ledger.add(report.ledger_row(), report.state)
        batch.reports.append(report)
        if done % step == 0 or done == len(codes):
            say(f"written {done:,} of {len(codes):,} reports ({report.contact})")
    shutil.rmtree(staging, ignore_errors=True)
    batch.seconds = time.monotonic() - began
    return batch


def _stage(
    con: duckdb.DuckDBPyConnection,
    report: str,
    networks: Attributor,
    staging: Path,
    keys: list[str],
    staged: dict[int, _Staged],
) -> None:
    """Stream one report's rows, sorted by contact then time, into a CSV per contact and day."""
    current: tuple[int, str] | None = None
    handle: Any = None
    csv: Any = None

    def finish() -> None:
        if handle is not None:
            csv.close()
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()

    try:
        for table, codes in shadowserver.batches_in(
            con, "picked", report, networks, "contact_keys"
        ):
            stamps = table.column("timestamp").combine_chunks()
            days = pc.utf8_slice_codeunits(stamps, 0, 10).to_numpy(zero_copy_only=False)
            cuts = np.flatnonzero((codes[1:] != codes[:-1]) | (days[1:] != days[:-1])) + 1
            starts = [0, *cuts.tolist()]
            ends = [*cuts.tolist(), len(codes)]
            for first, stop in zip(starts, ends, strict=True):
                code, day = int(codes[first]), str(days[first])
                mine = staged.setdefault(code, _Staged())
                if current != (code, day):
                    finish()
                    handle = csv = None
                    name = shadowserver.file_name(day, report, keys[code])
                    folder = private.folder(staging / shadowserver.slug(keys[code]))
                    handle = private.open_file(folder / name)
                    csv = shadowserver.writer(handle, report)
                    mine.files.append((name, folder / name))
                    current = (code, day)
                part = table.slice(first, stop - first)
                csv.write_table(part)
                low, high = str(stamps[first]), str(stamps[stop - 1])  # sorted by time
                mine.first = low if mine.first is None else min(mine.first, low)
                mine.last = high if mine.last is None else max(mine.last, high)
                mine.families.update(
                    str(f) for f in pc.unique(part.column("family")).to_pylist() if f
                )
    finally:
        finish()


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
    rows: _Staged,
    nets: list[dict[str, Any]],
    reporter: Reporter,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Report:
    firsts = [rows.first] if rows.first is not None else []
    lasts = [rows.last] if rows.last is not None else []
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
        rows.families
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
    hosts: pa.Table,
    rows: _Staged,
    reporter: Reporter,
    texts: message.Templates,
    xarf_check: str,
) -> None:
    """Move in one contact's CSVs, write its XARF reports and message (files 0600, whole)."""
    folder = private.folder(report.folder)
    files: list[Path] = []
    for name, path in rows.files:
        path.replace(folder / name)
        files.append(folder / name)
    if hosts.num_rows:
        path = folder / f"{report.last_day}-xarf-{report.slug}.jsonl"
        lines = xarf_reports.build(hosts, reporter, report.report_id, xarf_check)
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
