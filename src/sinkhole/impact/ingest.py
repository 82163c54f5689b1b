"""Mail evidence in, one small table out: the format of each file found from its content.

Every parser hands on the same table (:data:`sinkhole.impact.mta.SCHEMA`: client
address, epoch second, kind, count), so a day of a large provider's log
becomes at most one row per client address, second and kind. What could not be read
is counted per file, with a few examples, in a :class:`FileReport`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sinkhole import duck
from sinkhole.events import private
from sinkhole.impact import csvlog, exim, maildir, mbox, mta, postfix, sendmail
from sinkhole.impact.errors import ImpactError

#: The MTA log formats, in the order their tastes are tried.
MTA_FORMATS: tuple[mta.Format, ...] = (postfix.FORMAT, exim.FORMAT, sendmail.FORMAT)
#: Every format name a file may be read as.
FORMATS = ("postfix", "exim", "sendmail", "mbox", "maildir", "csv")
#: How much of a file's start is read to tell its format.
SAMPLE_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
#: DuckDB's memory ceiling while reading a log and joining it with the events.
MEMORY_LIMIT = "512MB"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class FileReport:
    """What one input held: its format, its lines and what could not be read."""

    path: str
    format: str
    lines: int = 0
    messages: int = 0
    rejected: int = 0
    connections: int = 0
    malformed: int = 0
    examples: list[str] = field(default_factory=list)
    first: str | None = None
    last: str | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For the JSON report."""
        return dict(vars(self))


@dataclass
class Mail:
    """The events of every input: (ip, second, kind, n) rows, and a report per file."""

    table: pa.Table
    files: list[FileReport]

    def count(self, kinds: Iterable[str]) -> int:
        """Events of these kinds."""
        chosen = self.table.filter(pc.is_in(self.table["kind"], pa.array(list(kinds))))
        return int(pc.sum(chosen["n"]).as_py() or 0)


@dataclass(frozen=True)
class Detected:
    """A file's format as its content shows it."""

    format: str
    gzipped: bool = False
    #: for CSV: the time and address columns
    columns: tuple[str, str] | None = None


def _sample(path: Path) -> tuple[bytes, bool]:
    """The first bytes of `path` (decompressed when gzipped) and whether it is gzipped."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_BYTES)
        if not head.startswith(_GZIP_MAGIC):
            return head, False
        with gzip.open(path, "rb") as packed:
            return packed.read(SAMPLE_BYTES), True
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ImpactError(f"{path}: a damaged gzip file ({exc})") from None
    except OSError as exc:
        raise ImpactError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def detect(path: Path) -> Detected:
    """The format of `path` from its content (ImpactError for binary or unknown input)."""
    if path.is_dir():
        if maildir.is_maildir(path):
            return Detected("maildir")
        raise ImpactError(f"{path}: a folder but not a Maildir (no cur/ or new/ inside)")
    head, gzipped = _sample(path)
    if not head.strip():
        return Detected("empty", gzipped)
    if b"\x00" in head:
        raise ImpactError(f"{path}: binary data, not a mail log, trap or CSV")
    text = head.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 100):
        raise ImpactError(f"{path}: binary data, not a mail log, trap or CSV")
    lines = text.splitlines()
    if len(head) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut
    if mbox.is_mbox(lines):
        return Detected("mbox", gzipped)
    columns = csvlog.columns(lines[0])
    if columns is not None:
        return Detected("csv", gzipped, columns)
    scores = {fmt.name: sum(1 for line in lines if fmt.taste.search(line)) for fmt in MTA_FORMATS}
    best = max(scores, key=lambda name: scores[name])
    if scores[best] == 0:
        raise ImpactError(
            f"{path}: unknown format (expected a Postfix, Exim or Sendmail log, an mbox or "
            "Maildir spam trap, or a CSV with time and client ip columns)"
        )
    return Detected(best, gzipped)


def _normalise(table: pa.Table) -> tuple[pa.Table, int, list[str]]:
    """Client addresses in one spelling (IPv6 compressed, IPv4-mapped as IPv4); rows whose
    address is not an address are dropped and counted (with up to three examples)."""
    if not table.num_rows:
        return table, 0, []
    ips = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(table["ip"]), r"(?i)^::ffff:(\d+\.\d+\.\d+\.\d+)$", r"\1"
    )
    simple = pc.fill_null(pc.match_substring_regex(ips, _V4), False)
    others = pc.unique(ips.filter(pc.invert(simple)))
    spelled: dict[str, str | None] = {}
    for text in others.to_pylist():
        try:
            spelled[text] = str(ipaddress.ip_address(text))
        except ValueError:
            spelled[text] = None
    if spelled:
        keys = pa.array(list(spelled), pa.string())
        values = pa.array(list(spelled.values()), pa.string())
        looked = pc.take(values, pc.index_in(ips, keys))
        ips = pc.if_else(simple, ips, looked)
    good = pc.is_valid(ips)
    bad = table.filter(pc.invert(good))
    examples = [f"client address {text!r}" for text in pc.unique(bad["ip"]).to_pylist()[:3]]
    malformed = int(pc.sum(bad["n"]).as_py() or 0)
    kept = table.set_column(0, "ip", ips).filter(good)
    return kept, malformed, examples


def _shown(example: str) -> str:
    """An example line safe to print: control characters (NUL, ESC, CR, ...) spelled as `\\xNN`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", example)


def analysis_connection() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in bounded memory: past MEMORY_LIMIT it spills to a private folder
    (the spill holds client addresses)."""
    con = duck.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {private.duckdb_path_literal(private.spill_folder())}")
    con.execute("SET preserve_insertion_order = false")
    return con


def _iso_second(value: int | None) -> str | None:
    if value is None:
        return None
    return dt.datetime.fromtimestamp(value, dt.UTC).isoformat()


def read_file(
    path: Path,
    reference: dt.datetime,
    timezone: str = "UTC",
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
) -> tuple[pa.Table, FileReport]:
    """One input's events and its report."""
    found = detect(path)
    report = FileReport(str(path), found.format)
    if found.format == "empty":
        report.note = "empty file"
        return mta.SCHEMA.empty_table(), report
    if found.format in ("mbox", "maildir"):
        module = mbox if found.format == "mbox" else maildir
        scan = module.read(path, trusted)
    else:
        con = analysis_connection()
        try:
            con.execute(f"SET TimeZone = {mta.literal(timezone)}")
        except duckdb.Error:
            con.close()
            raise ImpactError(f"--timezone {timezone!r}: not a time zone name") from None
        try:
            if found.format == "csv" and found.columns is not None:
                scan = csvlog.read(con, path, found.columns, found.gzipped)
            else:
                fmt = next(f for f in MTA_FORMATS if f.name == found.format)
                scan = mta.scan(con, path, fmt, found.gzipped, reference)
        finally:
            con.close()
    table, bad, examples = _normalise(scan.table)
    report.lines = scan.lines
    report.malformed = scan.malformed + bad
    report.examples = [_shown(e) for e in (scan.examples + examples)[:3]]
    for kind, attribute in (
        ("message", "messages"),
        ("reject", "rejected"),
        ("connect", "connections"),
    ):
        chosen = table.filter(pc.equal(table["kind"], kind))
        setattr(report, attribute, int(pc.sum(chosen["n"]).as_py() or 0))
    if table.num_rows:
        report.first = _iso_second(pc.min(table["second"]).as_py())
        report.last = _iso_second(pc.max(table["second"]).as_py())
    elif report.lines:
        report.note = "no messages or connections found"
    return table, report


def read(
    paths: Iterable[Path],
    reference: dt.datetime,
    timezone: str = "UTC",
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
) -> Mail:
    """Read every input (files, gzipped files, Maildir folders) into one Mail."""
    tables = [mta.SCHEMA.empty_table()]
    files = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise ImpactError(f"--mail {path}: no such file or folder")
        table, report = read_file(path, reference, timezone, trusted)
        tables.append(table)
        files.append(report)
    return Mail(pa.concat_tables(tables), files)
