"""The DNS listener: authoritative for every planned name, REFUSED for the rest.

One handler serves UDP and TCP. It answers planned names (the apex and any
name below it) with the sinkhole addresses, SOA/NS at the apex, NODATA with
the SOA otherwise; it never recurses and refuses zone transfers. In
resolver-emulation mode (for the hard-coded resolver addresses an ISP
redirects to us) it answers the same names as a recursive resolver would (RA
set, AA clear). Every packet that reaches the listener becomes an event:
queries with their name, type and rcode; unplanned names that a target
family's DGA generates near the window are tagged ``dga-unplanned`` so plan
gaps show up; zone transfer attempts ``zone-transfer``; packets that are no
query we answer ``malformed`` (or ``unsupported-opcode``) with the head of the
payload. A response-rate limit per (source prefix, planned zone, rcode), as
NSD's and BIND's RRL key it, stops reflection floods, random-subdomain ones
included, without throttling the few big resolvers most bots' lookups come
through.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ipaddress
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from time import time_ns
from typing import Any, Protocol, cast

from sinkhole.events.writer import Buffer, EventWriter
from sinkhole.servers import dnswire as wire

parse = wire.parse
build = wire.build

#: Distinct questions whose replies are kept; the cache is emptied when full.
CACHE_SIZE = 100_000
#: Octets of a malformed packet kept in its event.
PAYLOAD_HEAD = 512
#: Label bytes a name's text shows as they are (lowercased): no escapes, no dots.
_PLAIN = b"abcdefghijklmnopqrstuvwxyz0123456789-_"

DNS_COLUMNS = (
    "timestamp",
    "src_ip",
    "src_port",
    "dns_qname",
    "dns_qtype",
    "dns_rcode",
    "family",
    "channel",
    "tag",
    "payload_head",
)


@dataclass
class NameTable:
    """Planned names (and nearby unplanned DGA names) to family and channel."""

    names: dict[bytes, tuple[str, str]]
    suspects: dict[bytes, str] = field(default_factory=dict)

    def match(self, query: wire.Query) -> tuple[int, tuple[str, str] | None]:
        """(index of the planned zone's first label, its family/channel), or (-1, None).

        Only whole labels are compared: a label with a dot in it never matches.
        """
        qname = query.qname
        names = self.names
        labels = query.label_wire
        for index in range(query.clean, len(labels)):
            hit = names.get(qname[labels[index] - 12 :])
            if hit is not None:
                return index, hit
        return -1, None


@dataclass
class DnsCounters:
    """What one DNS listener has seen."""

    queries: int = 0
    answered: int = 0
    refused: int = 0
    malformed: int = 0
    rate_limited: int = 0
    dga_unplanned: int = 0
    zone_transfers: int = 0
    unsupported: int = 0
    unsent: int = 0


class RateLimiter:
    """Fixed one-second windows of responses per (source prefix, zone, rcode)."""

    def __init__(
        self,
        per_second: int,
        max_keys: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.max_keys = max_keys
        self.clock = clock
        self._until = 0.0  # end of the current one-second window
        self._counts: dict[tuple[str, bytes, int], int] = {}
        # a source's prefix, worked out once: a few resolvers send most queries
        self._prefixes: dict[str, str] = {}

    def allow(self, src_ip: str, zone: bytes, rcode: int) -> bool:
        """Whether one more response to this key fits in the current second.

        `zone` is the planned zone answered (b"" when none: every refused name from a
        prefix shares one key, so random names cannot dodge the limit).
        """
        if self.per_second <= 0:
            return True
        now = self.clock()
        counts = self._counts
        if now >= self._until:
            self._until = float(int(now) + 1)
            counts.clear()
        prefix = self._prefixes.get(src_ip)
        if prefix is None:
            if len(self._prefixes) >= 65536:
                self._prefixes.clear()
            prefix = self._prefixes[src_ip] = _prefix(src_ip)
        key = (prefix, zone, rcode)
        seen = counts.get(key, 0)
        if seen >= self.per_second:
            return False
        if not seen and len(counts) >= self.max_keys:
            return False
        counts[key] = seen + 1
        return True


def _prefix(ip: str) -> str:
    if ":" in ip:
        address = ipaddress.IPv6Address(ip)
        if address.ipv4_mapped is not None:  # an IPv4 client of a dual-stack listener
            return str(address.ipv4_mapped).rpartition(".")[0]
        return str(ipaddress.IPv6Network(f"{ip}/56", strict=False).network_address)
    return ip.rpartition(".")[0]


class DnsHandler:
    """Parses, answers and records one DNS message; shared by UDP and TCP."""

    def __init__(
        self,
        table: NameTable,
        records: wire.Records,
        buffer: Buffer,
        resolver: bool = False,
        rate_limit: int = 200,
    ) -> None:
        self.table = table
        self.records = records
        self.buffer = buffer
        self.resolver = resolver
        self.limiter = RateLimiter(rate_limit)
        self.counters = DnsCounters()
        # replies differ by transport (the UDP size cap), so each has its own cache; keys are
        # the query after its ID (bytes) or that without the first label's text (a tuple)
        self.udp_cache: dict[Any, tuple[Any, ...]] = {}
        self.tcp_cache: dict[Any, tuple[Any, ...]] = {}

    def replace_plan(self, table: NameTable, records: wire.Records) -> None:
        """Swap in a new plan (SIGHUP); cached replies of the old one are dropped."""
        self.table = table
        self.records = records
        self.udp_cache = {}
        self.tcp_cache = {}

    def _unanswerable(
        self, packet: bytes, src_ip: str, src_port: int, error: wire.MalformedError
    ) -> bytes | None:
        """A packet that is no query we answer normally: an event with its head, a header reply."""
        if error.tag == "malformed":
            self.counters.malformed += 1
        else:
            self.counters.unsupported += 1
        rcode = error.rcode
        self.buffer.append((time_ns() // 1000, src_ip, src_port, None, None, rcode, None, None,
                            error.tag, packet[:PAYLOAD_HEAD]))  # fmt: skip
        # a header is never longer than the query: no amplification, so no rate limit
        return None if rcode is None else wire.error_reply(packet, rcode)

    def handle(self, packet: bytes, src_ip: str, src_port: int, udp: bool) -> bytes | None:
        """The reply to send (None: send nothing). The hot path: keep it lean."""
        counters = self.counters
        counters.queries += 1
        # Bots and their resolvers ask the same few questions over and over: a reply depends
        # only on the query bytes after the ID, so repeated questions skip parse and build.
        cache = self.udp_cache if udp else self.tcp_cache
        cached = cache.get(packet[2:])
        if cached is not None:
            tail, qname, qtype, rcode, family, channel, tag, zone = cached
            reply: bytes = packet[:2] + tail
        else:
            # Random names below a planned domain (QNAME minimisation, random-subdomain floods)
            # never repeat, but all of the query except its first label's text does: keyed on
            # that, a reply is the question spliced between prebuilt bytes.
            if len(packet) < 14:
                return self._answer(packet, src_ip, src_port, udp, cache)
            n = packet[12]
            below = cache.get((packet[2:13], packet[13 + n :]))
            if below is None:
                return self._answer(packet, src_ip, src_port, udp, cache)
            head, body, after, rest, qtype, rcode, family, channel, tag, zone = below
            label = packet[13 : 13 + n].lower()
            name = label + rest
            table = self.table
            if (
                label.translate(None, _PLAIN)
                or name in table.names
                or (rcode and name in table.suspects)
            ):
                return self._answer(packet, src_ip, src_port, udp, cache)
            qname = name.decode()
            reply = b"".join((packet[:2], head, packet[12 : len(packet) - after], body))
        limiter = self.limiter
        if udp and limiter.per_second and not limiter.allow(src_ip, zone, rcode):
            counters.rate_limited += 1
            self.buffer.append((time_ns() // 1000, src_ip, src_port, qname, qtype, rcode,
                                family, channel, "rate-limited", None))  # fmt: skip
            return None
        if rcode:
            counters.refused += 1
        else:
            counters.answered += 1
        if tag is not None:
            if tag == "dga-unplanned":
                counters.dga_unplanned += 1
            elif tag == "zone-transfer":
                counters.zone_transfers += 1
        self.buffer.append((time_ns() // 1000, src_ip, src_port, qname, qtype, rcode,
                            family, channel, tag, None))  # fmt: skip
        return reply

    def _answer(
        self, packet: bytes, src_ip: str, src_port: int, udp: bool, cache: dict[Any, Any]
    ) -> bytes | None:
        """The reply to a query no cache knows: parse, match, build, and remember the reply."""
        counters = self.counters
        try:
            query = parse(packet)
        except wire.MalformedError as error:
            return self._unanswerable(packet, src_ip, src_port, error)
        family = channel = tag = None
        apex = -1
        zone = b""
        rcode = wire.REFUSED
        qtype: int | None = query.qtype
        qclass = query.qclass
        authoritative = not self.resolver
        if not query.question:
            # a header and an OPT (dig +header-only, cookie probes): NOERROR with an OPT
            rcode, tag, qtype, authoritative = wire.NOERROR, "no-question", None, False
        elif qclass == 1 or qclass == 255:  # noqa: PLR1714 (hot path)
            apex, hit = self.table.match(query)
            if hit is not None:
                rcode = 0
                family, channel = hit
                zone = query.qname[query.label_wire[apex] - 12 :]
                if self.resolver:
                    # the bot got here through a hard-coded resolver redirected to us
                    channel = "dns-servers"
                if qclass == 255:
                    authoritative = False  # as NSD: QCLASS ANY is answered without AA
            else:
                suspect = self.table.suspects.get(query.qname)
                if suspect is not None:
                    family, tag = suspect, "dga-unplanned"
            if qtype == wire.QTYPE_AXFR or qtype == wire.QTYPE_IXFR:  # noqa: PLR1714
                # refused (as NSD without a transfer ACL); AXFR over UDP does not exist
                rcode = wire.NOTIMP if udp and qtype == wire.QTYPE_AXFR else wire.REFUSED
                tag = "zone-transfer"
        qname = query.text
        limiter = self.limiter
        if udp and limiter.per_second and not limiter.allow(src_ip, zone, rcode):
            counters.rate_limited += 1
            self.buffer.append((time_ns() // 1000, src_ip, src_port, qname, qtype, rcode,
                                family, channel, "rate-limited", None))  # fmt: skip
            return None
        if rcode:
            counters.refused += 1
            records = None
        else:
            counters.answered += 1
            records = self.records
        # counted as the cached path counts them: only when answered, not rate-limited
        if tag == "dga-unplanned":
            counters.dga_unplanned += 1
        elif tag == "zone-transfer":
            counters.zone_transfers += 1
        if udp:
            limit = 3 * len(packet)
            cap = query.payload if query.edns else 512
            limit = min(limit, cap)
        else:
            limit = 65535
        resolver = self.resolver
        reply = build(packet, query, rcode, records, apex, not rcode and authoritative,
                      resolver and bool(query.flags & 0x0100), limit)  # fmt: skip
        self.buffer.append(
            (time_ns() // 1000, src_ip, src_port, qname, qtype, rcode, family, channel, tag, None)
        )
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        labels = query.label_wire
        first = packet[13 : 13 + packet[12]].lower() if labels else b""
        if (
            apex == 0  # the whole name is the planned one
            or (apex < 0 and family is not None)  # the whole name is an unplanned DGA name
            or len(labels) < 2
            or first.translate(None, _PLAIN)
            or len(query.qname) != len(qname or "")  # escapes in the name
        ):
            cache[packet[2:]] = (reply[2:], qname, qtype, rcode, family, channel, tag, zone)
        else:
            # everything but the first label's text decides this reply: see handle()
            end = query.question_end
            cache[(packet[2:13], packet[13 + len(first) :])] = (
                reply[2:12], reply[end:], len(packet) - end, query.qname[len(first) :], qtype,
                rcode, family, channel, tag, zone,
            )  # fmt: skip
        return reply


class Handler(Protocol):
    """What the UDP loop and TCP connections need of a handler (this listener's, the DNSBL's)."""

    counters: DnsCounters

    def handle(self, packet: bytes, src_ip: str, src_port: int, udp: bool) -> bytes | None:
        """The reply to send (None: send nothing)."""


class DnsUdp:
    """DNS over UDP: a non-blocking socket read in a loop whenever the event loop finds it
    readable. One recvfrom and one sendto per packet, nothing else: measurably cheaper per
    query than a DatagramProtocol's transport, and UDP needs none of its buffering (a reply
    the kernel cannot take now is dropped and counted, as a lost datagram would be)."""

    #: Datagrams handled per wake-up before the loop gets a turn (TCP, the collector).
    BATCH = 256
    #: Largest query read; a longer datagram is cut to this and answered as what it says.
    MAX_QUERY = 4096

    def __init__(self, handler: Handler, sock: socket.socket) -> None:
        self.handler = handler
        self.sock = sock
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve from `loop` until :meth:`close`."""
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self.readable)

    def readable(self) -> None:
        """Answer the datagrams waiting on the socket (up to BATCH)."""
        recvfrom = self.sock.recvfrom
        sendto = self.sock.sendto
        handle = self.handler.handle
        size = self.MAX_QUERY
        for _ in range(self.BATCH):
            try:
                data, addr = recvfrom(size)
            except OSError:  # nothing left (EAGAIN), or an ICMP error: wait for the next one
                return
            reply = handle(data, addr[0], addr[1], True)
            if reply:
                try:
                    sendto(reply, addr)
                except OSError:
                    self.handler.counters.unsent += 1

    def close(self) -> None:
        """Stop reading and close the socket."""
        if self._loop is not None and self.sock.fileno() >= 0:
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()

    def get_extra_info(self, name: str) -> Any:
        """`sockname` or `socket`, as a transport would answer."""
        return {"sockname": self.sock.getsockname(), "socket": self.sock}.get(name)


@dataclass
class TcpLimits:
    """Per-listener TCP limits."""

    max_connections: int = 4096
    idle_timeout: float = 10.0
    max_messages: int = 1000


class DnsTcp(asyncio.Protocol):
    """DNS over TCP: two-byte length-prefixed messages, pipelined."""

    def __init__(self, handler: Handler, limits: TcpLimits, open_count: list[int]) -> None:
        self.handler = handler
        self.limits = limits
        self.open_count = open_count
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("", 0)
        self.messages = 0
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.open_count[0] += 1
        if self.open_count[0] > self.limits.max_connections:
            self.transport.abort()
            return
        peer = self.transport.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1]))
        self._arm()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.limits.idle_timeout, self._idle)

    def _idle(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._arm()
        while len(self.buf) >= 2:
            size = int.from_bytes(self.buf[:2], "big")
            if len(self.buf) < 2 + size:
                break
            message = bytes(self.buf[2 : 2 + size])
            del self.buf[: 2 + size]
            self.messages += 1
            reply = self.handler.handle(message, self.peer[0], self.peer[1], False)
            if reply and self.transport is not None:
                self.transport.write(len(reply).to_bytes(2, "big") + reply)
            if self.messages >= self.limits.max_messages and self.transport is not None:
                self.transport.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        self.open_count[0] -= 1
        if self.timer is not None:
            self.timer.cancel()
        self.transport = None


#: setsockopt option number of a classic BPF program choosing a socket in a SO_REUSEPORT group.
SO_ATTACH_REUSEPORT_CBPF = 51


def spread_datagrams(sock: socket.socket, workers: int) -> bool:
    """Deal the datagrams of `sock`'s SO_REUSEPORT group to its `workers` sockets at random.

    The kernel's default picks a socket by hashing the flow, so a few busy clients (a
    load generator's 8 sockets, the few big resolvers most bots' lookups come through)
    can put most of the load on one worker. DNS over UDP keeps no state between
    datagrams, so any worker can answer any of them. Linux only; False where refused
    (the flow hash then stays).
    """
    if workers < 2:
        return False
    random_word = (0xFFFFF000 + 56) & 0xFFFFFFFF  # SKF_AD_OFF + SKF_AD_RANDOM
    code = b"".join(
        (
            struct.pack("HBBI", 0x20, 0, 0, random_word),  # A = a random word
            struct.pack("HBBI", 0x94, 0, 0, workers),  # A %= workers
            struct.pack("HBBI", 0x16, 0, 0, 0),  # return A: the socket's index in the group
        )
    )
    program = ctypes.create_string_buffer(code, len(code))
    fprog = struct.pack("@HP", len(code) // 8, ctypes.addressof(program))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
    except OSError:
        return False
    return True


async def serve_dns(
    udp_handler: Handler,
    tcp_handler: Handler,
    host: str,
    port: int,
    limits: TcpLimits,
    reuse_port: bool = False,
    workers: int = 0,
) -> tuple[DnsUdp, asyncio.Server]:
    """Start DNS on UDP and TCP at host:port; returns the UDP listener and the TCP server.

    `workers`: how many processes share the port (SO_REUSEPORT); their datagrams are
    dealt among them at random (see :func:`spread_datagrams`).
    """
    loop = asyncio.get_running_loop()
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # bursts from big resolvers: a deep receive queue drops fewer queries
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(address)
        sock.setblocking(False)
        if reuse_port:
            spread_datagrams(sock, workers)
    except OSError:
        sock.close()
        raise
    udp = DnsUdp(udp_handler, sock)
    udp.start(loop)
    bound_port = sock.getsockname()[1]
    open_count = [0]
    factory: Callable[[], asyncio.Protocol] = lambda: DnsTcp(tcp_handler, limits, open_count)  # noqa: E731
    try:
        tcp = await loop.create_server(
            factory, host, bound_port, reuse_port=reuse_port, backlog=1024
        )
    except OSError:
        udp.close()
        raise
    return udp, tcp


def dns_buffer(writer: EventWriter, sensor: str, host: str, port: int, protocol: str) -> Buffer:
    """The event buffer of one DNS listener."""
    return writer.buffer(
        DNS_COLUMNS, protocol=protocol, application="dns", dst_ip=host, dst_port=port, sensor=sensor
    )
