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
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from time import time_ns
from typing import Any, cast

from sinkhole.events.writer import Buffer, EventWriter
from sinkhole.servers import dnswire as wire

parse = wire.parse
build = wire.build

#: Distinct questions whose replies are kept; the cache is emptied when full.
CACHE_SIZE = 100_000
#: Octets of a malformed packet kept in its event.
PAYLOAD_HEAD = 512

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
        self._window = 0
        self._counts: dict[tuple[str, bytes, int], int] = {}

    def allow(self, src_ip: str, zone: bytes, rcode: int) -> bool:
        """Whether one more response to this key fits in the current second.

        `zone` is the planned zone answered (b"" when none: every refused name from a
        prefix shares one key, so random names cannot dodge the limit).
        """
        if self.per_second <= 0:
            return True
        second = int(self.clock())
        counts = self._counts
        if second != self._window:
            self._window = second
            counts.clear()
        key = (_prefix(src_ip), zone, rcode)
        seen = counts.get(key, 0)
        if seen >= self.per_second:
            return False
        if seen == 0 and len(counts) >= self.max_keys:
            return False
        counts[key] = seen + 1
        return True


def _prefix(ip: str) -> str:
    if ":" in ip:
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
        # replies differ by transport (the UDP size cap), so each has its own cache
        self.udp_cache: dict[bytes, tuple[Any, ...]] = {}
        self.tcp_cache: dict[bytes, tuple[Any, ...]] = {}

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
            reply: bytes = packet[:2] + tail
            return reply
        try:
            query = parse(packet)
        except wire.MalformedError as error:
            return self._unanswerable(packet, src_ip, src_port, error)
        family = channel = tag = None
        apex = -1
        zone = b""
        rcode = wire.REFUSED
        qtype = query.qtype
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
                    counters.dga_unplanned += 1
            if qtype == wire.QTYPE_AXFR or qtype == wire.QTYPE_IXFR:  # noqa: PLR1714
                # refused (as NSD without a transfer ACL); AXFR over UDP does not exist
                counters.zone_transfers += 1
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
        cache[packet[2:]] = (reply[2:], qname, qtype, rcode, family, channel, tag, zone)
        return reply


class DnsUdp(asyncio.DatagramProtocol):
    """DNS over UDP."""

    def __init__(self, handler: DnsHandler) -> None:
        self.handler = handler
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's, hence a cast, not a check
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self.handler.handle(data, str(addr[0]), int(addr[1]), True)
        if reply and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors from spoofed or vanished clients are normal; keep serving.
        pass


@dataclass
class TcpLimits:
    """Per-listener TCP limits."""

    max_connections: int = 4096
    idle_timeout: float = 10.0
    max_messages: int = 1000


class DnsTcp(asyncio.Protocol):
    """DNS over TCP: two-byte length-prefixed messages, pipelined."""

    def __init__(self, handler: DnsHandler, limits: TcpLimits, open_count: list[int]) -> None:
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


async def serve_dns(
    udp_handler: DnsHandler,
    tcp_handler: DnsHandler,
    host: str,
    port: int,
    limits: TcpLimits,
    reuse_port: bool = False,
) -> tuple[asyncio.DatagramTransport, asyncio.Server]:
    """Start DNS on UDP and TCP at host:port; returns the UDP transport and TCP server."""
    loop = asyncio.get_running_loop()
    udp, _ = await loop.create_datagram_endpoint(
        lambda: DnsUdp(udp_handler), local_addr=(host, port), reuse_port=reuse_port
    )
    sock = udp.get_extra_info("socket")
    if sock is not None:
        # bursts from big resolvers: a deep receive queue drops fewer queries
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    bound_port = udp.get_extra_info("sockname")[1]
    open_count = [0]
    factory: Callable[[], asyncio.Protocol] = lambda: DnsTcp(tcp_handler, limits, open_count)  # noqa: E731
    tcp = await loop.create_server(factory, host, bound_port, reuse_port=reuse_port, backlog=1024)
    return udp, tcp


def dns_buffer(writer: EventWriter, sensor: str, host: str, port: int, protocol: str) -> Buffer:
    """The event buffer of one DNS listener."""
    return writer.buffer(
        DNS_COLUMNS, protocol=protocol, application="dns", dst_ip=host, dst_port=port, sensor=sensor
    )
