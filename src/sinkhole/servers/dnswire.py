"""DNS on the wire, hand-written for the hot path: parse one query, build one answer.

A general DNS library costs 10-20 µs a packet in Python; the sinkhole only
ever answers one question about a planned name with a handful of fixed
records, so it parses the header, the question and the additional section
(one OPT record at most), and glues prebuilt record bytes behind the question
it received (the answer owner is a compression pointer to that question).

What it accepts and refuses follows RFC 1035, RFC 6891 and NSD's choices
(the conformance tests send the same packets to both): records in the
answer or authority section, a second OPT, an OPT not owned by the root or
a truncated EDNS option get FORMERR; a name longer than 255 octets gets
FORMERR; opcodes other than QUERY get NOTIMP; a header-only query with EDNS
gets NOERROR and an OPT (how cookie probes look). Over UDP an answer is never
more than three times its query (RFC 8482-style minimal answers to ANY,
truncation otherwise), with one exception: a negative answer always carries
its zone's SOA (RFC 2308), kept small by name compression, so it is at most
the query plus about 70 octets.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from dataclasses import dataclass, field

QTYPE_A, QTYPE_NS, QTYPE_SOA, QTYPE_AAAA, QTYPE_OPT = 1, 2, 6, 28, 41
QTYPE_IXFR, QTYPE_AXFR, QTYPE_ANY = 251, 252, 255
CLASS_IN, CLASS_ANY = 1, 255
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
BADVERS = 16
#: Our EDNS(0) UDP payload size (the 2020 DNS flag day value).
EDNS_PAYLOAD = 1232
AMPLIFICATION = 3
#: Longest name in wire format, root label included (RFC 1035 §3.1).
MAX_NAME = 255

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_QUESTION = struct.Struct("!HH")
_POINTER = struct.Struct("!H")
#: Bytes a query name's presentation form must escape (besides dots inside a label).
_NEEDS_ESCAPE = re.compile(rb'[^\x21-\x7e]|["();\\@$]')


class MalformedError(ValueError):
    """The packet is not a DNS query we answer normally; `rcode` None: send nothing."""

    def __init__(self, reason: str, rcode: int | None = FORMERR, tag: str = "malformed") -> None:
        super().__init__(reason)
        self.rcode = rcode
        self.tag = tag


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

    __slots__ = ("clean", "do", "edns", "edns_version", "flags", "ident", "label_wire",
                 "payload", "qclass", "qname", "qtype", "question_end", "text")  # fmt: skip

    def __init__(
        self,
        ident: int,
        flags: int,
        qname: bytes,
        label_wire: list[int],
        clean: int,
        text: str | None,
        qtype: int,
        qclass: int,
        question_end: int,
        edns: bool,
        edns_version: int,
        do: bool,
        payload: int,
    ) -> None:
        self.ident = ident
        self.flags = flags
        #: Lowercase, dotted, no trailing dot (b"" for the root); the label at packet offset
        #: label_wire[i] starts at qname[label_wire[i] - 12].
        self.qname = qname
        self.label_wire = label_wire
        #: The first label a planned zone may start at: a suffix holding a label with a dot
        #: in it ("mailer-megad-sim\.example") is no planned name, whatever its text says.
        self.clean = clean
        #: The name in presentation form (escapes included) for events; None: no question.
        self.text = text
        self.qtype = qtype
        self.qclass = qclass
        self.question_end = question_end
        self.edns = edns
        self.edns_version = edns_version
        self.do = do
        self.payload = payload

    @property
    def question(self) -> bool:
        """Whether the query has a question (QDCOUNT 1) rather than only a header and OPT."""
        return self.text is not None


def _skip_name(packet: bytes, pos: int) -> int:
    """The offset after a (possibly compressed) owner name in a record."""
    try:
        length = packet[pos]
        while length:
            if length >= 0xC0:
                return pos + 2
            if length > 63:
                raise MalformedError("bad label type in a record owner")
            pos += length + 1
            length = packet[pos]
    except IndexError:
        raise MalformedError("truncated record owner") from None
    return pos + 1


def _additional(packet: bytes, pos: int, count: int) -> tuple[bool, int, bool, int]:
    """(edns, version, DO, payload) from the additional section; FORMERR for anything odd."""
    end = len(packet)
    edns = False
    version = 0
    do = False
    payload = 512
    for _ in range(count):
        owner_root = pos < end and packet[pos] == 0
        pos = _skip_name(packet, pos)
        if pos + 10 > end:
            raise MalformedError("truncated additional record")
        rtype, rclass, ttl, rdlen = _RR.unpack_from(packet, pos)
        pos += 10
        stop = pos + rdlen
        if stop > end:
            raise MalformedError("truncated additional record data")
        if rtype != QTYPE_OPT:
            # TSIG is the only other record a query carries here; we hold no keys
            raise MalformedError("a record other than OPT in the additional section")
        if edns:
            raise MalformedError("two OPT records")
        if not owner_root:
            raise MalformedError("an OPT record not owned by the root")
        while pos < stop:
            if pos + 4 > stop:
                raise MalformedError("truncated EDNS option")
            pos += 4 + ((packet[pos + 2] << 8) | packet[pos + 3])
        if pos > stop:
            raise MalformedError("truncated EDNS option")
        edns = True
        payload = max(512, rclass)
        version = (ttl >> 16) & 0xFF
        do = bool(ttl & 0x8000)
    return edns, version, do, payload


def presentation(packet: bytes, label_wire: list[int]) -> str:
    """A query name in presentation form, lowercase, with RFC 1035 escapes."""
    if not label_wire:
        return "."
    labels = []
    for pos in label_wire:
        out = []
        for byte in packet[pos + 1 : pos + 1 + packet[pos]].lower():
            if byte in b'.();\\@$"':
                out.append("\\" + chr(byte))
            elif 0x21 <= byte <= 0x7E:
                out.append(chr(byte))
            else:
                out.append(f"\\{byte:03d}")
        labels.append("".join(out))
    return ".".join(labels)


def parse(packet: bytes) -> Query:
    """Parse a query; raise MalformedError for anything that is not one we answer normally."""
    end = len(packet)
    if end < 12:
        raise MalformedError("shorter than a DNS header", None)
    ident, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(packet)
    if flags & 0x8000:
        raise MalformedError("a response, not a query", None)
    if flags & 0x7800:
        raise MalformedError("an opcode other than QUERY", NOTIMP, "unsupported-opcode")
    if qdcount > 1:
        raise MalformedError("more than one question")
    if ancount:
        raise MalformedError("records in the answer section")
    pos = 12
    wire: list[int] = []
    qtype = qclass = 0
    if qdcount:
        append = wire.append
        try:
            length = packet[12]
            while length:
                if length > 63:
                    raise MalformedError("a compression pointer or bad label in the question")
                append(pos)
                pos += length + 1
                length = packet[pos]
        except IndexError:
            raise MalformedError("truncated question name") from None
        pos += 1
        if pos - 12 > MAX_NAME:
            raise MalformedError("a name longer than 255 octets")
        if pos + 4 > end:
            raise MalformedError("truncated question")
        qtype, qclass = _QUESTION.unpack_from(packet, pos)
        pos += 4
    question_end = pos
    if nscount:
        if qtype != QTYPE_IXFR:  # an IXFR query carries the client's SOA there
            raise MalformedError("records in the authority section")
        for _ in range(nscount):
            pos = _skip_name(packet, pos)
            if pos + 10 > end:
                raise MalformedError("truncated authority record")
            pos += 10 + ((packet[pos + 8] << 8) | packet[pos + 9])
        if pos > end:
            raise MalformedError("truncated authority record data")
    edns = False
    version = 0
    do = False
    payload = 512
    if arcount:
        edns, version, do, payload = _additional(packet, pos, arcount)
    if not qdcount:
        if not edns or version:
            raise MalformedError("no question")
        return Query(ident, flags, b"", wire, 0, None, 0, 0, 12, True, 0, do, payload)
    if wire:
        dotted = bytearray(packet[13 : question_end - 5])
        for label in wire[1:]:
            dotted[label - 13] = 46
        qname = bytes(dotted).lower()
        clean = 0
        if qname.count(b".") != len(wire) - 1:
            for index, label in enumerate(wire):
                if 46 in packet[label + 1 : label + 1 + packet[label]]:
                    clean = index + 1
            text = presentation(packet, wire)
        elif _NEEDS_ESCAPE.search(qname):
            text = presentation(packet, wire)
        else:
            text = qname.decode("ascii")
    else:
        qname, clean, text = b"", 0, "."
    return Query(ident, flags, qname, wire, clean, text, qtype, qclass, question_end, edns,
                 version, do, payload)  # fmt: skip


def _rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + _RR.pack(rtype, CLASS_IN, ttl, len(rdata)) + rdata


def _labels(name: bytes) -> list[tuple[int, bytes]]:
    """(offset, lowercase label) of each label of an uncompressed wire name."""
    out = []
    pos = 0
    while name[pos]:
        out.append((pos, name[pos + 1 : pos + 1 + name[pos]].lower()))
        pos += name[pos] + 1
    return out


def _compress(name: bytes, earlier: bytes) -> tuple[bytes, int]:
    """`name` as (its leading labels, offset in `earlier` of the rest), or (name, -1)."""
    mine, theirs = _labels(name), _labels(earlier)
    shared = 0
    while shared < min(len(mine), len(theirs)) and mine[-1 - shared][1] == theirs[-1 - shared][1]:
        shared += 1
    if not shared:
        return name, -1
    cut = mine[-shared][0]
    return name[:cut], theirs[-shared][0]


class _Compressed:
    """A record data that ends in a pointer into an earlier name of the same record set."""

    __slots__ = ("head", "offset", "tail")

    def __init__(self, head: bytes, offset: int, tail: bytes) -> None:
        self.head = head
        self.offset = offset
        self.tail = tail

    def at(self, base: int) -> bytes:
        """The bytes, for an earlier name that starts at `base` in the message."""
        if self.offset < 0:
            return self.head + self.tail
        return self.head + _POINTER.pack(0xC000 | (base + self.offset)) + self.tail


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
        mname = encode_name(self.nameservers[0])
        rname = encode_name(self.hostmaster)
        timers = struct.pack("!IIIII", self.serial, 3600, 600, 1209600, self.ttl)
        self.soa_rdata = mname + rname + timers
        # the RNAME usually shares the MNAME's domain: a pointer into it saves ~17 octets
        head, offset = _compress(rname, mname)
        self._soa = _Compressed(mname + head, offset, timers)
        self._soa_len = len(self._soa.at(0))
        self.ns_rdata = tuple(encode_name(ns) for ns in self.nameservers)
        first = self.ns_rdata[0]
        self._ns = [_Compressed(first, -1, b"")] + [
            _Compressed(*_compress(ns, first), b"") for ns in self.ns_rdata[1:]
        ]

    def soa(self, owner: int, at: int) -> bytes:
        """The SOA record owned by the name at offset `owner`, placed at offset `at`."""
        return (
            _POINTER.pack(0xC000 | owner)
            + _RR.pack(QTYPE_SOA, CLASS_IN, self.ttl, self._soa_len)
            + self._soa.at(at + 12)
        )

    def ns(self, at: int) -> bytes:
        """The apex NS records (owner: the question name), placed at offset `at`."""
        first = at + 12  # the first NS name, after the owner pointer and the fixed fields
        out = []
        for rdata in self._ns:
            data = rdata.at(first)
            out.append(b"\xc0\x0c" + _RR.pack(QTYPE_NS, CLASS_IN, self.ttl, len(data)) + data)
        return b"".join(out)


def _opt(do: bool = False, badvers: bool = False) -> bytes:
    ttl = (1 << 24) if badvers else 0  # extended RCODE 1 -> BADVERS (16)
    if do:
        ttl |= 0x8000
    return b"\x00" + _RR.pack(QTYPE_OPT, EDNS_PAYLOAD, ttl, 0)


OPT = _opt()
OPT_DO = _opt(do=True)
OPT_BADVERS = _opt(badvers=True)


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
    """The reply to `query`; `apex_label` indexes the planned zone's first label in the name."""
    flags = 0x8000 | (query.flags & 0x7900) | rcode
    if recursion_available:
        flags |= 0x0080
    question = packet[12 : query.question_end]
    qdcount = 1 if question else 0
    if query.edns and query.edns_version != 0:
        # BADVERS: no answer, no AA, no DO (RFC 6891 §6.1.3; as NSD)
        flags = (flags & ~0x000F) | (BADVERS & 0xF)
        return _HEADER.pack(query.ident, flags, qdcount, 0, 0, 1) + question + OPT_BADVERS
    if authoritative:
        flags |= 0x0400
    answer = b""
    n_an = n_ns = 0
    if records is not None and rcode == NOERROR and qdcount:
        qtype = query.qtype
        at_apex = apex_label == 0
        here = 12 + len(question)
        if qtype in (QTYPE_A, QTYPE_ANY) and records.n_a:
            answer, n_an = records.a, records.n_a
        elif (qtype == QTYPE_AAAA and records.n_aaaa) or (qtype == QTYPE_ANY and records.n_aaaa):
            answer, n_an = records.aaaa, records.n_aaaa
        elif qtype == QTYPE_NS and at_apex:
            answer, n_an = records.ns(here), len(records.nameservers)
        elif qtype == QTYPE_SOA and at_apex:
            answer, n_an = records.soa(12, here), 1
        else:
            # NODATA: the zone's SOA in the authority section, owned by the apex in the question
            answer, n_ns = records.soa(query.label_wire[apex_label], here), 1
    if query.edns:
        opt, n_ar = (OPT_DO if query.do else OPT), 1
    else:
        opt, n_ar = b"", 0
    reply = _HEADER.pack(query.ident, flags, qdcount, n_an, n_ns, n_ar) + question + answer + opt
    if n_an and len(reply) > limit:
        # too big for this query over UDP: truncate and let the client retry over TCP
        reply = _HEADER.pack(query.ident, flags | 0x0200, qdcount, 0, 0, n_ar) + question + opt
    return reply


def udp_limit(packet: bytes, query: Query) -> int:
    """The largest UDP reply allowed: 3x the query, and within the client's payload size."""
    return min(AMPLIFICATION * len(packet), query.payload if query.edns else 512)
