"""DNS on the wire, hand-written for the hot path: parse one query, build one answer.

A general DNS library costs 10-20 µs a packet in Python; the sinkhole only
ever answers one question about a planned name with a handful of fixed
records, so it parses the header, the question and an optional OPT record,
and glues prebuilt record bytes behind the question it received (the answer
owner is a compression pointer to that question). Anything it does not
understand gets FORMERR, NOTIMP or is dropped, and nothing it sends is more
than three times the size of the query over UDP (RFC 8482-style minimal
answers to ANY), so it cannot be used as an amplifier.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

QTYPE_A, QTYPE_NS, QTYPE_SOA, QTYPE_AAAA, QTYPE_OPT, QTYPE_ANY = 1, 2, 6, 28, 41, 255
CLASS_IN, CLASS_ANY = 1, 255
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
BADVERS = 16
#: Our EDNS(0) UDP payload size (the 2020 DNS flag day value).
EDNS_PAYLOAD = 1232
AMPLIFICATION = 3

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_QUESTION = struct.Struct("!HH")


class MalformedError(ValueError):
    """The packet is not a DNS query we can parse."""


def encode_name(name: str) -> bytes:
    """A dotted name in uncompressed wire format."""
    out = bytearray()
    for label in name.rstrip(".").split("."):
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad label in {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    return bytes(out)


class Query:
    """The parts of a query the sinkhole needs (a plain slotted class: cheap to make)."""

    __slots__ = ("edns", "edns_version", "flags", "ident", "label_wire", "labels", "payload",
                 "qclass", "qname", "qtype", "question_end")  # fmt: skip

    def __init__(
        self,
        ident: int,
        flags: int,
        qname: bytes,
        labels: list[int],
        label_wire: list[int],
        qtype: int,
        qclass: int,
        question_end: int,
        edns: bool,
        edns_version: int,
        payload: int,
    ) -> None:
        self.ident = ident
        self.flags = flags
        self.qname = qname  # lowercase, dotted, no trailing dot (b"" for the root)
        self.labels = labels  # offsets of each label's start within qname
        self.label_wire = label_wire  # offsets of each label within the packet
        self.qtype = qtype
        self.qclass = qclass
        self.question_end = question_end
        self.edns = edns
        self.edns_version = edns_version
        self.payload = payload


def parse(packet: bytes) -> Query:
    """Parse a query; raise MalformedError for anything that is not one we answer."""
    if len(packet) < 12:
        raise MalformedError("short header")
    ident, flags, qdcount, _an, _ns, arcount = _HEADER.unpack_from(packet)
    if flags & 0x8000:
        raise MalformedError("a response, not a query")
    if qdcount != 1:
        raise MalformedError("qdcount is not 1")
    pos = 12
    end = len(packet)
    parts: list[bytes] = []
    starts: list[int] = []
    wire: list[int] = []
    offset = 0
    while True:
        if pos >= end:
            raise MalformedError("truncated name")
        length = packet[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0:
            raise MalformedError("compression or extended label in the question")
        if pos + 1 + length > end:
            raise MalformedError("truncated label")
        wire.append(pos)
        starts.append(offset)
        parts.append(packet[pos + 1 : pos + 1 + length])
        offset += length + 1
        pos += 1 + length
        if offset > 255:
            raise MalformedError("name longer than 255 octets")
    if pos + 4 > end:
        raise MalformedError("truncated question")
    qtype, qclass = _QUESTION.unpack_from(packet, pos)
    pos += 4
    question_end = pos
    edns = False
    version = 0
    payload = 512
    # The OPT record, when present, comes first in a normal query's additional section.
    if arcount and pos + 11 <= end and packet[pos] == 0:
        rtype, rclass, ttl, rdlen = _RR.unpack_from(packet, pos + 1)
        if rtype == QTYPE_OPT:
            if pos + 11 + rdlen > end:
                raise MalformedError("truncated OPT record")
            edns = True
            payload = max(512, rclass)
            version = (ttl >> 16) & 0xFF
    qname = b".".join(parts).lower()
    return Query(
        ident,
        flags,
        qname,
        starts,
        wire,
        qtype,
        qclass,
        question_end,
        edns,
        version,
        payload,
    )


def _rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + _RR.pack(rtype, CLASS_IN, ttl, len(rdata)) + rdata


@dataclass
class Records:
    """The fixed record bytes every planned zone shares."""

    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    nameservers: tuple[str, ...]
    hostmaster: str
    ttl: int
    serial: int
    a: bytes = field(init=False)
    aaaa: bytes = field(init=False)
    n_a: int = field(init=False)
    n_aaaa: int = field(init=False)
    soa_rdata: bytes = field(init=False)
    ns_rdata: tuple[bytes, ...] = field(init=False)

    def __post_init__(self) -> None:
        pointer = b"\xc0\x0c"
        self.a = b"".join(
            _rr(pointer, QTYPE_A, self.ttl, ipaddress.IPv4Address(ip).packed) for ip in self.ipv4
        )
        self.aaaa = b"".join(
            _rr(pointer, QTYPE_AAAA, self.ttl, ipaddress.IPv6Address(ip).packed) for ip in self.ipv6
        )
        self.n_a, self.n_aaaa = len(self.ipv4), len(self.ipv6)
        self.soa_rdata = (
            encode_name(self.nameservers[0])
            + encode_name(self.hostmaster)
            + struct.pack("!IIIII", self.serial, 3600, 600, 1209600, self.ttl)
        )
        self.ns_rdata = tuple(encode_name(ns) for ns in self.nameservers)


def _opt(version_bad: bool = False) -> bytes:
    ttl = (1 << 24) if version_bad else 0  # extended RCODE 1 -> BADVERS (16)
    return b"\x00" + _RR.pack(QTYPE_OPT, EDNS_PAYLOAD, ttl, 0)


def error_reply(packet: bytes, rcode: int) -> bytes:
    """A header-only reply (FORMERR for what we could not parse), never longer than the query."""
    if len(packet) < 12:
        return b""
    ident, flags = struct.unpack_from("!HH", packet)
    out_flags = 0x8000 | (flags & 0x7900) | rcode  # QR, opcode, RD kept
    return _HEADER.pack(ident, out_flags, 0, 0, 0, 0)


def build(
    packet: bytes,
    query: Query,
    rcode: int,
    records: Records | None,
    apex_label: int,
    authoritative: bool,
    recursion_available: bool,
    limit: int,
) -> bytes:
    """The reply to `query`; `apex_label` indexes the planned zone's first label in qname."""
    flags = 0x8000 | (query.flags & 0x7900) | rcode
    if authoritative:
        flags |= 0x0400
    if recursion_available:
        flags |= 0x0080
    question = packet[12 : query.question_end]
    answer = b""
    authority = b""
    n_an = n_ns = 0
    if query.edns and query.edns_version != 0:
        flags = (flags & ~0x000F) | (BADVERS & 0xF)
        body = _HEADER.pack(query.ident, flags, 1, 0, 0, 1) + question + _opt(True)
        return body
    if records is not None and rcode == NOERROR:
        qtype = query.qtype
        at_apex = apex_label == 0
        if qtype in (QTYPE_A, QTYPE_ANY) and records.n_a:
            answer, n_an = records.a, records.n_a
        elif (qtype == QTYPE_AAAA and records.n_aaaa) or (qtype == QTYPE_ANY and records.n_aaaa):
            answer, n_an = records.aaaa, records.n_aaaa
        elif qtype == QTYPE_NS and at_apex:
            answer = b"".join(_rr(b"\xc0\x0c", QTYPE_NS, records.ttl, r) for r in records.ns_rdata)
            n_an = len(records.ns_rdata)
        elif qtype == QTYPE_SOA and at_apex:
            answer, n_an = _rr(b"\xc0\x0c", QTYPE_SOA, records.ttl, records.soa_rdata), 1
        if not n_an:
            # NODATA: the zone's SOA in the authority section, owner = the apex in the question
            apex = 0xC000 | query.label_wire[apex_label]
            authority = _rr(struct.pack("!H", apex), QTYPE_SOA, records.ttl, records.soa_rdata)
            n_ns = 1
    opt = _opt() if query.edns else b""
    n_ar = 1 if query.edns else 0
    reply = (
        _HEADER.pack(query.ident, flags, 1, n_an, n_ns, n_ar) + question + answer + authority + opt
    )
    if len(reply) > limit and n_ns:
        reply = _HEADER.pack(query.ident, flags, 1, n_an, 0, n_ar) + question + answer + opt
    if len(reply) > limit:
        # too big for this query over UDP: truncate and let the client retry over TCP
        reply = _HEADER.pack(query.ident, flags | 0x0200, 1, 0, 0, n_ar) + question + opt
        if len(reply) > limit:
            reply = _HEADER.pack(query.ident, flags | 0x0200, 0, 0, 0, 0)
    return reply


def udp_limit(packet: bytes, query: Query) -> int:
    """The largest UDP reply allowed: 3x the query, and within the client's payload size."""
    return min(AMPLIFICATION * len(packet), query.payload if query.edns else 512)
