"""The raw TCP and UDP listeners: record the first bytes bots send, answer (almost) nothing.

A raw listener serves a port a family's bots speak their own protocol on.
Each TCP connection becomes one event holding its first ``payload_head``
bytes (recorded as soon as a decoder recognises them, the head is full, or
the connection ends); each UDP datagram becomes one event. The bytes go to
the decoders of the listener's family, or, on a listener without one, to
whichever registered decoder tastes them surest. A decoded check-in gets the
decoder's fixed minimal reply; anything else gets silence. Over UDP a reply
is only sent when it is no larger than the datagram, so the sinkhole cannot
amplify. Connections obey the same limits as HTTP: a cap on open
connections, an idle timeout and ``body_bytes`` per connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from sinkhole.events.writer import EventWriter, now_us
from sinkhole.servers.context import TASTE_THRESHOLD, Listener, ListenerContext, ListenerCounters
from sinkhole.types import BotFields, Decoder

RAW_COLUMNS = (
    "timestamp",
    "src_ip",
    "src_port",
    "family",
    "channel",
    "bot_id",
    "version",
    "machine_name",
    "payload_head",
    "tag",
)


def decode_raw(
    ctx: ListenerContext, family: str | None, data: bytes, port: int, counters: ListenerCounters
) -> tuple[Decoder, BotFields | None] | None:
    """The decoder for `data` (the family's, else the best taster) and what it decoded."""
    if family is not None:
        candidates = ctx.family_decoders.get(family, ())
    else:
        best, score = None, TASTE_THRESHOLD
        for decoder in ctx.every_decoder:
            try:
                taste = decoder.taste(data, port)
            except Exception:  # a decoder bug must not cost the event
                counters.decoder_errors += 1
                continue
            if taste >= score:
                best, score = decoder, taste
        candidates = (best,) if best is not None else ()
    for decoder in candidates:
        try:
            fields = decoder.decode_raw(data)
        except Exception:
            counters.decoder_errors += 1
            continue
        if fields is not None:
            counters.decoded += 1
            return decoder, fields
    return (candidates[0], None) if candidates else None


class RawTcp(asyncio.Protocol):
    """One raw TCP connection: keep its head, decode it once, record it once."""

    def __init__(self, listener: Listener, family: str | None, port: int) -> None:
        self.listener = listener
        self.ctx = listener.ctx
        self.counters = listener.counters
        self.limits = listener.ctx.limits
        self.family = family
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("", 0)
        self.phase = 0
        self.started = self.last_active = time.monotonic()
        self.head = b""
        self.size = 0
        self.accepted = False
        self.recorded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's, hence a cast, not a check
        self.transport = cast(asyncio.Transport, transport)
        listener = self.listener
        if len(listener.conns) >= self.limits.max_connections:
            self.counters.connections_refused += 1
            self.transport.abort()
            return
        listener.conns.add(self)
        self.accepted = True
        self.counters.connections += 1
        peer = transport.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1]))

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        self.size += len(data)
        if not self.recorded:
            cap = self.limits.payload_head
            self.head += data[: cap - len(self.head)]
            found = decode_raw(self.ctx, self.family, self.head or data, self.port, self.counters)
            decoded = found is not None and found[1] is not None
            if decoded or len(self.head) >= cap:
                self._record(found)
                if decoded and found is not None and found[0].raw_reply and self.transport:
                    self.transport.write(found[0].raw_reply)
        if self.size > self.limits.body_bytes and self.transport is not None:
            self.counters.oversized += 1
            self.transport.close()

    def timed_out(self, header: bool) -> None:
        """Close after the idle timeout."""
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.conns.discard(self)
        if self.accepted and not self.recorded:
            found = (
                decode_raw(self.ctx, self.family, self.head, self.port, self.counters)
                if self.head
                else None
            )
            self._record(found, None if self.head else "no-data")
        self.transport = None

    def _record(
        self, found: tuple[Decoder, BotFields | None] | None, tag: str | None = None
    ) -> None:
        self.recorded = True
        self.counters.requests += 1
        self.listener.buffer.append(_row(self.peer, self.family, found, self.head, tag))


def _row(
    peer: tuple[str, int],
    family: str | None,
    found: tuple[Decoder, BotFields | None] | None,
    head: bytes,
    tag: str | None,
) -> tuple[object, ...]:
    fields = found[1] if found is not None else None
    if fields is None:
        return (now_us(), peer[0], peer[1], family, None, None, None, None, head or None, tag)
    return (
        now_us(),
        peer[0],
        peer[1],
        family or (found[0].name if found is not None else None),
        None,
        fields.get("bot_id"),
        fields.get("version"),
        fields.get("machine_name"),
        head or None,
        tag,
    )


class RawUdp(asyncio.DatagramProtocol):
    """Raw UDP: one event per datagram; a decoded check-in may get a reply no larger than it."""

    def __init__(self, holder: list[Listener], family: str | None, port: list[int]) -> None:
        # the endpoint makes its protocol before it is bound: the listener comes after
        self.holder = holder
        self.family = family
        self.bound = port
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        listener = self.holder[0]
        counters = listener.counters
        counters.requests += 1
        found = None
        if data:
            found = decode_raw(listener.ctx, self.family, data, self.bound[0], counters)
        head = data[: listener.ctx.limits.payload_head]
        peer = (str(addr[0]), int(addr[1]))
        listener.buffer.append(_row(peer, self.family, found, head, None if data else "no-data"))
        if found is not None and found[1] is not None and self.transport is not None:
            reply = found[0].raw_reply
            if reply and len(reply) <= len(data):
                self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors from spoofed or vanished clients are normal; keep serving.
        pass


def _listener(
    ctx: ListenerContext, writer: EventWriter, kind: str, host: str, port: int, family: str | None
) -> Listener:
    buffer = writer.buffer(
        RAW_COLUMNS,
        protocol=kind,
        application="raw",
        dst_ip=host,
        dst_port=port,
        sensor=ctx.sensor,
    )
    return Listener(ctx, ctx.stats[kind], buffer)


async def serve_raw_tcp(
    ctx: ListenerContext,
    writer: EventWriter,
    host: str,
    port: int,
    family: str | None,
    reuse_port: bool,
) -> asyncio.Server:
    """Start a raw TCP listener at host:port (for `family`, or tasting when None)."""
    loop = asyncio.get_running_loop()
    holder: list[Listener] = []
    bound = [port]
    factory: Callable[[], asyncio.Protocol] = lambda: RawTcp(holder[0], family, bound[0])  # noqa: E731
    server = await loop.create_server(factory, host, port, reuse_port=reuse_port, backlog=1024)
    bound[0] = server.sockets[0].getsockname()[1]
    listener = _listener(ctx, writer, "tcp", host, bound[0], family)
    listener.server = server
    holder.append(listener)
    listener.start_sweeping()
    return server


async def serve_raw_udp(
    ctx: ListenerContext,
    writer: EventWriter,
    host: str,
    port: int,
    family: str | None,
    reuse_port: bool,
) -> asyncio.DatagramTransport:
    """Start a raw UDP listener at host:port (for `family`, or tasting when None)."""
    loop = asyncio.get_running_loop()
    holder: list[Listener] = []
    bound = [port]
    factory: Callable[[], asyncio.DatagramProtocol] = lambda: RawUdp(holder, family, bound)  # noqa: E731
    transport, _ = await loop.create_datagram_endpoint(
        factory, local_addr=(host, port), reuse_port=reuse_port
    )
    bound[0] = transport.get_extra_info("sockname")[1]
    holder.append(_listener(ctx, writer, "udp", host, bound[0], family))
    return transport
