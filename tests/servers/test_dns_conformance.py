"""DNS conformance: the same packets to `sinkhole serve` and to NSD, over UDP and TCP.

NSD serves the zones `sinkhole plan` exports for the same operation (each planned domain:
SOA, NS, A/AAAA at the apex and under ``*``), so both answer the same names: a planned
domain and every name below it. Each case is one exact packet (dnspython-built or raw
bytes); the replies are compared on rcode (extended included), AA, TC, RA, section counts,
OPT presence, the DO bit and the echoed question bytes (0x20 case). Where a case pins an
RFC expectation (``expect``), NSD must show it too, so a test cannot pass on two wrong
answers.

Comparison rules, where the sinkhole's design legitimately differs from NSD's:

* Positive answers: NSD adds the zone's NS records to the authority section; the sinkhole
  sends minimal responses (both are right, RFC 2181 §9). The authority count is compared
  on negative answers only, where the SOA is required (RFC 2308 §2.2).
* The additional section is compared as "OPT or not" (no glue: the name servers are
  outside the zones).
* RD is not compared: both copy it, but NSD clears it on some FORMERR paths.
* NOTIFY: NSD implements it and refuses it without an ACL (REFUSED); the sinkhole does not
  implement it (NOTIMP). ``ours`` records such documented differences.
* A header-only message without EDNS over TCP: NSD closes the connection, the sinkhole
  answers FORMERR (as NSD does over UDP).
* CHAOS class (version.bind): NSD answers with its version, the sinkhole refuses; not a case.
"""

from __future__ import annotations

import json
import math
import random
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import pytest

from sinkhole.events import store
from sinkhole.servers import dnswire
from sinkhole.testing import running_nsd, running_sinkhole, which

pytestmark = pytest.mark.skipif(which("nsd") is None, reason="nsd is not installed")

ZONE = "mailer-megad-sim.example"
SHORT = "aobwcfra.test"
OP = f"""\
[operation]
name = "dns conformance"
start = 2026-12-01
hold_days = 2

[sinkhole]
ipv4 = ["127.0.0.1"]
ipv6 = ["::1"]
nameservers = ["ns1.sinkhole.example", "ns2.sinkhole.example"]
hostmaster = "hostmaster.sinkhole.example"

[[targets]]
family = "megad-sim"
use_family_lists = false
dga_params = {{ count = 1 }}
static_domains = ["{ZONE}", "{SHORT}"]

[listeners]
http = []
"""
#: The same header every raw case starts from: ID 0x1234, RD.
QUESTION = b"\x10mailer-megad-sim\x07example\x00\x00\x01\x00\x01"
OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
OPT_DO = b"\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00"


def header(qd: int = 1, an: int = 0, ns: int = 0, ar: int = 0, flags: int = 0x0100) -> bytes:
    """A query header with these counts."""
    return struct.pack("!HHHHHH", 0x1234, flags, qd, an, ns, ar)


def query(name: str, rdtype: str | int = "A", **kw: Any) -> bytes:
    """A dnspython-built query in wire format."""
    return dns.message.make_query(name, rdtype, **kw).to_wire()


def long_name(total: int) -> bytes:
    """A question (type A) whose name is `total` octets in wire format, below ZONE."""
    tail = QUESTION[:-4]
    filler = total - len(tail) - 3 * 64
    return (
        b"".join(bytes([63]) + bytes([c]) * 63 for c in b"abc")
        + bytes([filler - 1])
        + b"d" * (filler - 1)
        + QUESTION
    )


@dataclass(frozen=True)
class Case:
    """One packet sent to both servers, with what both must show and our documented diffs."""

    name: str
    packet: bytes
    transports: tuple[str, ...] = ("udp", "tcp")
    expect: dict[str, Any] = field(default_factory=dict)
    ours: dict[str, Any] = field(default_factory=dict)
    silent: bool = False  # no reply expected: wait briefly


FORMERR = {"rcode": dns.rcode.FORMERR, "qd": 0, "opt": False}
CASES = [
    # 1. DO is echoed in the reply's OPT (RFC 3225 §3)
    Case("do-bit", query(ZONE, use_edns=0, want_dnssec=True), expect={"do": True, "an": 1}),
    # 2. zone transfers are refused (NOTIMP for AXFR over UDP, as NSD)
    Case("axfr-udp", query(ZONE, "AXFR"), ("udp",), {"rcode": dns.rcode.NOTIMP, "aa": False}),
    Case("axfr-tcp", query(ZONE, "AXFR"), ("tcp",), {"rcode": dns.rcode.REFUSED, "aa": False}),
    Case("ixfr", query(ZONE, "IXFR"), expect={"rcode": dns.rcode.REFUSED, "an": 0}),
    Case("axfr-edns-do", query(ZONE, "AXFR", use_edns=0, want_dnssec=True), expect={"do": True}),
    Case("axfr-unplanned", query("example.com", "AXFR"), ("udp",), {"rcode": dns.rcode.NOTIMP}),
    # 3. a label with a dot in it is one label: no planned name, whatever its text says
    Case(
        "dotted-label-below",
        header() + b"\x01x\x18mailer-megad-sim.example\x00\x00\x01\x00\x01",
        expect={"rcode": dns.rcode.REFUSED, "aa": False},
    ),
    Case(
        "dotted-label-only",
        header() + b"\x18mailer-megad-sim.example\x00\x00\x01\x00\x01",
        expect={"rcode": dns.rcode.REFUSED},
    ),
    Case(
        "dotted-label-above",
        header() + b"\x03a.b" + QUESTION,
        expect={"rcode": dns.rcode.NOERROR, "aa": True, "an": 1},
    ),
    # 4. 255 octets is the longest name; 256 is FORMERR
    Case("name-255", header() + long_name(255), expect={"rcode": dns.rcode.NOERROR, "an": 1}),
    Case("name-256", header() + long_name(256), expect=FORMERR),
    # 5. a negative answer always carries its SOA, even to a tiny query without EDNS
    Case("nodata-short-noedns", query(SHORT, "TXT"), expect={"an": 0, "ns": 1, "tc": False}),
    Case("nodata-mx", query(f"www.{ZONE}", "MX"), expect={"an": 0, "ns": 1, "aa": True}),
    # 6. malformed packets: FORMERR (stored as events: test_malformed_packets_are_events)
    Case("qdcount-0", header(qd=0), ("udp",), FORMERR),
    Case("qdcount-0-tcp", header(qd=0), ("tcp",), ours=FORMERR, silent=True),
    Case("qdcount-2", header(qd=2) + QUESTION * 2, expect=FORMERR),
    Case("bad-pointer", header() + b"\xc0\x0c\x00\x01\x00\x01", expect=FORMERR),
    Case("label-64", header() + b"\x40" + b"a" * 64 + QUESTION, expect=FORMERR),
    Case("truncated-name", header() + b"\x10mailer-megad", expect=FORMERR),
    Case("response-bit", header(flags=0x8000) + QUESTION, silent=True),
    # 7. records where a query has none, or a bad OPT: FORMERR (RFC 6891 §6.1.1)
    Case("ancount-1", header(an=1) + QUESTION, expect=FORMERR),
    Case("nscount-1", header(ns=1) + QUESTION, expect=FORMERR),
    Case("two-opt", header(ar=2) + QUESTION + OPT + OPT, expect=FORMERR),
    Case("opt-not-root", header(ar=1) + QUESTION + b"\x01a" + OPT[1:], expect=FORMERR),
    Case(
        "opt-option-cut",
        header(ar=1) + QUESTION + OPT[:-2] + b"\x00\x06\x00\x0a\x00\x08\x01\x02",
        expect=FORMERR,
    ),
    Case("opt-rdata-beyond", header(ar=1) + QUESTION + OPT[:-2] + b"\x00\x10", expect=FORMERR),
    Case("arcount-1-missing", header(ar=1) + QUESTION, expect=FORMERR),
    Case(
        "additional-not-opt",
        header(ar=1) + QUESTION + b"\x00\x00\x01\x00\x01" + bytes(6),
        expect=FORMERR,
    ),
    # 8. a header and an OPT (dig +header-only, cookie probes): NOERROR with an OPT
    Case(
        "qdcount-0-edns",
        header(qd=0, ar=1) + OPT,
        ("udp",),
        {"rcode": dns.rcode.NOERROR, "opt": True, "qd": 0},
    ),
    Case("qdcount-0-edns-do", header(qd=0, ar=1) + OPT_DO, ("udp",), {"do": True}),
    # 9. no AA on BADVERS or on QCLASS ANY
    Case(
        "badvers-in-zone",
        query(ZONE, use_edns=1),
        expect={"rcode": dns.rcode.BADVERS, "aa": False, "opt": True},
    ),
    Case(
        "badvers-unplanned", query("example.com", use_edns=1), expect={"rcode": dns.rcode.BADVERS}
    ),
    Case("badvers-do", query(ZONE, use_edns=1, want_dnssec=True), expect={"do": False}),
    Case("class-any", query(ZONE, rdclass="ANY"), expect={"aa": False, "an": 1}),
    # ordinary queries that must keep matching
    Case("a-apex", query(ZONE), expect={"rcode": dns.rcode.NOERROR, "aa": True, "an": 1}),
    Case("a-below", query(f"x.y.{ZONE}", use_edns=0), expect={"an": 1, "opt": True}),
    Case("aaaa-below", query(f"x.{ZONE}", "AAAA"), expect={"an": 1}),
    Case("ns-apex", query(ZONE, "NS"), expect={"an": 2}),
    Case("ns-below", query(f"x.{ZONE}", "NS"), expect={"an": 0, "ns": 1}),
    Case("soa-apex", query(ZONE, "SOA"), expect={"an": 1, "tc": False}),
    Case("any-apex", query(ZONE, "ANY"), expect={"an": 1}),
    Case("refused", query("example.com"), expect={"rcode": dns.rcode.REFUSED, "aa": False}),
    Case("refused-root", query(".", "NS"), expect={"rcode": dns.rcode.REFUSED}),
    Case("class-chaos", query(ZONE, rdclass="CH"), expect={"rcode": dns.rcode.REFUSED}),
    Case("opcode-status", header(flags=0x1100) + QUESTION, expect={"rcode": dns.rcode.NOTIMP}),
    Case("opcode-update", header(flags=0x2900) + QUESTION, expect={"rcode": dns.rcode.NOTIMP}),
    Case("opcode-notify", header(flags=0x2100) + QUESTION, ours={"rcode": dns.rcode.NOTIMP}),
    Case("case-0x20", query("MaIlEr-MeGaD-sIm.ExAmPlE"), expect={"an": 1, "echo": True}),
    Case("trailing-bytes", query(ZONE) + b"xyz", expect={"an": 1}),
    Case("tc-bit-in-query", header(flags=0x0300) + QUESTION, expect={"an": 1, "tc": False}),
    Case(
        "edns-payload-100",
        header(ar=1) + QUESTION + OPT[:3] + b"\x00\x64" + OPT[5:],
        expect={"an": 1},
    ),
    Case("qtype-0", header() + QUESTION[:-4] + b"\x00\x00\x00\x01", expect={"an": 0, "ns": 1}),
]


@dataclass
class Servers:
    """Both servers, serving the same operation."""

    nsd: tuple[str, int]
    sinkhole: tuple[str, int]
    data: Path
    op: Path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("conformance")
    op = folder / "op.toml"
    op.write_text(OP)
    subprocess.run([sys.executable, "-m", "sinkhole", "plan", str(op), "--out", str(folder / "plan")],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    with ExitStack() as stack:
        nsd = stack.enter_context(running_nsd(folder / "plan" / "zones", folder / "nsd"))
        sink = stack.enter_context(running_sinkhole(op, folder / "data"))
        yield Servers(nsd, sink.address("dns"), folder / "data", op)


def exchange(
    server: tuple[str, int], packet: bytes, transport: str, wait: float = 3.0, source: str = ""
) -> bytes | None:
    """Send one message and return the reply (None: no reply within `wait` or closed)."""
    if transport == "tcp":
        with socket.create_connection(server, timeout=wait, source_address=(source, 0)) as sock:
            sock.sendall(struct.pack("!H", len(packet)) + packet)
            data = b""
            try:
                while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
                    chunk = sock.recv(65535)
                    if not chunk:
                        return None
                    data += chunk
            except (TimeoutError, ConnectionError):
                return None
            return data[2:]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source or "127.0.0.1", 0))
        sock.settimeout(wait)
        sock.sendto(packet, server)
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def shape(reply: bytes | None, packet: bytes) -> dict[str, Any] | None:
    """What is compared of a reply (it must parse: dnspython is the reference parser)."""
    if reply is None:
        return None
    message = dns.message.from_wire(reply)
    _, flags, qd, an, ns, _ = struct.unpack_from("!HHHHHH", reply)
    out = {
        "rcode": message.rcode(),
        "aa": bool(flags & dns.flags.AA),
        "tc": bool(flags & dns.flags.TC),
        "ra": bool(flags & dns.flags.RA),
        "qd": qd,
        "an": an,
        "ns": ns if an == 0 else None,  # NSD adds NS to positive answers; we are minimal
        "opt": message.edns >= 0,
        "do": bool(message.ednsflags & dns.flags.DO),
        "echo": None,
    }
    if qd:
        end = dnswire.parse(packet).question_end
        out["echo"] = reply[12:end] == packet[12:end]
    return out


PARAMS = [pytest.param(c, t, id=f"{c.name}-{t}") for c in CASES for t in c.transports]


@pytest.mark.parametrize(("case", "transport"), PARAMS)
def test_same_answer_as_nsd(servers: Servers, case: Case, transport: str) -> None:
    wait = 0.5 if case.silent else 3.0  # a reply on loopback takes milliseconds
    theirs = shape(exchange(servers.nsd, case.packet, transport, wait), case.packet)
    ours_wait = 3.0 if case.ours else wait
    ours = shape(exchange(servers.sinkhole, case.packet, transport, ours_wait), case.packet)
    if case.silent and not case.ours:
        assert theirs is None and ours is None
        return
    if case.ours:
        # a documented difference: check ours, and that NSD still does what the docstring says
        assert ours is not None
        assert {k: ours[k] for k in case.ours} == case.ours
        assert theirs is None or any(theirs[k] != v for k, v in case.ours.items())
        return
    assert theirs is not None, "NSD did not answer"
    assert {k: theirs[k] for k in case.expect} == case.expect, "NSD differs from the RFC"
    assert ours == theirs
    if ours["qd"]:
        assert ours["echo"], "the question must be echoed byte for byte"


def _dig(program: str, server: tuple[str, int], *args: str) -> str:
    host, port = server
    patience = ["+retry=0", "+timeout=3"] if program.endswith("kdig") else ["+tries=1", "+time=3"]
    command = [program, f"@{host}", "-p", str(port), *patience, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout


@pytest.mark.skipif(which("dig") is None or which("kdig") is None, reason="needs dig and kdig")
def test_dig_and_kdig_see_the_same_as_with_nsd(servers: Servers) -> None:
    dig, kdig = which("dig"), which("kdig")
    assert dig is not None and kdig is not None
    for server in (servers.nsd, servers.sinkhole):
        # 1. +dnssec: the DO flag comes back
        out = _dig(dig, server, "+dnssec", ZONE, "A")
        assert "status: NOERROR" in out and "flags: do;" in out, out
        out = _dig(kdig, server, "+dnssec", f"www.{ZONE}", "A")
        assert "status: NOERROR" in out and "flags: do;" in out, out
        # 8. +header-only: NOERROR with an OPT, no advice to retry without EDNS
        out = _dig(dig, server, "+header-only", ZONE, "A")
        assert "status: NOERROR" in out and "EDNS: version: 0" in out, out
        assert "FORMERR" not in out and "retry with" not in out, out
        # 2. AXFR: refused, so the transfer fails
        out = _dig(dig, server, ZONE, "AXFR")
        assert "Transfer failed." in out, out
        # 3. a dot inside a label: not the planned name
        out = _dig(kdig, server, f"x.{ZONE.replace('.', chr(92) + '.')}", "A")
        assert "status: REFUSED" in out, out
        # 5. NODATA without EDNS still carries the SOA
        out = _dig(kdig, server, "+noedns", SHORT, "TXT")
        assert "status: NOERROR" in out and "AUTHORITY SECTION" in out and "SOA" in out, out


def _events(data: Path, src_ip: str, count: int) -> list[dict[str, Any]]:
    """The events from `src_ip`, once `count` of them are readable (the WAL is flushed)."""
    deadline = time.monotonic() + 15
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = store.read(data, store.Filter(src_ip=src_ip)).to_pylist()
        if len(rows) >= count:
            break
        time.sleep(0.1)
    return rows


def _counters(data: Path) -> dict[str, int]:
    # the worker writes its stats file on its first flush: wait for it (a fresh module's
    # first test may get here sooner)
    path = data / "stats" / "sensor-w0.json"
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stats = json.loads(path.read_text())
    counters: dict[str, int] = stats["listeners"]["dns"]
    return counters


def test_zone_transfers_and_malformed_packets_are_events(servers: Servers) -> None:
    source = "127.0.97.1"
    before = _counters(servers.data)
    axfr = query(ZONE, "AXFR")
    assert exchange(servers.sinkhole, axfr, "tcp", source=source) is not None
    assert exchange(servers.sinkhole, axfr, "udp", source=source) is not None
    malformed = [
        header(qd=0),
        header(qd=2) + QUESTION * 2,
        header() + b"\xc0\x0c\x00\x01\x00\x01",
        header(an=1) + QUESTION,
        header(ar=2) + QUESTION + OPT + OPT,
        header() + long_name(256),
        header(flags=0x8000) + QUESTION,  # a response: no reply, still an event
        b"\x12\x34\x01",  # shorter than a header: no reply, still an event
    ]
    for packet in malformed:
        exchange(servers.sinkhole, packet, "udp", wait=0.3, source=source)
    rows = _events(servers.data, source, 2 + len(malformed))
    transfers = [r for r in rows if r["tag"] == "zone-transfer"]
    assert sorted((r["protocol"], r["dns_rcode"]) for r in transfers) == [
        ("tcp", dns.rcode.REFUSED),
        ("udp", dns.rcode.NOTIMP),
    ]
    assert {(r["dns_qname"], r["dns_qtype"], r["family"]) for r in transfers} == {
        (ZONE, 252, "megad-sim")
    }
    bad = [r for r in rows if r["tag"] == "malformed"]
    assert [r["payload_head"] for r in bad] == malformed
    assert [r["dns_rcode"] for r in bad] == [dns.rcode.FORMERR] * 6 + [None, None]
    assert all(r["application"] == "dns" and r["dns_qname"] is None for r in bad)
    # the listener's counters (the stats file `sinkhole stats` reads) count them too
    deadline = time.monotonic() + 10
    after = _counters(servers.data)
    while after["malformed"] - before["malformed"] < len(malformed) and time.monotonic() < deadline:
        time.sleep(0.1)
        after = _counters(servers.data)
    # (`before` may be one flush old, so other tests' packets can show up in the difference)
    assert after["malformed"] - before["malformed"] >= len(malformed)
    assert after["zone_transfers"] - before["zone_transfers"] >= 2
    out = subprocess.run([sys.executable, "-m", "sinkhole", "stats", str(servers.op), "--data",
                          str(servers.data), "--json", "--interval", "0.2"],
                         capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    [sensor] = json.loads(out.stdout)["sensors"]
    assert sensor["listeners"]["dns"]["malformed"] >= len(malformed)


def _burst(server: tuple[str, int], source: str, count: int) -> tuple[int, float]:
    """Send `count` queries for random names below ZONE at once: the full answers received,
    and the seconds from the first send to the last reply (a loaded machine stretches it)."""
    rng = random.Random(11)
    packets = [query(f"{rng.getrandbits(48):x}.{ZONE}") for _ in range(count)]
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        began = last = time.monotonic()
        for packet in packets:
            sock.sendto(packet, server)
        sock.settimeout(1.0)
        try:
            while True:
                reply = sock.recv(4096)
                last = time.monotonic()
                if not struct.unpack_from("!H", reply, 2)[0] & dns.flags.TC:
                    answered += 1
        except TimeoutError:
            pass
    return answered, last - began


def test_random_subdomains_share_their_zone_rate_limit(servers: Servers) -> None:
    # 10. RRL keyed on the zone answered (as NSD and BIND key wildcard answers), not the name:
    # a burst of random names below one planned domain from one /24 is capped like one name.
    count, limit = 1000, 200  # the default dns_rate_limit
    theirs, seconds = _burst(servers.nsd, "127.0.99.1", count)
    ours, _ = _burst(servers.sinkhole, "127.0.98.1", count)
    # NSD's RRL caps it too: at most `limit` a second over the seconds the burst spanned
    # (on a loaded machine the burst may span several)
    cap = limit * (math.ceil(seconds) + 1)
    assert theirs <= cap, "NSD's RRL should cap the burst too"
    assert theirs < count or cap >= count
    rows = _events(servers.data, "127.0.98.1", count)
    assert len(rows) == count  # every packet is an event, answered or not
    # the one-second windows the server's handling of the burst touched
    stamps = [r["timestamp"] for r in rows]
    windows = math.ceil((max(stamps) - min(stamps)).total_seconds()) + 1
    assert 0 < ours <= limit * windows
    assert ours < count or limit * windows >= count
    limited = [r for r in rows if r["tag"] == "rate-limited"]
    assert len(limited) == count - ours
    assert {r["family"] for r in limited} == {"megad-sim"}
