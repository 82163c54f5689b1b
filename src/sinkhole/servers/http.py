"""The HTTP listener (HTTPS too): answer any request minimally, record each one as an event.

Any method, path and Host is accepted; keep-alive and pipelining work. Every
request becomes one event (method, URL, Host, User-Agent, Referer, the SNI
name on TLS, the first bytes of the body) attributed to a family and channel
by its Host (or SNI) name, and decoded into bot id, version and machine name
by the family's decoders. The answer is a prebuilt ``200 OK`` with no body,
or the family decoder's fixed body; never anything executable.

Limits (from the operation's ``[limits]``) keep hostile clients cheap: a cap
on open connections, an idle timeout between requests, a header deadline
(slowloris: a request's headers must arrive within ``header_timeout`` seconds
of its first byte), a header size cap (431), a body cap (the head is kept, 413
beyond ``body_bytes``) and a request count per connection. Malformed requests
are recorded (tag ``malformed``), answered 400 and closed. One sweep per
listener enforces the timeouts, so a request costs no timer, and the answers
of every connection read in one turn of the loop are sent together after it
(``Listener.defer``), so a client is woken once per turn, not per request.

What the listeners of a worker share (planned names, decoders, limits,
counters) is in ``servers/context.py``; certificates and SNI in ``servers/tls.py``.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from time import time_ns
from typing import cast

import httptools

from sinkhole.events.writer import EventWriter
from sinkhole.servers.context import Listener, ListenerContext
from sinkhole.servers.tls import sni_of

HTTP_COLUMNS = (
    "timestamp",
    "src_ip",
    "src_port",
    "http_method",
    "http_url",
    "http_host",
    "http_agent",
    "http_referer",
    "ssl_servername",
    "family",
    "channel",
    "bot_id",
    "version",
    "machine_name",
    "payload_head",
    "tag",
)
#: The columns given to the writer as the bytes received (decoded there, in bulk).
TEXT_BYTES = ("http_url", "http_host", "http_agent", "http_referer")


def _reply(status: bytes, body: bytes = b"", close: bool = False) -> bytes:
    head = b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n" % len(body)
    if body:
        head += b"Content-Type: application/octet-stream\r\n"
    if close:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


OK = (_reply(b"200 OK"), _reply(b"200 OK", close=True))
BAD_REQUEST = _reply(b"400 Bad Request", close=True)
TOO_LARGE = _reply(b"413 Content Too Large", close=True)
HEADERS_TOO_LARGE = _reply(b"431 Request Header Fields Too Large", close=True)

#: (keep-alive, close) replies by decoder reply body; few bodies exist, one per family.
_BODY_REPLIES: dict[bytes, tuple[bytes, bytes]] = {}


def _replies(body: bytes) -> tuple[bytes, bytes]:
    replies = _BODY_REPLIES.get(body)
    if replies is None:
        replies = (_reply(b"200 OK", body), _reply(b"200 OK", body, True))
        _BODY_REPLIES[body] = replies
    return replies


class _StopParsingError(Exception):
    """Raised from a parser callback to stop parsing this connection."""


#: Method names as text, made once per distinct method.
_METHODS: dict[bytes, str] = {}


class HttpConnection(asyncio.Protocol):
    """One HTTP (or HTTP-over-TLS) connection: parse, answer, record."""

    def __init__(self, listener: Listener, tls: bool) -> None:
        self.listener = listener
        self.ctx = listener.ctx
        self.counters = listener.counters
        self.buffer = listener.buffer
        self.limits = listener.ctx.limits
        self.tls = tls
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.src_ip = ""
        self.src_port = 0
        self.sni: str | None = None
        self.sni_hit: tuple[str, str] | None = None
        self.phase = 0  # 0 between requests, 1 in headers, 2 in body
        self.started = self.last_active = time.monotonic()
        self.requests = 0
        self.closing = False
        self.stop_reply = b""
        self.stop_tag: str | None = None
        self.conn_head = b""
        self.out: list[bytes] = []
        self.head_raw = 0
        self.began_here = False
        self.accepted = False
        self.recorded = False
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.host = self.agent = self.referer = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_size = 0
        self.body = b""
        self.body_size = 0

    # -- connection ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's, hence a cast, not a check
        self.transport = cast(asyncio.Transport, transport)
        listener = self.listener
        if len(listener.conns) >= self.limits.max_connections:
            self.counters.connections_refused += 1
            self.closing = True
            self.transport.abort()
            return
        listener.conns.add(self)
        self.accepted = True
        self.counters.connections += 1
        peer = transport.get_extra_info("peername") or ("", 0)
        self.src_ip, self.src_port = str(peer[0]), int(peer[1])
        if self.tls:
            self.sni = sni_of(transport.get_extra_info("ssl_object"))
            if self.sni:
                self.sni_hit = self.ctx.match_host(self.sni.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.conns.discard(self)
        if self.tls and self.accepted and not self.recorded:
            # a TLS hello (with its SNI name) is a contact even without a request
            self._record(b"", "tls-no-request", None)
        self.transport = None
        self.closing = True

    def timed_out(self, header: bool) -> None:
        """Close after a header deadline (slowloris) or idle timeout."""
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        now = self.last_active = time.monotonic()
        if self.requests == 0:
            cap = self.limits.payload_head
            if len(self.conn_head) < cap:
                self.conn_head += data[: cap - len(self.conn_head)]
        self.began_here = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # no protocol switch here: what was asked has been answered; done
            self.closing = True
        except httptools.HttpParserCallbackError:
            self.closing = True
            if self.stop_tag is None:  # a bug of ours, not the client's
                self.counters.malformed += 1
                self.stop_reply = BAD_REQUEST
        except httptools.HttpParserError:
            self.closing = True
            self.counters.malformed += 1
            self._record(self.conn_head if self.requests == 0 else data, "malformed", None)
            self.stop_reply = BAD_REQUEST
        else:
            if self.phase == 1:
                limit = self.limits.header_bytes
                if not self.began_here:
                    # bytes the parser holds for a header line not yet complete
                    self.head_raw += len(data)
                if now - self.started > self.limits.header_timeout:
                    self.counters.timeouts += 1
                    self.closing = True
                elif self.head_raw > limit + 64 or self.header_size + len(self.url) > limit:
                    self._too_large_headers(data)
        if self.out or self.stop_reply or self.closing:
            self.listener.defer(self)

    def send_pending(self) -> None:
        """Write the answers gathered since the last send (and close, when closing)."""
        out = self.out
        if self.stop_reply:
            out.append(self.stop_reply)
            self.stop_reply = b""
        if out and self.transport is not None:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
            out.clear()
        if self.closing and self.transport is not None:
            self.transport.close()

    # -- parser callbacks -----------------------------------------------------

    def on_message_begin(self) -> None:
        self.phase = 1
        self.started = self.last_active
        self.head_raw = 0
        self.began_here = True

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.limits.header_bytes:
            self._too_large_headers(None)
            raise _StopParsingError

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_size += len(name) + len(value) + 4
        if self.header_size > self.limits.header_bytes:
            self._too_large_headers(None)
            raise _StopParsingError
        name = name.lower()
        if name == b"host":
            self.host = value
        elif name == b"user-agent":
            self.agent = value
        elif name == b"referer":
            self.referer = value
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.phase = 2

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        cap = self.limits.payload_head
        if len(self.body) < cap:
            self.body += body[: cap - len(self.body)]
        if self.body_size > self.limits.body_bytes:
            self.counters.oversized += 1
            self._request("body-too-large")
            self._stop(TOO_LARGE, "body-too-large")
            raise _StopParsingError

    def on_message_complete(self) -> None:
        # the common end of every request: _request and _reset written out (a call each
        # is a measurable part of a request's cost)
        self.requests += 1
        self.counters.requests += 1
        reply = self._record(self.body, None, self._method())
        if (
            not self.parser.should_keep_alive()
            or self.requests >= self.limits.requests_per_connection
        ):
            self.out.append(reply[1])
            self._stop(b"", "done")
            raise _StopParsingError
        self.out.append(reply[0])
        self.phase = 0
        self.url = self.host = self.agent = self.referer = self.body = b""
        self.headers = []
        self.header_size = self.body_size = 0

    # -- events -------------------------------------------------------------

    def _too_large_headers(self, data: bytes | None) -> None:
        self.counters.oversized += 1
        head = self.conn_head if self.requests == 0 or data is None else data
        self._record(head, "header-too-large", None)
        self._stop(HEADERS_TOO_LARGE, "header-too-large")

    def _stop(self, reply: bytes, tag: str) -> None:
        self.closing = True
        self.stop_reply = reply
        self.stop_tag = tag

    def _request(self, tag: str | None) -> tuple[bytes, bytes]:
        """Record the current request; returns its (keep-alive, close) replies."""
        self.requests += 1
        self.counters.requests += 1
        return self._record(self.body, tag, self._method())

    def _method(self) -> bytes:
        try:
            return self.parser.get_method()
        except httptools.HttpParserError:
            return b""

    def _record(self, head: bytes, tag: str | None, method: bytes | None) -> tuple[bytes, bytes]:
        self.recorded = True
        ctx = self.ctx
        host = self.host
        hit = ctx.match_host(host) if host else None
        if hit is None:
            hit = self.sni_hit
        family, channel = hit if hit is not None else (None, None)
        bot_id = version = machine = None
        method_text = None
        if method is not None:
            # the first decoder that recognises the request names the bot
            for decoder in ctx.http_decoders.get(family, ctx.target_decoders):
                try:
                    fields = decoder.decode_http(method, self.url, self.headers, head)
                except Exception:  # a decoder bug must not cost the event
                    self.counters.decoder_errors += 1
                    continue
                if fields is not None:
                    self.counters.decoded += 1
                    family = family or decoder.name
                    bot_id = fields.get("bot_id")
                    version = fields.get("version")
                    machine = fields.get("machine_name")
                    break
            if method:
                method_text = _METHODS.get(method)
                if method_text is None:
                    method_text = _METHODS.setdefault(method, method.decode("ascii", "replace"))
        # URL, Host, User-Agent and Referer stay bytes: the writer checks them as UTF-8
        # in bulk (see TEXT_BYTES)
        self.buffer.append(
            (
                time_ns() // 1000,
                self.src_ip,
                self.src_port,
                method_text,
                self.url or None,
                host or None,
                self.agent or None,
                self.referer or None,
                self.sni,
                family,
                channel,
                bot_id,
                version,
                machine,
                (head[: self.limits.payload_head] or None) if head else None,
                tag,
            )
        )
        body = ctx.reply_bodies.get(family) if family is not None else None
        return OK if body is None else _replies(body)


async def serve_http(
    ctx: ListenerContext,
    writer: EventWriter,
    host: str,
    port: int,
    ssl: ssl.SSLContext | None,
    reuse_port: bool,
) -> asyncio.Server:
    """Start an HTTP listener (HTTPS when `ssl` is given) at host:port."""
    tls = ssl is not None
    application = "tls" if tls else "http"
    loop = asyncio.get_running_loop()
    holder: list[Listener] = []
    factory: Callable[[], asyncio.Protocol] = lambda: HttpConnection(holder[0], tls)  # noqa: E731
    server = await loop.create_server(
        factory, host, port, ssl=ssl, reuse_port=reuse_port, backlog=1024
    )
    bound = server.sockets[0].getsockname()[1]
    buffer = writer.buffer(
        HTTP_COLUMNS,
        TEXT_BYTES,
        protocol="tcp",
        application=application,
        dst_ip=host,
        dst_port=bound,
        sensor=ctx.sensor,
    )
    listener = Listener(ctx, ctx.stats[application], buffer)
    listener.server = server
    holder.append(listener)
    listener.start_sweeping()
    return server
