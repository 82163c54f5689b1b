"""The DNSBL (RFC 5782): real lookups with dnspython over UDP and TCP, rbldnsd beside it
serving our own export, reloads under load, and the handler's answers to odd packets."""

from __future__ import annotations

import datetime as dt
import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.reversename
import pyarrow as pa
import pytest

from sinkhole import attribution, blocklist
from sinkhole.blocklist import exports, policy, state
from sinkhole.blocklist.testing import running_dnsbl, running_rbldnsd
from sinkhole.events.schema import SCHEMA
from sinkhole.events.writer import EventWriter
from sinkhole.servers import dnsbl
from sinkhole.servers import dnswire as wire
from sinkhole.testing import running_sinkhole, which

OPERATION = Path(__file__).parent.parent.parent / "examples" / "megad-sim.toml"
ZONE = "dnsbl.sinkhole.example"
FAMILIES = ("megad-sim", "necurs", "torpig", "some-new-family")


def bots(count: int, offset: int = 0) -> list[str]:
    """Distinct lab addresses (127.16.0.0/12: the lab networks) and a few IPv6 ones."""
    out = [
        f"127.{16 + (i >> 16) % 48}.{(i >> 8) & 255}.{i & 255}"
        for i in range(offset, offset + count)
    ]
    out += [f"2001:db8:{i:x}::{i % 7 + 1:x}" for i in range(offset, offset + count // 20)]
    return out


def write_bots(root: Path, ips: list[str], sensor: str) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n, ip in enumerate(ips):
        row: dict[str, Any] = {name: None for name in SCHEMA.names}
        row.update(timestamp=now - dt.timedelta(minutes=n % 600), src_ip=ip, application="http",
                   protocol="tcp", family=FAMILIES[n % len(FAMILIES)])  # fmt: skip
        rows.append(row)
    writer = EventWriter(root, sensor)
    writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
    writer.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A store with listed bots, its listing, our DNSBL and (when installed) rbldnsd."""
    folder = tmp_path_factory.mktemp("dnsbl")
    root = folder / "data"
    listed = bots(3000)
    write_bots(root, listed, "test")
    blocklist.build(root, attribution.lab(), removal="write to cert@sinkhole.example")
    with running_dnsbl(OPERATION, root, ZONE, "--dataset", "lab", "--refresh", "1",
                       "--rate-limit", "0") as server:  # fmt: skip
        yield {"root": root, "listed": listed, "server": server, "folder": folder,
               "address": server.address("dnsbl")}  # fmt: skip


def ask(address: tuple[str, int], name: str, rdtype: str, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    query.flags &= ~dns.flags.RD
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, address[0], port=address[1], timeout=3)


def name_of(ip: str) -> str:
    return dns.reversename.from_address(ip).to_text().replace(".in-addr.arpa.", "").replace(
        ".ip6.arpa.", ""
    ) + "." + ZONE  # fmt: skip


def answers(reply: dns.message.Message, rdtype: int) -> list[str]:
    return sorted(rd.to_text() for rrset in reply.answer if rrset.rdtype == rdtype for rd in rrset)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_listed_unlisted_and_test_points(world: dict[str, Any], tcp: bool) -> None:
    address = world["address"]
    checks = {ip: blocklist.check(world["root"], [ip])[0] for ip in world["listed"][:40:7]}
    checks["2001:db8:3::4"] = blocklist.check(world["root"], ["2001:db8:3::4"])[0]
    for ip, verdict in checks.items():
        assert verdict.listed, ip
        reply = ask(address, name_of(ip), "A", tcp)
        assert reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA
        assert answers(reply, dns.rdatatype.A) == [f"127.0.0.{verdict.code}"]
        txt = answers(ask(address, name_of(ip), "TXT", tcp), dns.rdatatype.TXT)
        assert len(txt) == 1 and txt[0].startswith(f'"{ip} listed: ')
        assert verdict.why in txt[0] and "removal: write to cert@sinkhole.example" in txt[0]
    codes = {blocklist.check(world["root"], [ip])[0].code for ip in world["listed"][:8]}
    assert {policy.FAMILY_CODES["megad-sim"], policy.FAMILY_CODES["necurs"], 3} <= codes
    for ip in ("127.0.0.2", "::ffff:7f00:2"):  # RFC 5782 section 5: always listed
        reply = ask(address, name_of(ip), "A", tcp)
        assert answers(reply, dns.rdatatype.A) == ["127.0.0.2"], ip
    for ip in ("127.0.0.1", "::ffff:7f00:1", "192.0.2.1", "2001:db8:ffff::1"):  # never listed
        reply = ask(address, name_of(ip), "A", tcp)
        assert reply.rcode() == dns.rcode.NXDOMAIN, ip
        assert reply.authority and reply.authority[0].rdtype == dns.rdatatype.SOA
        assert reply.authority[0].name.to_text() == ZONE + "."


def test_apex_and_outside(world: dict[str, Any]) -> None:
    address = world["address"]
    soa = ask(address, ZONE, "SOA")
    assert answers(soa, dns.rdatatype.SOA)[0].startswith("ns1.sinkhole.example. hostmaster.")
    assert soa.answer[0][0].serial == state.serial(world["root"])  # the listing's serial
    ns = ask(address, ZONE, "NS", tcp=True)
    assert answers(ns, dns.rdatatype.NS) == ["ns1.sinkhole.example.", "ns2.sinkhole.example."]
    for name in ("2.0.0.127.other.example", "example", "sinkhole.example"):
        assert ask(address, name, "A").rcode() == dns.rcode.REFUSED, name
    listed = name_of(world["listed"][0])
    mx = ask(address, listed, "MX")  # listed, no such type: NODATA with the SOA
    assert mx.rcode() == dns.rcode.NOERROR and not mx.answer and mx.authority


@pytest.mark.skipif(which("rbldnsd") is None, reason="rbldnsd is not installed")
def test_rbldnsd_serving_our_export_answers_the_same(world: dict[str, Any]) -> None:
    export = world["folder"] / "bl.rbldnsd"
    sink = exports.Zone(("ns1.sinkhole.example", "ns2.sinkhole.example"),
                        "hostmaster.sinkhole.example", 300)  # fmt: skip
    exports.export(world["root"], "rbldnsd", export, sink)
    rng = random.Random(5)
    tests = ["127.0.0.2", "127.0.0.1", "::ffff:7f00:2", "::ffff:7f00:1"]
    sample = [*rng.sample(world["listed"], 150), *tests]
    sample += [f"127.{rng.randrange(16, 64)}.{rng.randrange(256)}.{rng.randrange(256)}"
               for _ in range(150)]  # fmt: skip
    sample += [f"2001:db8:{rng.randrange(1 << 16):x}::{rng.randrange(1, 9)}" for _ in range(30)]
    ours = world["address"]
    compared = listed = 0
    with running_rbldnsd(export, ZONE, world["folder"]) as (_proc, port):
        theirs = ("127.0.0.1", port)
        for ip in sample:
            for rdtype in ("A", "TXT"):
                mine, peer = ask(ours, name_of(ip), rdtype), ask(theirs, name_of(ip), rdtype)
                assert mine.rcode() == peer.rcode(), (ip, rdtype)
                kind = dns.rdatatype.from_text(rdtype)
                assert answers(mine, kind) == answers(peer, kind), (ip, rdtype)
                compared += 1
                listed += bool(answers(mine, kind))
    assert compared == 2 * len(sample) and listed >= 2 * 150


def test_new_events_are_listed_while_serving(world: dict[str, Any]) -> None:
    """The parent folds what `serve` writes into the listing; the workers swap it in."""
    address = world["address"]
    newcomer = "127.30.200.9"
    assert ask(address, name_of(newcomer), "A").rcode() == dns.rcode.NXDOMAIN
    write_bots(world["root"], [newcomer], "later")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ask(address, name_of(newcomer), "A").rcode() == dns.rcode.NOERROR:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the new bot was not listed within 30 s")
    assert answers(ask(address, name_of(newcomer), "A"), dns.rdatatype.A) == ["127.0.0.14"]


def test_reload_drops_no_query(world: dict[str, Any]) -> None:
    """Queries sent all through a reload are all answered, with the old or the new listing."""
    address = world["address"]
    targets = [name_of(ip) for ip in world["listed"][:50]] + [name_of("192.0.2.200")]
    failures: list[str] = []
    answered = [0]
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            for name in targets:
                try:
                    reply = ask(address, name, "A")
                except Exception as exc:  # a timeout would be a dropped query
                    failures.append(f"{name}: {type(exc).__name__}")
                    continue
                if reply.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    failures.append(f"{name}: {dns.rcode.to_text(reply.rcode())}")
                answered[0] += 1

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        blocklist.add(world["root"], "192.0.2.200", "reported by a partner")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if ask(address, name_of("192.0.2.200"), "A").rcode() == dns.rcode.NOERROR:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the addition was not served within 20 s")
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures, failures[:5]
    assert answered[0] > 100
    txt = answers(ask(address, name_of("192.0.2.200"), "TXT"), dns.rdatatype.TXT)
    assert "reported by a partner" in txt[0]


# -- the handler on its own: odd packets ---------------------------------------------------


@pytest.fixture
def handler() -> dnsbl.DnsblHandler:
    entries = [("127.16.0.5", 14, "$ listed: megad-sim bot"), ("2001:db8::5", 17, "$ necurs")]
    table = dnsbl.load_table(ZONE, entries, 300)
    records = wire.Records((), (), ("ns1.sinkhole.example",), "hostmaster.sinkhole.example",
                           300, 1)  # fmt: skip
    return dnsbl.DnsblHandler(table, records, rate_limit=5)


def reply_of(handler: dnsbl.DnsblHandler, query: dns.message.Message, udp: bool = True) -> Any:
    raw = handler.handle(query.to_wire(), "192.0.2.1", 5353, udp)
    assert raw is not None
    return dns.message.from_wire(raw)


def test_handler_answers(handler: dnsbl.DnsblHandler) -> None:
    reply = reply_of(handler, dns.message.make_query(name_of("2001:db8::5"), "TXT"))
    assert answers(reply, dns.rdatatype.TXT) == ['"2001:db8::5 necurs"']
    anything = reply_of(handler, dns.message.make_query(name_of("127.16.0.5"), "ANY"), udp=False)
    assert len(anything.answer) == 2
    # a label holding a dot is no address label, whatever its text says
    labels = [b"5.0", b"16", b"127", *ZONE.encode().split(b"."), b""]
    forged = dns.message.make_query(dns.name.Name(labels), "A")
    assert reply_of(handler, forged).rcode() == dns.rcode.NXDOMAIN
    # chaos class, zone transfers, EDNS version 1
    assert reply_of(handler, dns.message.make_query(ZONE, "A", "CH")).rcode() == dns.rcode.REFUSED
    assert reply_of(handler, dns.message.make_query(ZONE, "AXFR")).rcode() == dns.rcode.NOTIMP
    badvers = dns.message.make_query(name_of("127.16.0.5"), "A", use_edns=1)
    assert reply_of(handler, badvers).rcode() == dns.rcode.BADVERS


def test_handler_malformed_and_rate_limit(handler: dnsbl.DnsblHandler) -> None:
    assert handler.handle(b"\x00\x01", "192.0.2.1", 1, True) is None  # shorter than a header
    garbage = b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07abc"
    formerr = dns.message.from_wire(handler.handle(garbage, "192.0.2.1", 1, True) or b"")
    assert formerr.rcode() == dns.rcode.FORMERR and handler.counters.malformed == 2
    query = dns.message.make_query(name_of("127.16.0.5"), "A")
    sent = [handler.handle(query.to_wire(), "198.51.100.7", 1, True) for _ in range(20)]
    assert sum(r is not None for r in sent) == 5  # the per-second limit per /24 and rcode
    assert handler.counters.rate_limited == 15
    assert handler.handle(query.to_wire(), "198.51.100.7", 1, False) is not None  # TCP: no limit


def test_reversed_names_round_trip() -> None:
    for ip in ("1.2.3.4", "2001:db8::1", "::ffff:7f00:2"):
        assert dnsbl.address_of(dnsbl.key_of(ip)) == ip
    assert dnsbl.reversed_name("1.2.3.4") == b"4.3.2.1"
    assert dnsbl.key_of("1.2.3.4") == b"\x014\x013\x012\x011"
    with pytest.raises(dnsbl.DnsblError):
        dnsbl.check_zone("bad zone")


def test_fast_path_answers_as_the_full_parser(handler: dnsbl.DnsblHandler) -> None:
    """The shortcut for the usual query shape gives byte for byte the full parser's reply."""
    queries = []
    for ip in ("127.16.0.5", "2001:db8::5", "127.16.0.6", "2001:db8::6"):
        for rdtype in ("A", "TXT"):
            queries.append(dns.message.make_query(name_of(ip), rdtype))
            queries.append(dns.message.make_query(name_of(ip), rdtype, use_edns=0, payload=4096))
            queries.append(dns.message.make_query(name_of(ip), rdtype, want_dnssec=True))
    mixed = dns.message.make_query(name_of("127.16.0.5").upper(), "A")  # 0x20 mixed case
    small = dns.message.make_query(name_of("127.16.0.5"), "TXT", use_edns=0, payload=100)
    queries += [mixed, small]
    fast = 0
    for query in queries:
        for udp in (True, False):
            packet = query.to_wire()
            full, rcode = handler._answer(packet, dnsbl.wire.parse(packet), udp)
            shortcut = handler._fast(packet, udp)
            assert shortcut is not None, query
            assert shortcut == (full, rcode), query
            fast += 1
    assert fast == 2 * len(queries)
    # shapes the shortcut leaves to the parser
    for odd in (dns.message.make_query(ZONE, "SOA"), dns.message.make_query(name_of("127.16.0.5"), "MX"),
                dns.message.make_query(name_of("127.16.0.5"), "A", use_edns=1)):  # fmt: skip
        assert handler._fast(odd.to_wire(), True) is None


def test_bots_reaching_a_running_sinkhole_get_listed(tmp_path: Path) -> None:
    """`sinkhole serve` records a bot's check-in; the DNSBL beside it lists the bot."""
    data = tmp_path / "data"
    bot = "127.16.9.9"
    with (
        running_sinkhole(OPERATION, data) as sink,
        running_dnsbl(OPERATION, data, ZONE, "--dataset", "lab", "--refresh", "1") as bl,
    ):
        address = bl.address("dnsbl")
        assert ask(address, name_of(bot), "A").rcode() == dns.rcode.NXDOMAIN
        with socket.create_connection(sink.address("http"), 5, (bot, 0)) as conn:
            conn.sendall(b"GET /gate HTTP/1.1\r\nHost: mailer-megad-sim.example\r\n\r\n")
            assert conn.recv(1024).startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + 30
        while ask(address, name_of(bot), "A").rcode() != dns.rcode.NOERROR:
            assert time.monotonic() < deadline, "the bot was not listed within 30 s"
            time.sleep(0.2)
        txt = answers(ask(address, name_of(bot), "TXT", tcp=True), dns.rdatatype.TXT)
        assert "megad-sim bot contacting a sinkhole in AS64496" in txt[0]
