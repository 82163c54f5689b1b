"""Each mail format read from samples written to its documented log format."""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest

from sinkhole.impact import ingest
from sinkhole.impact.errors import ImpactError

TAKEDOWN = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)

POSTFIX = """\
Dec  7 10:15:01 mx1 postfix/smtpd[2301]: connect from unknown[192.0.2.10]
Dec  7 10:15:02 mx1 postfix/smtpd[2301]: 3F1A22C0E5A: client=unknown[192.0.2.10]
Dec  7 10:15:02 mx1 postfix/cleanup[2305]: 3F1A22C0E5A: message-id=<x@bulk.example>
Dec  7 10:15:02 mx1 postfix/qmgr[900]: 3F1A22C0E5A: from=<a@bulk.example>, size=1843, nrcpt=1 (queue active)
Dec  7 10:15:03 mx1 postfix/qmgr[900]: 3F1A22C0E5A: removed
Dec  7 10:15:03 mx1 postfix/smtpd[2301]: disconnect from unknown[192.0.2.10] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Dec 07 10:16:01 mx1 postfix/smtpd[2302]: NOQUEUE: reject: RCPT from pc-7.example[198.51.100.7]: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using bl.example; from=<a@b.example> to=<trap@mx1.example> proto=ESMTP helo=<pc-7>
Dec  7 10:16:05 mx1 postfix/postscreen[88]: NOQUEUE: reject: RCPT from [198.51.100.8]:4711: 550 5.7.1 blocked; from=<a@b.example>, to=<trap@mx1.example>, proto=ESMTP, helo=<pc-8>
Dec  7 10:16:09 mx1 postfix-out/smtpd[2310]: 3F1A22C0E5B: client=mail.example[2001:DB8:0:0::25]
Dec  7 10:17:00 mx1 postfix/cleanup[2305]: 3F1A22C0E5C: milter-reject: END-OF-MESSAGE from unknown[192.0.2.11]: 5.7.1 spam; from=<a@b.example> to=<t@mx1.example> proto=ESMTP helo=<x>
Dec  7 10:17:30 mx1 kernel: [12.3] eth0: link up
<22>1 2026-12-07T10:18:00.003Z mx1 postfix/smtpd 2320 - - 3F1A22C0E5D: client=unknown[192.0.2.12]
<22>1 2026-12-07T10:18:30.003+02:00 mx1 postfix/smtpd 2320 - [meta sequenceId="1"] connect from unknown[192.0.2.13]
2026-12-07T10:19:00.123456+00:00 mx1 postfix/smtpd[2330]: 3F1A22C0E5E: client=unknown[::ffff:192.0.2.14]
"""


def _write(path: Path, text: str | bytes, packed: bool = False) -> Path:
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if packed else data)
    return path


def _rows(mail: ingest.Mail) -> list[tuple[str, str, str, int]]:
    """(ip, minute as ISO, kind, n), summed per minute, sorted."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in mail.table.to_pylist():
        when = dt.datetime.fromtimestamp(r["second"], dt.UTC).strftime("%Y-%m-%dT%H:%M")
        counts[(r["ip"], when, r["kind"])] += r["n"]
    return sorted((*key, n) for key, n in counts.items())


def test_postfix_lines_of_every_documented_shape(tmp_path: Path) -> None:
    mail = ingest.read([_write(tmp_path / "mail.log", POSTFIX)], TAKEDOWN)
    assert _rows(mail) == [
        ("192.0.2.10", "2026-12-07T10:15", "connect", 1),
        ("192.0.2.10", "2026-12-07T10:15", "message", 1),
        ("192.0.2.11", "2026-12-07T10:17", "reject", 1),
        ("192.0.2.12", "2026-12-07T10:18", "message", 1),
        # RFC 5424 with an offset: 10:18 at +02:00 is 08:18 UTC
        ("192.0.2.13", "2026-12-07T08:18", "connect", 1),
        # IPv4-mapped: the IPv4 address
        ("192.0.2.14", "2026-12-07T10:19", "message", 1),
        ("198.51.100.7", "2026-12-07T10:16", "reject", 1),
        ("198.51.100.8", "2026-12-07T10:16", "reject", 1),
        # IPv6 in one spelling
        ("2001:db8::25", "2026-12-07T10:16", "message", 1),
    ]
    (report,) = mail.files
    assert (report.format, report.lines, report.malformed) == ("postfix", 14, 0)
    assert (report.messages, report.rejected, report.connections) == (4, 3, 2)


def test_exim_mainlog_and_syslog(tmp_path: Path) -> None:
    text = """\
2026-12-07 10:15:01 1vABCd-000Abc-7x <= spam@bulk.example H=(pc-1) [192.0.2.10]:50412 P=esmtp S=1843 id=x@bulk.example
2026-12-07 10:15:01 1vABCd-000Abc-7x => trap <trap@mx.example> R=local T=local_delivery
2026-12-07 10:15:01 1vABCd-000Abc-7x Completed
2026-12-07 10:15:02 H=(pc-2) [192.0.2.11]:50413 F=<a@b.example> rejected RCPT <trap@mx.example>: blocked
2026-12-07 10:15:03 SMTP connection from (pc-3) [192.0.2.12]:50414 I=[198.51.100.1]:25 (TCP/IP connection count = 1)
2026-12-07 10:15:04 +0100 [1234] 1kABCe-0001Xy-Qz <= a@b.example H=relay.example (helo) [2001:db8::7]:25 P=esmtps S=99
2026-12-07 10:15:05 1vABCf-000Abc-9z <= root@mx.example U=root P=local S=400
Dec  7 10:15:06 mx exim[1234]: 1vABCg-000Abc-9z <= a@b.example H=[192.0.2.15]:4000 P=esmtp S=12
garbage that is no log line
"""
    mail = ingest.read([_write(tmp_path / "mainlog", text)], TAKEDOWN)
    assert _rows(mail) == [
        ("192.0.2.10", "2026-12-07T10:15", "message", 1),
        ("192.0.2.11", "2026-12-07T10:15", "reject", 1),
        ("192.0.2.12", "2026-12-07T10:15", "connect", 1),
        ("192.0.2.15", "2026-12-07T10:15", "message", 1),
        # log_timezone: 10:15 at +01:00
        ("2001:db8::7", "2026-12-07T09:15", "message", 1),
    ]
    (report,) = mail.files
    assert (report.format, report.lines, report.malformed) == ("exim", 9, 1)
    assert report.examples == ["garbage that is no log line"]


def test_sendmail_from_and_reject_lines(tmp_path: Path) -> None:
    text = """\
Dec  7 10:15:01 mx sm-mta[4711]: 0B7AF1xx012345: from=<spam@bulk.example>, size=1843, class=0, nrcpts=1, msgid=<x@bulk.example>, proto=ESMTP, daemon=MTA-v4, relay=pc-1.example [192.0.2.10]
Dec  7 10:15:01 mx sm-mta[4711]: 0B7AF1xx012345: to=<trap@mx.example>, delay=00:00:01, mailer=local, stat=Sent
Dec  7 10:15:02 mx sm-mta[4712]: 0B7AF2xx012346: ruleset=check_rcpt, arg1=<trap@mx.example>, relay=[192.0.2.11], reject=550 5.7.1 <trap@mx.example>... Relaying denied
Dec  7 10:15:03 mx sendmail[4713]: 0B7AF3xx012347: from=<a@b.example>, size=10, class=0, nrcpts=1, proto=ESMTP, relay=[IPv6:2001:db8::1]
Dec  7 10:15:04 mx sendmail[4714]: 0B7AF4xx012348: from=root, size=10, class=0, nrcpts=1, relay=root@localhost
Dec  7 10:15:05 mx sm-mta[4715]: 0B7AF5xx012349: ruleset=check_mail, arg1=<a@b.example>, relay=pc-9.example [192.0.2.19] (may be forged), reject=553 5.1.8 Domain does not exist
"""
    mail = ingest.read([_write(tmp_path / "maillog", text)], TAKEDOWN)
    assert _rows(mail) == [
        ("192.0.2.10", "2026-12-07T10:15", "message", 1),
        ("192.0.2.11", "2026-12-07T10:15", "reject", 1),
        ("192.0.2.19", "2026-12-07T10:15", "reject", 1),
        ("2001:db8::1", "2026-12-07T10:15", "message", 1),
    ]
    assert mail.files[0].format == "sendmail"


def _message(received: list[str], subject: str = "offer") -> str:
    headers = "".join(f"Received: {r}\n" for r in received)
    return f"{headers}From: a@bulk.example\nSubject: {subject}\nDate: Mon, 7 Dec 2026 09:00:00 +0000\n\nbody\nFrom the body, unescaped\n>From the body\n"


TRAP_HOP = (
    "from localhost (localhost [127.0.0.1]) by trap.example (Postfix) with ESMTP id A1; "
    "Mon, 7 Dec 2026 10:20:05 +0000"
)
BOT_HOP = (
    "from pc-1 (unknown [192.0.2.10]) by trap.example (Postfix) with ESMTP id A0 for "
    "<trap@trap.example>; Mon, 7 Dec 2026 11:20:01 +0100"
)
FORGED = "from mail.bank.example ([203.0.113.9]) by pc-1; Mon, 7 Dec 2026 08:00:00 +0000"


def test_mbox_counts_the_first_external_hop(tmp_path: Path) -> None:
    text = (
        "From MAILER-DAEMON Mon Dec  7 10:20:05 2026\n"
        + _message([TRAP_HOP, BOT_HOP, FORGED])
        + "\nFrom MAILER-DAEMON Mon Dec  7 10:21:00 2026\n"
        + _message(
            ["by trap.example (Postfix, from userid 0) id A2; Mon, 7 Dec 2026 10:21:00 +0000"]
        )
        + "\nFrom MAILER-DAEMON Mon Dec  7 10:22:00 2026\n"
        + _message(
            [
                "from relay.trap.example ([10.0.0.5]) by trap.example; Mon, 7 Dec 2026 10:22:00 +0000",
                "from pc-2 ([192.0.2.11]) by relay.trap.example; Mon, 7 Dec 2026 10:21:59 +0000",
            ]
        )
    )
    path = _write(tmp_path / "trap.mbox.gz", text, packed=True)
    mail = ingest.read([path], TAKEDOWN, trusted=[ipaddress.ip_network("10.0.0.0/8")])
    assert _rows(mail) == [
        # the bot's hop, not the localhost re-injection above it nor the forged one below
        ("192.0.2.10", "2026-12-07T10:20", "message", 1),
        # the trusted relay skipped
        ("192.0.2.11", "2026-12-07T10:21", "message", 1),
    ]
    (report,) = mail.files
    assert (report.format, report.lines, report.malformed) == ("mbox", 3, 1)
    assert "no Received header" in report.examples[0]


def test_maildir_with_a_subfolder(tmp_path: Path) -> None:
    box = tmp_path / "Maildir"
    for part in ("cur", "new", "tmp", ".Spam/cur", ".Spam/new"):
        (box / part).mkdir(parents=True)
    (box / "new" / "1.mx").write_text(_message([BOT_HOP]))
    (box / ".Spam" / "cur" / "2.mx:2,S").write_text(_message([FORGED]))
    (box / "tmp" / "3.mx").write_text(_message([BOT_HOP]))  # still being delivered: not read
    mail = ingest.read([box], TAKEDOWN)
    assert _rows(mail) == [
        ("192.0.2.10", "2026-12-07T10:20", "message", 1),
        ("203.0.113.9", "2026-12-07T08:00", "message", 1),
    ]
    assert mail.files[0].format == "maildir"


def test_csv_with_iso_and_epoch_times(tmp_path: Path) -> None:
    text = (
        "Time;Client_IP;verdict\n"
        "2026-12-07T10:15:01Z;192.0.2.10;spam\n"
        "2026-12-07 11:15:01+01:00;192.0.2.10;spam\n"
        f"{int(dt.datetime(2026, 12, 7, 10, 16, tzinfo=dt.UTC).timestamp())};192.0.2.11;spam\n"
        "yesterday-ish;192.0.2.12;spam\n"
        "2026-12-07T10:17:00Z;not-an-ip;spam\n"
    )
    mail = ingest.read([_write(tmp_path / "export.csv", text)], TAKEDOWN)
    assert _rows(mail) == [
        ("192.0.2.10", "2026-12-07T10:15", "message", 2),
        ("192.0.2.11", "2026-12-07T10:16", "message", 1),
    ]
    (report,) = mail.files
    assert (report.format, report.lines, report.malformed) == ("csv", 5, 2)
    assert any("not-an-ip" in e for e in report.examples)


def test_rotated_and_gzipped_files_add_up(tmp_path: Path) -> None:
    lines = POSTFIX.splitlines(keepends=True)
    older = _write(tmp_path / "mail.log.2.gz", "".join(lines[:6]), packed=True)
    recent = _write(tmp_path / "mail.log.1", "".join(lines[6:10]))
    current = _write(tmp_path / "mail.log", "".join(lines[10:]))
    whole = ingest.read([_write(tmp_path / "whole.log", POSTFIX)], TAKEDOWN)
    parts = ingest.read([older, recent, current], TAKEDOWN)
    assert _rows(parts) == _rows(whole)
    assert [f.format for f in parts.files] == ["postfix"] * 3
    assert sum(f.lines for f in parts.files) == whole.files[0].lines


def test_year_inferred_nearest_the_takedown(tmp_path: Path) -> None:
    text = (
        "Dec 30 23:59:00 mx postfix/smtpd[1]: 1A: client=unknown[192.0.2.1]\n"
        "Jan  2 00:01:00 mx postfix/smtpd[1]: 1B: client=unknown[192.0.2.2]\n"
    )
    path = _write(tmp_path / "mail.log", text)
    january = ingest.read([path], dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    assert [r[1] for r in _rows(january)] == ["2026-12-30T23:59", "2027-01-02T00:01"]
    december = ingest.read([path], dt.datetime(2026, 12, 20, tzinfo=dt.UTC))
    assert [r[1] for r in _rows(december)] == ["2026-12-30T23:59", "2027-01-02T00:01"]
    summer = ingest.read([path], dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert [r[1] for r in _rows(summer)] == ["2025-12-30T23:59", "2026-01-02T00:01"]


def test_zone_less_times_in_the_given_zone(tmp_path: Path) -> None:
    path = _write(tmp_path / "mail.log", POSTFIX.splitlines()[1] + "\n")
    mail = ingest.read([path], TAKEDOWN, timezone="Europe/Berlin")
    assert _rows(mail) == [("192.0.2.10", "2026-12-07T09:15", "message", 1)]
    with pytest.raises(ImpactError, match="not a time zone"):
        ingest.read([path], TAKEDOWN, timezone="Mars/Olympus")


def test_malformed_lines_are_counted_with_examples(tmp_path: Path) -> None:
    text = (
        POSTFIX.encode()
        + b"Feb 30 10:00:00 mx1 postfix/smtpd[1]: 1C: client=unknown[192.0.2.50]\n"
        + b"Dec  7 10:20:00 mx1 postfix/smtpd[1]: 1D: client=unknown[300.1.2.3]\n"
        + b"\xff\xfe not text at all\n"
        + b"truncated li"
    )
    mail = ingest.read([_write(tmp_path / "mail.log", text)], TAKEDOWN)
    (report,) = mail.files
    assert report.lines == 18
    assert report.malformed == 4
    assert report.messages == 4  # the good lines are all still there
    assert len(report.examples) == 3


def test_bad_inputs_give_one_line_errors_or_notes(tmp_path: Path) -> None:
    empty = _write(tmp_path / "empty.log", "")
    mail = ingest.read([empty, _write(tmp_path / "mail.log", POSTFIX)], TAKEDOWN)
    assert mail.files[0].note == "empty file" and mail.files[0].lines == 0
    assert mail.count(["message", "reject"]) == 7
    binary = _write(tmp_path / "core", bytes(range(256)) * 64)
    with pytest.raises(ImpactError, match="binary data"):
        ingest.read([binary], TAKEDOWN)
    with pytest.raises(ImpactError, match="unknown format"):
        ingest.read([_write(tmp_path / "notes.txt", "just some\nnotes\n")], TAKEDOWN)
    with pytest.raises(ImpactError, match="damaged gzip"):
        ingest.read([_write(tmp_path / "cut.gz", gzip.compress(POSTFIX.encode())[:40])], TAKEDOWN)
    with pytest.raises(ImpactError, match="no such file"):
        ingest.read([tmp_path / "missing.log"], TAKEDOWN)
    (tmp_path / "folder").mkdir()
    with pytest.raises(ImpactError, match="not a Maildir"):
        ingest.read([tmp_path / "folder"], TAKEDOWN)
    for error in (ImpactError("x"),):
        assert "\n" not in error.message


def test_counts_are_exact_on_a_large_sample(tmp_path: Path) -> None:
    """Many lines over several DuckDB blocks: every event counted once."""
    line = "Dec  7 10:{m:02d}:00 mx1 postfix/smtpd[1]: 1A: client=unknown[192.0.2.{h}]\n"
    text = "".join(line.format(m=i % 60, h=i % 200) for i in range(120_000))
    mail = ingest.read([_write(tmp_path / "big.log", text, packed=True)], TAKEDOWN)
    assert int(pc.sum(mail.table["n"]).as_py()) == 120_000
    assert mail.files[0].lines == 120_000


def test_unreadable_lines_are_labelled_and_examples_printable(tmp_path: Path) -> None:
    """A line past the reader's size limit is named as such; control bytes in examples are
    spelled out, never sent raw to the terminal."""
    good = POSTFIX.splitlines()[1] + "\n"
    text = good + "x" * 2_000_000 + "\n" + "\x1b[2J\x07 not a log line\n" + good
    mail = ingest.read([_write(tmp_path / "mail.log", text)], TAKEDOWN)
    (report,) = mail.files
    assert report.messages == 2 and report.malformed == 2
    assert any(e.startswith("(line size over maximum) ") for e in report.examples)
    assert "\\x1b[2J\\x07 not a log line" in report.examples
    assert not any(ch in e for e in report.examples for ch in "\x1b\x07\x00")


def test_mbox_and_maildir_with_lines_far_longer_than_a_read(tmp_path: Path) -> None:
    """Long lines are read in pieces: the newline that ends a long line is not a blank line
    (so an unescaped `From ` after it stays body), and a long header line is kept whole."""
    piece = 64 * 1024
    tail = "\n" + "y" * piece + "\nFrom the body after a long line, not a separator\n"
    tail += "Received: from pc-9 ([198.51.100.66]) by x; Mon, 7 Dec 2026 09:00:00 +0000\n"
    first = _message([BOT_HOP], subject="s" * (3 * piece)) + "x" * (5 * piece) + "\n" + tail
    text = "From MAILER-DAEMON Mon Dec  7 10:20:05 2026\n" + first
    text += "\nFrom MAILER-DAEMON Mon Dec  7 10:21:00 2026\n" + _message([FORGED])
    mail = ingest.read([_write(tmp_path / "trap.mbox", text)], TAKEDOWN)
    assert _rows(mail) == [
        ("192.0.2.10", "2026-12-07T10:20", "message", 1),
        ("203.0.113.9", "2026-12-07T08:00", "message", 1),
    ]
    assert (mail.files[0].lines, mail.files[0].malformed) == (2, 0)
    box = tmp_path / "Maildir"
    (box / "new").mkdir(parents=True)
    (box / "new" / "1.mx").write_text(_message([BOT_HOP], subject="s" * (3 * piece)))
    (box / "new" / "2.mx").write_bytes(b"z" * (3 << 20))  # no newline at all
    found = ingest.read([box], TAKEDOWN)
    assert _rows(found) == [("192.0.2.10", "2026-12-07T10:20", "message", 1)]
    assert found.files[0].malformed == 1
