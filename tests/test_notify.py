"""Notification: per-contact reports, XARF, e-mail through a real SMTP server, the ledger."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import xarf
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sinkhole import attribution, notify
from sinkhole.events import shadowserver
from sinkhole.events.schema import SCHEMA
from sinkhole.events.writer import EventWriter
from sinkhole.exceptions import SinkholeError
from sinkhole.notify import ledger as ledger_mod

DAY1 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)

NETWORKS = """\
prefix,asn,as_name,country,abuse_contact
127.16.0.0/16,64496,NET-A Net A,US,abuse@net-a.example
127.17.0.0/16,64497,NET-B Net B,DE,abuse@net-b.example
127.18.0.0/16,64498,NET-C Net C,FR,
127.19.0.0/16,64499,NET-D Net D,NL,not-an-address
127.20.0.0/16,64500,NET-E Net E,GB,abuse@net-e.example
"""
#: infected addresses per network's second octet
HOSTS = {16: 5, 17: 3, 18: 2, 19: 2, 20: 4}
CONTACTS = ["abuse@net-a.example", "abuse@net-b.example", "abuse@net-e.example"]


def _event(**fields: Any) -> dict[str, Any]:
    return {name: fields.get(name) for name in SCHEMA.names}


def lab_events() -> pa.Table:
    rows = []
    for octet, count in HOSTS.items():
        for host in range(1, count + 1):
            ip = f"127.{octet}.0.{host}"
            for day in range(2):
                for k in range(3):
                    rows.append(
                        _event(
                            timestamp=DAY1 + dt.timedelta(days=day, hours=k, minutes=host),
                            protocol="tcp",
                            application="http",
                            src_ip=ip,
                            src_port=40000 + 10 * host + k,
                            dst_ip="127.0.0.1",
                            dst_port=80,
                            family="megad-sim",
                            infection="megad-sim",
                            channel="dga",
                            http_url=f"/cfg/{octet}{host}?v=3",
                            http_host="update-megad-sim.example",
                            http_agent="megad-sim/3",
                        )
                    )
    # a resolver of net A asking for a planned name (not an infected machine)
    rows.append(
        _event(
            timestamp=DAY1,
            protocol="udp",
            application="dns",
            src_ip="127.16.0.53",
            src_port=5353,
            dst_ip="127.0.0.1",
            dst_port=53,
            family="megad-sim",
            channel="dga",
            dns_qname="update-megad-sim.example",
            dns_qtype=1,
        )
    )
    # a bot of net E asking the sinkholed hard-coded resolver itself: infected
    rows.append(
        _event(
            timestamp=DAY1,
            protocol="udp",
            application="dns",
            src_ip="127.20.0.9",
            src_port=6000,
            dst_ip="127.0.0.1",
            dst_port=53,
            family="megad-sim",
            channel="dns-servers",
            dns_qname="mailer-megad-sim.example",
            dns_qtype=1,
        )
    )
    # an address no dataset covers, and a scanner that is no bot (no family)
    rows.append(
        _event(
            timestamp=DAY1,
            protocol="tcp",
            application="http",
            src_ip="127.99.0.1",
            src_port=1,
            dst_ip="127.0.0.1",
            dst_port=80,
            family="megad-sim",
        )
    )
    rows.append(
        _event(
            timestamp=DAY1,
            protocol="tcp",
            application="http",
            src_ip="127.16.9.9",
            src_port=1,
            dst_ip="127.0.0.1",
            dst_port=80,
            http_url="/",
        )
    )
    return pa.Table.from_pylist(rows, schema=SCHEMA)


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    """A store of events, a dataset, an operation file and an output folder."""
    store = tmp_path / "data"
    writer = EventWriter(store, "test")
    writer.write_table(lab_events())
    writer.close()
    dataset = tmp_path / "networks.csv"
    dataset.write_text(NETWORKS)
    op = tmp_path / "op.toml"
    text = (Path(__file__).parent.parent / "examples" / "megad-sim.toml").read_text()
    op.write_text(
        text.replace("[collisions]", f'[attribution]\ndatasets = ["{dataset}"]\n\n[collisions]')
    )
    return {"store": store, "dataset": dataset, "op": op, "out": tmp_path / "out"}


def reporter() -> notify.Reporter:
    return notify.Reporter("Test CERT", "cert@cert.example", "megad-sim lab takedown")


def run(world: dict[str, Any], server: notify.Server | None, **kw: Any) -> notify.Outcome:
    networks = attribution.open_datasets([world["dataset"]])
    pace = kw.pop("pace", notify.Pace(rate=1000, contact_gap=0, retries=2, backoff=0))
    return notify.run(world["store"], world["out"], networks, reporter(), server, pace, **kw)


# --- a real SMTP server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """aiosmtpd handler: keeps every message; can refuse, delay or kill on cue."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.busy: dict[str, int] = {}  # recipient -> how many 451s before accepting
        self.kill_on_rcpt: tuple[int, int] | None = None  # (n-th RCPT, pid)
        self.kill_on_data: tuple[int, int] | None = None
        self.drop_on_data: set[int] = set()  # n-th messages whose connection is cut, no reply
        self.rcpts = 0
        self.datas = 0
        self.lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            self.rcpts += 1
            if self.kill_on_rcpt and self.rcpts == self.kill_on_rcpt[0]:
                os.kill(self.kill_on_rcpt[1], signal.SIGKILL)
                time.sleep(0.2)
            if address in self.refuse:
                return "550 5.1.1 mailbox unavailable"
            if self.busy.get(address, 0) > 0:
                self.busy[address] -= 1
                return "451 4.3.2 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        with self.lock:
            self.datas += 1
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            if self.kill_on_data and self.datas == self.kill_on_data[0]:
                os.kill(self.kill_on_data[1], signal.SIGKILL)
                time.sleep(0.2)
            if self.datas in self.drop_on_data:
                server.transport.close()  # the message was whole; its reply never comes
        return f"250 2.0.0 queued as Q{self.datas}"

    def reports(self) -> list[str]:
        return [str(m["X-Sinkhole-Report"]) for m in self.messages]


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def server(port: int) -> notify.Server:
    return notify.Server("127.0.0.1", port, "cert@cert.example", timeout=10)


# --- building -------------------------------------------------------------------------------


def test_dry_run_builds_one_report_per_contact_with_shadowserver_files(
    world: dict[str, Any],
) -> None:
    outcome = run(world, None)
    by_contact = {r.contact: r for r in outcome.batch.reports}
    assert sorted(by_contact) == sorted([*CONTACTS, "as64498", "not-an-address"])
    assert by_contact["as64498"].state == "no-contact"
    assert by_contact["not-an-address"].state == "invalid-contact"
    assert "not-an-address" in by_contact["not-an-address"].problem
    for contact in CONTACTS:
        assert by_contact[contact].state == "dry-run"
    assert outcome.batch.unattributed == 1  # 127.99.0.1
    assert by_contact["abuse@net-a.example"].addresses == 5  # the resolver is not infected
    assert by_contact["abuse@net-e.example"].addresses == 5  # 4 HTTP bots + one dns-servers bot
    assert by_contact["abuse@net-a.example"].networks == [
        {"asn": 64496, "as_name": "NET-A Net A", "country": "US", "addresses": 5}
    ]
    folder = world["out"] / "abuse_net_a_example"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "2026-12-01-event4_sinkhole_dns-abuse_net_a_example-report.csv",
        "2026-12-01-event4_sinkhole_http-abuse_net_a_example-report.csv",
        "2026-12-02-event4_sinkhole_http-abuse_net_a_example-report.csv",
        "2026-12-02-xarf-abuse_net_a_example.jsonl",
        "message.eml",
    ]
    rows = list(csv.DictReader(io.StringIO((folder / names[1]).read_text())))
    assert list(rows[0]) == list(shadowserver.REPORTS["event4_sinkhole_http"])
    # one row per address and day: its first contact of the day, time and port included
    assert sorted(r["src_ip"] for r in rows) == [f"127.16.0.{h}" for h in range(1, 6)]
    first = next(r for r in rows if r["src_ip"] == "127.16.0.2")
    assert (first["timestamp"], first["src_port"]) == ("2026-12-01 08:02:00", "40020")
    assert {r["src_asn"] for r in rows} == {"64496"} and {r["infection"] for r in rows} == {
        "megad-sim"
    }
    assert "127.16.9.9" not in (folder / names[1]).read_text()  # no family: not a bot
    # every file with addresses is private
    assert not (world["out"] / ".staging").exists()  # the CSVs were written there, then moved
    for path in [world["out"], *world["out"].rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_every_xarf_report_validates_and_describes_its_address(world: dict[str, Any]) -> None:
    run(world, None, xarf_check="all")
    lines = (
        (world["out"] / "abuse_net_e_example" / "2026-12-02-xarf-abuse_net_e_example.jsonl")
        .read_text()
        .splitlines()
    )
    reports = [json.loads(line) for line in lines]
    assert sorted(r["source_identifier"] for r in reports) == sorted(
        [f"127.20.0.{h}" for h in range(1, 5)] + ["127.20.0.9"]
    )
    for report in reports:
        parsed = xarf.parse(report, strict=False)
        assert parsed.errors == [] and parsed.warnings == []
        assert (report["category"], report["type"]) == ("infrastructure", "botnet")
        assert report["malware_family"] == "megad-sim"
        assert report["reporter"]["contact"] == "cert@cert.example"
    bot = next(r for r in reports if r["source_identifier"] == "127.20.0.1")
    assert bot["source_port"] == 40010 and bot["c2_protocol"] == "http"
    assert "6 contacts" in bot["description"]
    assert bot["c2_server"] == "update-megad-sim.example"
    dns_bot = next(r for r in reports if r["source_identifier"] == "127.20.0.9")
    assert dns_bot["c2_protocol"] == "dns" and dns_bot["c2_server"] == "mailer-megad-sim.example"


def test_a_report_that_fails_xarf_validation_stops_the_batch(world: dict[str, Any]) -> None:
    bad = notify.Reporter("Test CERT", "cert@cert.example", "op")
    object.__setattr__(bad, "org", "x" * 300)  # over XARF's 200-character limit
    networks = attribution.open_datasets([world["dataset"]])
    with pytest.raises(SinkholeError, match="does not validate"):
        notify.run(world["store"], world["out"], networks, bad, None)


def test_the_message_holds_the_summary_and_every_file(world: dict[str, Any]) -> None:
    run(world, None)
    folder = world["out"] / "abuse_net_b_example"
    message = email.message_from_bytes(
        (folder / "message.eml").read_bytes(), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)
    assert message["To"] == "abuse@net-b.example"
    assert message["From"] == "Test CERT <cert@cert.example>"
    assert message["Subject"] == (
        "[Test CERT] 3 infected addresses in your network (megad-sim), 2026-12-01 to 2026-12-02"
    )
    assert message["Message-ID"].endswith("@cert.example>")
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "AS64497 NET-B Net B (DE): 3 addresses" in text
    assert "2026-12-01 08:01:00" in text  # first seen
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    on_disk = {p.name: p for p in folder.iterdir() if p.name != "message.eml"}
    assert set(attached) == set(on_disk)
    for name, content in attached.items():
        raw = content if isinstance(content, bytes) else content.encode()
        assert raw.replace(b"\r\n", b"\n") == on_disk[name].read_bytes().replace(b"\r\n", b"\n")


def test_templates_are_the_users_to_edit(world: dict[str, Any], tmp_path: Path) -> None:
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "subject.txt").write_text("Infected: $addresses at $contact [$report_id]\n")
    run(world, None, templates=mine)
    message = email.message_from_bytes(
        (world["out"] / "abuse_net_a_example" / "message.eml").read_bytes(),
        policy=email.policy.default,
    )
    assert str(message["Subject"]).startswith("Infected: 5 at abuse@net-a.example [")
    (mine / "subject.txt").write_text("Infected: $victims\n")
    with pytest.raises(SinkholeError, match=r"subject.txt: unknown placeholder \$victims"):
        run(world, None, templates=mine)


# --- delivery -------------------------------------------------------------------------------


def test_sent_through_a_real_smtp_server_once(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    outcome = run(world, server(port))
    assert outcome.sent == {"sent": 3}
    assert sorted(rcpts[0] for _f, rcpts in sink.envelopes) == sorted(CONTACTS)
    assert {f for f, _r in sink.envelopes} == {"cert@cert.example"}
    with ledger_mod.Ledger(world["out"]) as book:
        sent = [e for e in book.entries() if e.state == "sent"]
        assert len(sent) == 3 and all(e.reply.startswith("250 2.0.0 queued") for e in sent)
        assert {e.state for e in book.entries()} == {"sent", "no-contact", "invalid-contact"}
    # what went out is what was written
    for message in sink.messages:
        folder = world["out"] / shadowserver.slug(str(message["To"]))
        assert message["Message-ID"] in (folder / "message.eml").read_text()
    again = run(world, server(port))
    assert again.sent == {} and again.batch.skipped_sent == 3
    assert len(sink.messages) == 3


def test_refused_reports_are_recorded_and_not_retried(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    sink.refuse.add("abuse@net-b.example")
    outcome = run(world, server(port))
    assert outcome.sent == {"sent": 2, "refused": 1}
    status = notify.status(world["out"])
    refused = [r for r in status["reports"] if r["state"] == "refused"]
    assert refused[0]["contact"] == "abuse@net-b.example"
    assert refused[0]["reply"] == "550 5.1.1 mailbox unavailable"
    sink.refuse.clear()
    assert run(world, server(port)).sent == {}


def test_temporary_failures_are_retried_with_back_off(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    sink.busy["abuse@net-e.example"] = 2
    slept: list[float] = []
    networks = attribution.open_datasets([world["dataset"]])
    with notify.ledger.Ledger(world["out"]) as book:
        notify.batch.build(world["store"], world["out"], networks, reporter(), book)
        pace = notify.Pace(rate=1000, contact_gap=0, retries=3, backoff=0.5)
        outcome = notify.delivery.deliver(book, server(port), pace, sleep=slept.append)
        assert outcome == {"sent": 3}
        entry = next(e for e in book.entries() if e.recipient == "abuse@net-e.example")
        assert entry.attempts == 3
        assert [s for s in slept if s >= 0.5] == [0.5, 1.0]
        states = [h["state"] for h in book.history(entry.report_id)]
        assert states.count("deferred") == 2 and states[-1] == "sent"


def test_a_server_that_is_down_defers_and_a_later_run_sends(world: dict[str, Any]) -> None:
    port = free_port()
    outcome = run(world, server(port))
    assert outcome.sent == {"deferred": 3}
    status = notify.status(world["out"])
    assert all(
        "cannot connect" in r["reply"] for r in status["reports"] if r["state"] == "deferred"
    )
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run(world, server(port)).sent == {"sent": 3}
    finally:
        controller.stop()
    assert sorted(sink.reports()) == sorted(
        r["report_id"] for r in status["reports"] if r["state"] == "deferred"
    )


class Cutter:
    """A bare SMTP peer that takes the envelope, starts DATA, reads a little and hangs up."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(10)
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as lines:
                conn.sendall(b"220 cutter.example ESMTP\r\n")
                for line in lines:
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        conn.sendall(b"354 go ahead\r\n")
                        self.received.append(conn.recv(512))
                        break  # hang up mid-message
                    if verb == b"QUIT":
                        break
                    conn.sendall(b"250 ok\r\n")

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=10)


def test_a_server_that_hangs_up_mid_message_defers_and_a_later_run_sends_once(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    cutter = Cutter()
    try:
        pace = notify.Pace(rate=1000, contact_gap=0, retries=1, backoff=0)
        outcome = run(world, server(cutter.port), pace=pace)
    finally:
        cutter.close()
    # every report was started (a reconnect for each try), none was whole: all deferred
    assert outcome.sent == {"deferred": 3}
    assert len(cutter.received) == 6 and all(cutter.received)
    status = notify.status(world["out"])
    deferred = [r for r in status["reports"] if r["state"] == "deferred"]
    assert len(deferred) == 3
    for report in deferred:
        assert "connection lost before the" in report["reply"], report["reply"]
        assert [h["state"] for h in report["history"]].count("sending") == 2
    sink, port = smtp
    assert run(world, server(port)).sent == {"sent": 3}
    assert sorted(sink.reports()) == sorted(r["report_id"] for r in deferred)
    assert run(world, server(port)).sent == {} and len(sink.messages) == 3


def test_a_server_that_hangs_up_before_its_final_reply_leaves_the_report_uncertain(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    sink.drop_on_data = {2}
    outcome = run(world, server(port))
    # the second message was handed over whole; whether it was queued nobody knows
    assert outcome.sent == {"sent": 2, "uncertain": 1}
    assert len(sink.messages) == 3
    status = notify.status(world["out"])
    uncertain = [r for r in status["reports"] if r["state"] == "uncertain"]
    assert len(uncertain) == 1
    assert [h["state"] for h in uncertain[0]["history"]][-3:] == [
        "sending",
        "data-end",
        "uncertain",
    ]
    assert run(world, server(port)).sent == {} and len(sink.messages) == 3


def test_a_contact_is_not_mailed_twice_within_its_gap(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    gap = notify.Pace(rate=1000, contact_gap=3600, retries=0, backoff=0)
    day1 = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    assert run(world, server(port), pace=gap, until=day1).sent == {"sent": 3}
    second = run(world, server(port), pace=gap, since=day1)  # the next day's reports
    assert second.sent == {"deferred": 3}
    reply = notify.status(world["out"])["reports"]
    assert any(r["state"] == "deferred" and "rate limit" in r["reply"] for r in reply)
    assert len(sink.messages) == 3


def test_starttls_and_login(world: dict[str, Any], tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth: Any
    ) -> AuthResult:
        assert isinstance(auth, LoginPassword)
        logins.append((auth.login, auth.password))
        return AuthResult(success=auth.password == b"s3cret", handled=False)

    sink = Sink()
    port = free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticator, auth_required=True,
    )  # fmt: skip
    controller.start()
    try:
        secure = notify.Server("127.0.0.1", port, "cert@cert.example", True, "cert", "s3cret", cert)
        assert run(world, secure).sent == {"sent": 3}
        assert logins == [(b"cert", b"s3cret")]
        wrong = notify.Server("127.0.0.1", port, "cert@cert.example", True, "cert", "nope", cert)
        world["out"] = tmp_path / "out2"
        with pytest.raises(SinkholeError, match="login refused: 535"):
            run(world, wrong)
        # nothing was marked as being sent when the login failed
        assert {e["state"] for e in notify.status(world["out"])["reports"]} == {
            "built", "no-contact", "invalid-contact"
        }  # fmt: skip
    finally:
        controller.stop()
    with pytest.raises(SinkholeError, match="only sent after --starttls"):
        notify.Server("mail.example", 587, "cert@cert.example", False, "cert", "x").check()


def _certificate(folder: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )  # fmt: skip
    return cert_path, key_path


# --- crashes --------------------------------------------------------------------------------


def _cli(world: dict[str, Any], port: int, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sinkhole", "notify", str(world["op"]), "--data", str(world["store"]),
         "--out", str(world["out"]), "--smtp", f"127.0.0.1:{port}", "--from", "cert@cert.example",
         "--rate", "1000", "--contact-gap", "0", "--backoff", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_kill_9_mid_batch_then_a_rerun_delivers_each_report_exactly_once(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    proc = _cli(world, port)
    sink.kill_on_rcpt = (2, proc.pid)  # the second message's envelope: the first is in
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert len(sink.messages) == 1
    rerun = _cli(world, port, "--json")
    stdout, stderr = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, stderr.decode()
    result = json.loads(stdout)
    assert result["delivery"] == {"sent": 2} and result["built"]["already_sent"] == 1
    assert sorted(sink.reports()) == sorted(set(sink.reports())) and len(sink.reports()) == 3
    assert sorted(rcpts[0] for _f, rcpts in sink.envelopes) == sorted(CONTACTS)


def test_kill_9_after_the_message_went_over_leaves_it_uncertain_not_resent(
    world: dict[str, Any], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    proc = _cli(world, port)
    sink.kill_on_data = (1, proc.pid)  # killed after the end of data, before the reply
    proc.communicate(timeout=60)
    assert len(sink.messages) == 1
    rerun = _cli(world, port, "--json")
    stdout, _ = rerun.communicate(timeout=60)
    assert rerun.returncode == 1  # something is uncertain: the operator must look
    result = json.loads(stdout)
    assert result["ledger"]["uncertain"] == 1 and result["ledger"]["sent"] == 2
    assert len(sink.messages) == 3 and len(set(sink.reports())) == 3
    status = subprocess.run(
        [sys.executable, "-m", "sinkhole", "notify", str(world["op"]), "--out", str(world["out"]),
         "--status", "--json"], capture_output=True, check=True,
    )  # fmt: skip
    reports = json.loads(status.stdout)["reports"]
    uncertain = next(r for r in reports if r["state"] == "uncertain")
    assert [h["state"] for h in uncertain["history"]][-3:] == ["sending", "data-end", "uncertain"]
    resend = _cli(world, port, "--resend-uncertain")
    resend.communicate(timeout=60)
    assert resend.returncode == 0 and len(sink.messages) == 4


# --- bounces, status and the command line ---------------------------------------------------


def _dsn(original: EmailMessage, action: str) -> bytes:
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.net-b.example"
    report["To"] = "cert@cert.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("Your message could not be delivered.")
    report.make_mixed()
    status = (
        "Reporting-MTA: dns; mx.net-b.example\n\n"
        f"Final-Recipient: rfc822; {original['To']}\nAction: {action}\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
    )
    raw = (
        "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="b"\n\n--b\nContent-Type: text/plain\n\ndelivery failed\n\n--b\n'
        f"Content-Type: message/delivery-status\n\n{status}\n--b\n"
        "Content-Type: text/rfc822-headers\n\n"
        f"Message-ID: {original['Message-ID']}\nTo: {original['To']}\n\n--b--\n"
    )
    return f"From: MAILER-DAEMON@mx.net-b.example\nSubject: bounce\n{raw}".encode()


def test_bounces_are_read_back_into_the_ledger(
    world: dict[str, Any], smtp: tuple[Sink, int], tmp_path: Path
) -> None:
    sink, port = smtp
    run(world, server(port))
    original = next(m for m in sink.messages if m["To"] == "abuse@net-b.example")
    failed, later = tmp_path / "failed.eml", tmp_path / "delayed.eml"
    failed.write_bytes(_dsn(original, "failed"))
    later.write_bytes(_dsn(original, "delayed"))
    not_dsn = tmp_path / "note.eml"
    not_dsn.write_bytes(b"From: a@b.example\nSubject: hi\n\nhello\n")
    counts = notify.read_bounces(world["out"], [later, failed, not_dsn])
    assert counts == {"bounced": 1, "delayed": 1, "not_ours": 0, "not_dsn": 1}
    entry = next(
        r for r in notify.status(world["out"])["reports"] if r["contact"] == "abuse@net-b.example"
    )
    assert entry["state"] == "bounced" and "5.1.1" in entry["reply"]


def test_cli_contract_and_bad_input(world: dict[str, Any]) -> None:
    base = [sys.executable, "-m", "sinkhole", "notify", str(world["op"]), "--data", str(world["store"]),
            "--out", str(world["out"])]  # fmt: skip
    cases = {
        (): "give --dry-run or --smtp",
        ("--dry-run", "--smtp", "127.0.0.1:25"): "give --dry-run or --smtp",
        ("--smtp", "127.0.0.1:25", "--user", "u"): "--user and --password-file go together",
        ("--smtp", "nowhere"): "--smtp 'nowhere'",
        ("--dry-run", "--from", "nobody"): "--from 'nobody': not an e-mail address",
        ("--dry-run", "--xarf-check", "some"): "--xarf-check 'some'",
    }
    for extra, expected in cases.items():
        done = subprocess.run([*base, *extra], capture_output=True, text=True)
        assert done.returncode == 2, (extra, done.stderr)
        assert done.stderr.count("\n") == 1 and expected in done.stderr, (extra, done.stderr)
    status = subprocess.run([*base, "--status"], capture_output=True, text=True)
    assert status.returncode == 2 and "no notification ledger here" in status.stderr
    done = subprocess.run([*base, "--dry-run"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "3 reports" not in done.stdout and "dry-run 3" in done.stdout
    table = subprocess.run([*base, "--status"], capture_output=True, text=True, check=True)
    assert "abuse@net-a.example" in table.stdout and "no-contact" in table.stdout


def test_one_notify_at_a_time_per_folder(world: dict[str, Any]) -> None:
    lock = notify._Lock(world["out"])
    try:
        with pytest.raises(SinkholeError, match="another `sinkhole notify`"):
            run(world, None)
    finally:
        lock.release()
    assert run(world, None).batch.reports
