"""The DNS hot path, message by message, checked with dnspython as the reference parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinkhole.events.writer import EventWriter
from sinkhole.servers import dns as dns_server
from sinkhole.servers import dnswire as wire

RECORDS = wire.Records(("127.0.0.1", "127.0.0.2"), ("::1",), ("ns1.sinkhole.example",),
                       "hostmaster.sinkhole.example", 300, 2026120100)  # fmt: skip


@pytest.fixture
def handler(tmp_path: Path) -> dns_server.DnsHandler:
    writer = EventWriter(tmp_path, "t")
    table = dns_server.NameTable(
        {b"seized.example": ("megad-sim", "dga"), b"cc.test": ("megad-sim", "static-domains")},
        {b"later.example": "megad-sim"},
    )
    buf = dns_server.dns_buffer(writer, "t", "127.0.0.1", 53, "udp")
    return dns_server.DnsHandler(table, RECORDS, buf)


def events(handler: dns_server.DnsHandler) -> list[tuple[Any, ...]]:
    """The handler's buffered events as tuples of the DNS columns."""
    buffer = handler.buffer
    flat = getattr(buffer, "values", None)
    if flat is None:  # a buffer that keeps one tuple per event
        return list(buffer.rows)  # type: ignore[attr-defined]
    width = len(dns_server.DNS_COLUMNS)
    return [tuple(flat[i : i + width]) for i in range(0, len(flat), width)]


def take(handler: dns_server.DnsHandler) -> list[tuple[Any, ...]]:
    """The buffered events, removed from the buffer."""
    rows = events(handler)
    handler.buffer.take()
    return rows


def ask(
    handler: dns_server.DnsHandler, query: dns.message.Message, udp: bool = True
) -> dns.message.Message:
    reply = handler.handle(query.to_wire(), "127.9.0.1", 5000, udp)
    assert reply is not None
    return dns.message.from_wire(reply)


def q(name: str, rdtype: str = "A", **kw: object) -> dns.message.Message:
    return dns.message.make_query(name, rdtype, **kw)  # type: ignore[arg-type]


def test_planned_apex_and_subdomain_get_sinkhole_addresses(handler: dns_server.DnsHandler) -> None:
    for name in ("seized.example", "WWW.Seized.Example.", "a.b.c.seized.example"):
        reply = ask(handler, q(name))
        assert reply.rcode() == dns.rcode.NOERROR
        assert reply.flags & dns.flags.AA
        [rrset] = reply.answer
        assert rrset.name.to_text().lower() == name.lower().rstrip(".") + "."
        assert {r.address for r in rrset} == {"127.0.0.1", "127.0.0.2"}
        assert rrset.ttl == 300
    reply = ask(handler, q("seized.example", "AAAA"))
    assert {r.address for r in reply.answer[0]} == {"::1"}


def test_apex_soa_and_ns(handler: dns_server.DnsHandler) -> None:
    soa = ask(handler, q("seized.example", "SOA"), udp=False).answer[0][0]
    assert (soa.mname.to_text(), soa.serial) == ("ns1.sinkhole.example.", 2026120100)
    # over UDP the SOA is more than 3x this small query: truncated, not amplified
    assert ask(handler, q("seized.example", "SOA")).flags & dns.flags.TC
    ns = ask(handler, q("seized.example", "NS"), udp=False).answer[0]
    assert [r.target.to_text() for r in ns] == ["ns1.sinkhole.example."]


def test_nodata_carries_the_zone_soa(handler: dns_server.DnsHandler) -> None:
    reply = ask(handler, q("www.seized.example", "MX", use_edns=0))
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.answer == []
    [soa] = reply.authority
    assert soa.name.to_text() == "seized.example."
    reply = ask(handler, q("www.seized.example", "NS"))
    assert reply.answer == []  # NS only at the apex


def test_unplanned_is_refused_and_never_recursed(handler: dns_server.DnsHandler) -> None:
    reply = ask(handler, q("example.com"))
    assert reply.rcode() == dns.rcode.REFUSED
    assert not reply.flags & dns.flags.RA
    assert reply.answer == []


def test_resolver_mode_sets_ra_not_aa(handler: dns_server.DnsHandler) -> None:
    handler.resolver = True
    reply = ask(handler, q("seized.example"))
    assert reply.flags & dns.flags.RA
    assert not reply.flags & dns.flags.AA
    assert reply.answer


def test_any_is_minimal_and_within_three_times_the_query(handler: dns_server.DnsHandler) -> None:
    query = q("seized.example", "ANY")
    wire_query = query.to_wire()
    raw = handler.handle(wire_query, "127.9.0.1", 5000, True)
    assert raw is not None
    assert len(raw) <= 3 * len(wire_query)
    reply = dns.message.from_wire(raw)
    assert len(reply.answer) == 1


def test_negative_answers_keep_their_soa_and_stay_small(handler: dns_server.DnsHandler) -> None:
    # RFC 2308: a NODATA always carries the zone's SOA, even for a tiny query without EDNS;
    # compression (RNAME -> MNAME's domain) keeps it at the query plus 67 octets
    query = q("cc.test", "TXT")
    raw = handler.handle(query.to_wire(), "127.9.0.1", 5000, True)
    assert raw is not None and len(raw) == len(query.to_wire()) + 67
    reply = dns.message.from_wire(raw)
    assert not reply.flags & dns.flags.TC
    [soa] = reply.authority
    assert soa.name.to_text() == "cc.test."
    assert soa[0].rname.to_text() == "hostmaster.sinkhole.example."
    tcp = handler.handle(query.to_wire(), "127.9.0.1", 5000, False)
    assert tcp is not None and tcp[2:] == raw[2:]


def test_big_positive_answers_are_truncated_not_amplified(tmp_path: Path) -> None:
    many = wire.Records(tuple(f"127.0.0.{i}" for i in range(1, 9)), (), ("ns1.sinkhole.example",),
                        "hostmaster.sinkhole.example", 300, 1)  # fmt: skip
    writer = EventWriter(tmp_path, "t")
    handler = dns_server.DnsHandler(
        dns_server.NameTable({b"cc.test": ("f", "dga")}),
        many,
        dns_server.dns_buffer(writer, "t", "127.0.0.1", 53, "udp"),
    )
    query = q("cc.test", "A").to_wire()
    raw = handler.handle(query, "127.9.0.1", 5000, True)
    assert raw is not None and len(raw) <= 3 * len(query)
    assert dns.message.from_wire(raw).flags & dns.flags.TC
    tcp = handler.handle(query, "127.9.0.1", 5000, False)
    assert tcp is not None and len(dns.message.from_wire(tcp).answer[0]) == 8


def test_edns_is_echoed_and_bad_version_is_badvers(handler: dns_server.DnsHandler) -> None:
    reply = ask(handler, q("seized.example", use_edns=0, payload=4096))
    assert reply.edns == 0
    assert reply.payload == wire.EDNS_PAYLOAD
    reply = ask(handler, q("seized.example", use_edns=1))
    assert reply.rcode() == dns.rcode.BADVERS
    assert reply.answer == []


def test_dga_names_outside_the_plan_are_flagged(handler: dns_server.DnsHandler) -> None:
    reply = ask(handler, q("later.example"))
    assert reply.rcode() == dns.rcode.REFUSED
    assert handler.counters.dga_unplanned == 1
    row = events(handler)[-1]
    assert row[3] == "later.example" and row[6] == "megad-sim" and row[8] == "dga-unplanned"


def test_every_query_is_an_event(handler: dns_server.DnsHandler) -> None:
    ask(handler, q("WWW.seized.example", "AAAA"))
    ask(handler, q("nope.example"))
    rows = events(handler)
    assert [(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("127.9.0.1", 5000, "www.seized.example", 28, 0, "megad-sim", "dga"),
        ("127.9.0.1", 5000, "nope.example", 1, 5, None, None),
    ]


def test_rate_limit_per_prefix_zone_and_rcode(handler: dns_server.DnsHandler) -> None:
    handler.limiter = dns_server.RateLimiter(5, clock=lambda: 1000.5)  # one window
    # random names below one planned domain share its key: a random-subdomain flood is capped
    answered = sum(
        handler.handle(q(f"r{i}.seized.example").to_wire(), "127.9.0.1", 1, True) is not None
        for i in range(20)
    )
    assert answered == 5
    # another zone from the same resolver is not throttled
    assert handler.handle(q("cc.test").to_wire(), "127.9.0.1", 1, True) is not None
    # another prefix is not throttled either
    assert handler.handle(q("seized.example").to_wire(), "127.10.0.1", 1, True) is not None
    # TCP answers cannot be spoofed: never limited
    assert handler.handle(q("x.seized.example").to_wire(), "127.9.0.1", 1, False) is not None
    assert handler.counters.rate_limited == 15
    assert events(handler)[-4][8] == "rate-limited"
    # refused names from one prefix share one key whatever the name
    refused = [handler.handle(q(f"r{i}.nope.example").to_wire(), "127.11.0.1", 1, True)
               for i in range(8)]  # fmt: skip
    assert sum(r is not None for r in refused) == 5


def test_malformed_packets_are_events_with_their_head(handler: dns_server.DnsHandler) -> None:
    packets = [
        bytes.fromhex("123401000000000000000000"),  # no question, no EDNS
        bytes.fromhex("123401000001000100000000") + b"\x01a\x00\x00\x01\x00\x01",
        bytes.fromhex("123481000001000000000000") + b"\x01a\x00\x00\x01\x00\x01",
        bytes.fromhex("123429000001000000000000") + b"\x01a\x00\x00\x01\x00\x01",  # UPDATE
        b"\x00" * 600,  # only its head is kept
    ]
    replies = [handler.handle(p, "127.9.0.1", 7, True) for p in packets]
    assert [r and dns.message.from_wire(r).rcode() for r in replies[:2]] == [1, 1]
    assert replies[2] is None
    assert replies[3] is not None and replies[3][3] & 0xF == dns.rcode.NOTIMP
    rows = events(handler)
    assert [(r[5], r[8]) for r in rows] == [(1, "malformed"), (1, "malformed"), (None, "malformed"),
                                            (4, "unsupported-opcode"), (1, "malformed")]  # fmt: skip
    assert [r[9] for r in rows] == [p[: dns_server.PAYLOAD_HEAD] for p in packets]
    assert (handler.counters.malformed, handler.counters.unsupported) == (4, 1)


def test_a_label_with_a_dot_is_not_a_planned_name(handler: dns_server.DnsHandler) -> None:
    one_label = (
        bytes.fromhex("123401000001000000000000") + b"\x01x\x0eseized.example\x00\x00\x01\x00\x01"
    )
    reply = handler.handle(one_label, "127.9.0.1", 1, True)
    assert reply is not None and dns.message.from_wire(reply).rcode() == dns.rcode.REFUSED
    # the event shows the name as it is, not as a name that looks planned
    assert events(handler)[-1][3] == "x.seized\\.example"
    above = (
        bytes.fromhex("123401000001000000000000")
        + b"\x03a.b\x06seized\x07example\x00\x00\x01\x00\x01"
    )
    reply = handler.handle(above, "127.9.0.1", 1, True)
    assert reply is not None and dns.message.from_wire(reply).answer
    assert events(handler)[-1][3] == "a\\.b.seized.example"


def test_do_bit_is_echoed(handler: dns_server.DnsHandler) -> None:
    reply = ask(handler, q("seized.example", use_edns=0, want_dnssec=True))
    assert reply.ednsflags & dns.flags.DO
    reply = ask(handler, q("seized.example", use_edns=0))
    assert not reply.ednsflags & dns.flags.DO


@pytest.mark.parametrize(
    ("packet", "expect"),
    [
        (b"", None),
        (b"\x12\x34\x01", None),
        (bytes.fromhex("123401000001000000000000") + b"\x03abc", "formerr"),  # truncated name
        (
            bytes.fromhex("123401000001000000000000") + b"\xc0\x0c\x00\x01\x00\x01",
            "formerr",
        ),  # loop
        (bytes.fromhex("123401000002000000000000") + b"\x00\x00\x01\x00\x01" * 2, "formerr"),
        (bytes.fromhex("123481800001000000000000") + b"\x00\x00\x01\x00\x01", None),  # a response
    ],
)
def test_malformed_packets(
    handler: dns_server.DnsHandler, packet: bytes, expect: str | None
) -> None:
    reply = handler.handle(packet, "127.9.0.1", 1, True)
    if expect is None:
        assert reply is None
    else:
        assert reply is not None and len(reply) <= len(packet)
        assert dns.message.from_wire(reply).rcode() == dns.rcode.FORMERR
    assert handler.counters.malformed == 1


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise_or_amplify(packet: bytes) -> None:
    writer = EventWriter(Path("/nonexistent-never-flushed"), "t")
    table = dns_server.NameTable({b"seized.example": ("f", "dga")})
    handler = dns_server.DnsHandler(
        table, RECORDS, dns_server.dns_buffer(writer, "t", "h", 1, "udp")
    )
    reply = handler.handle(packet, "127.9.0.1", 1, True)
    if reply is not None:
        assert len(reply) <= max(3 * len(packet), 12)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True), min_size=1, max_size=5),
    st.sampled_from(["A", "AAAA", "MX", "TXT", "ANY", "SOA", "NS", "CNAME"]),
    st.booleans(),
)
def test_well_formed_queries_always_parse_back(labels: list[str], rdtype: str, edns: bool) -> None:
    writer = EventWriter(Path("/nonexistent-never-flushed"), "t")
    table = dns_server.NameTable({b"seized.example": ("f", "dga")})
    handler = dns_server.DnsHandler(
        table, RECORDS, dns_server.dns_buffer(writer, "t", "h", 1, "udp")
    )
    name = ".".join(labels) + ".seized.example"
    query = dns.message.make_query(name, rdtype, use_edns=0 if edns else None)
    raw = handler.handle(query.to_wire(), "127.9.0.1", 1, True)
    assert raw is not None
    reply = dns.message.from_wire(raw)
    assert reply.id == query.id
    assert reply.rcode() == dns.rcode.NOERROR
    assert len(raw) <= 3 * len(query.to_wire())


def test_repeated_questions_are_answered_from_cache_identically(
    handler: dns_server.DnsHandler,
) -> None:
    first = q("WwW.seized.example", "A", use_edns=0)
    second = q("WwW.seized.example", "A", use_edns=0)
    second.id = (first.id + 1) & 0xFFFF
    a = handler.handle(first.to_wire(), "127.9.0.1", 1, True)
    b = handler.handle(second.to_wire(), "127.9.0.2", 2, True)
    assert a is not None and b is not None
    assert b[:2] == second.to_wire()[:2] and a[2:] == b[2:]
    assert len(handler.udp_cache) == 1
    rows = events(handler)
    assert rows[0][1:] != rows[1][1:]  # distinct sources are recorded
    assert (
        rows[0][3:] == rows[1][3:] == ("www.seized.example", 1, 0, "megad-sim", "dga", None, None)
    )
    assert handler.counters.answered == 2
    # a new plan drops the cached replies: the name is no longer planned
    handler.replace_plan(dns_server.NameTable({}), RECORDS)
    third = handler.handle(first.to_wire(), "127.9.0.1", 1, True)
    assert third is not None and dns.message.from_wire(third).rcode() == dns.rcode.REFUSED


def _fresh(tmp: Path) -> dns_server.DnsHandler:
    table = dns_server.NameTable(
        {
            b"seized.example": ("megad-sim", "dga"),
            b"deep.seized.example": ("other", "static-domains"),
            b"cc.test": ("megad-sim", "static-domains"),
        },
        {b"later.example": "megad-sim"},
    )
    writer = EventWriter(tmp, "t")
    buf = dns_server.dns_buffer(writer, "t", "h", 1, "udp")
    return dns_server.DnsHandler(table, RECORDS, buf, rate_limit=0)


WARM = _fresh(Path("/nonexistent-never-flushed"))


@settings(max_examples=1500, deadline=None)
@given(
    st.one_of(
        st.sampled_from([b"deep", b"DEEP", b"later", b"Later", b"a.b", b"x", b"zz_-9"]),
        st.binary(min_size=1, max_size=63),
    ),
    st.sampled_from(
        [
            b"\x06seized\x07example\x00",
            b"\x07example\x00",
            b"\x02cc\x04test\x00",
            b"\x04deep\x06seized\x07example\x00",
            b"\x04DEEP\x06seized\x07example\x00",
            b"\x01x\x06seized\x07example\x00",
        ]
    ),
    st.sampled_from([1, 2, 6, 15, 28, 252]),
    st.sampled_from([b"", b"\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00"]),
    st.booleans(),
)
def test_cached_replies_equal_fresh_ones(
    label: bytes, rest: bytes, qtype: int, opt: bytes, udp: bool
) -> None:
    # the caches key on the query without its ID, or without its first label's text: whatever
    # that label says (a planned name, a DGA name, dots, case), the reply and the event must
    # be those of a fresh parse
    header = bytes.fromhex("abcd0100000100000000") + (b"\x00\x01" if opt else b"\x00\x00")
    tail = rest + qtype.to_bytes(2, "big") + b"\x00\x01" + opt
    packet = header + bytes([len(label)]) + label + tail
    for word in (b"z" * len(label), label):  # warm both caches with this shape
        WARM.handle(header + bytes([len(word)]) + word + tail, "127.9.0.1", 1, udp)
    take(WARM)
    cold = _fresh(Path("/nonexistent-never-flushed"))
    assert WARM.handle(packet, "127.9.0.1", 1, udp) == cold.handle(packet, "127.9.0.1", 1, udp)
    assert [r[1:] for r in take(WARM)] == [r[1:] for r in events(cold)]


def test_names_below_and_nested_zones_use_the_right_zone(handler: dns_server.DnsHandler) -> None:
    handler.table.names[b"deep.seized.example"] = ("other", "static-domains")
    for name in (
        "abcd.seized.example",
        "deep.seized.example",
        "b.seized.example",
        "x.deep.seized.example",
    ):
        ask(handler, q(name))
    assert [(r[3], r[6]) for r in events(handler)] == [
        ("abcd.seized.example", "megad-sim"),
        ("deep.seized.example", "other"),
        ("b.seized.example", "megad-sim"),
        ("x.deep.seized.example", "other"),
    ]
    assert len(handler.udp_cache) == 4  # three below-zone shapes, one exact name


def test_rate_limit_windows_and_prefixes() -> None:
    """Fixed one-second windows; one key per /24 (IPv4) or /56 (IPv6); the limit per key."""
    now = [1000.2]
    limiter = dns_server.RateLimiter(2, clock=lambda: now[0])
    same_24 = ["127.9.0.1", "127.9.0.200", "127.9.0.7"]
    assert [limiter.allow(ip, b"z.example", 0) for ip in same_24] == [True, True, False]
    assert limiter.allow("127.9.1.1", b"z.example", 0)  # another /24
    assert limiter.allow("127.9.0.1", b"z.example", 5)  # another rcode
    now[0] = 1000.9  # same second: still capped
    assert not limiter.allow("127.9.0.1", b"z.example", 0)
    now[0] = 1001.0  # a new window
    assert limiter.allow("127.9.0.1", b"z.example", 0)
    v6 = ["2001:db8:0:ff::1", "2001:db8:0:1::9", "2001:db8:0:100::1"]  # /56: 00xx vs 01xx
    assert [limiter.allow(ip, b"z.example", 0) for ip in v6] == [True, True, True]
    assert not limiter.allow("2001:db8:0:42::5", b"z.example", 0)
    off = dns_server.RateLimiter(0, clock=lambda: now[0])
    assert all(off.allow("127.9.0.1", b"z.example", 0) for _ in range(1000))


def test_rate_limit_keys_mapped_ipv4_clients_by_their_ipv4_prefix() -> None:
    """A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: not all in one bucket."""
    limiter = dns_server.RateLimiter(1, clock=lambda: 5.5)
    clients = ["::ffff:192.0.2.1", "::ffff:198.51.100.1", "::ffff:203.0.113.1"]
    assert [limiter.allow(ip, b"z.example", 0) for ip in clients] == [True, True, True]
    assert not limiter.allow("::ffff:192.0.2.77", b"z.example", 0)  # same /24 as the first
