"""The DNS hot path, message by message, checked with dnspython as the reference parser."""

from __future__ import annotations

from pathlib import Path

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


def test_tiny_queries_get_truncated_not_amplified(handler: dns_server.DnsHandler) -> None:
    # a short name with a SOA authority would exceed 3x: TC is set, the client retries on TCP
    query = q("cc.test", "TXT")
    raw = handler.handle(query.to_wire(), "127.9.0.1", 5000, True)
    assert raw is not None and len(raw) <= 3 * len(query.to_wire())
    tcp = handler.handle(query.to_wire(), "127.9.0.1", 5000, False)
    assert tcp is not None
    assert dns.message.from_wire(tcp).authority


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
    row = handler.buffer.rows[-1]
    assert row[3] == "later.example" and row[6] == "megad-sim" and row[8] == "dga-unplanned"


def test_every_query_is_an_event(handler: dns_server.DnsHandler) -> None:
    ask(handler, q("WWW.seized.example", "AAAA"))
    ask(handler, q("nope.example"))
    rows = handler.buffer.rows
    assert [(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("127.9.0.1", 5000, "www.seized.example", 28, 0, "megad-sim", "dga"),
        ("127.9.0.1", 5000, "nope.example", 1, 5, None, None),
    ]


def test_rate_limit_per_prefix_name_and_rcode(handler: dns_server.DnsHandler) -> None:
    handler.limiter = dns_server.RateLimiter(5)
    answered = sum(handler.handle(q("seized.example").to_wire(), "127.9.0.1", 1, True) is not None
                   for _ in range(20))  # fmt: skip
    assert answered == 5
    # another name from the same resolver is not throttled
    assert handler.handle(q("cc.test").to_wire(), "127.9.0.1", 1, True) is not None
    # another prefix is not throttled either
    assert handler.handle(q("seized.example").to_wire(), "127.10.0.1", 1, True) is not None
    assert handler.counters.rate_limited == 15
    assert handler.buffer.rows[-3][8] == "rate-limited"


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
    rows = handler.buffer.rows
    assert rows[0][1:] != rows[1][1:]  # distinct sources are recorded
    assert rows[0][3:] == rows[1][3:] == ("www.seized.example", 1, 0, "megad-sim", "dga", None)
    assert handler.counters.answered == 2
    # a new plan drops the cached replies: the name is no longer planned
    handler.replace_plan(dns_server.NameTable({}), RECORDS)
    third = handler.handle(first.to_wire(), "127.9.0.1", 1, True)
    assert third is not None and dns.message.from_wire(third).rcode() == dns.rcode.REFUSED
