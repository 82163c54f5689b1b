"""The HTTP and TLS listeners: answer any request minimally, record each one as an event.

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
listener enforces the timeouts, so a request costs no timer.

:class:`HttpContext` holds what every listener of a worker shares (planned
names, decoders, limits, counters), including the raw TCP/UDP listeners of
``servers/raw.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import os
import ssl
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import httptools

from sinkhole import families
from sinkhole.events.writer import Buffer, EventWriter, now_us
from sinkhole.exceptions import SinkholeError
from sinkhole.operation import Limits, Operation
from sinkhole.servers.dns import NameTable
from sinkhole.types import BotFields, Decoder

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

#: A decoder must be at least this sure (taste) before unassigned raw bytes go to it.
TASTE_THRESHOLD = 0.5
#: Largest decoder reply body sent over HTTP.
MAX_REPLY = 4096
_HOST_CACHE = 4096


class TlsError(SinkholeError):
    """The TLS listener could not get a certificate."""


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


@dataclass
class ListenerCounters:
    """What the listeners of one kind (http, tls, tcp, udp) have seen."""

    connections: int = 0
    connections_refused: int = 0
    requests: int = 0
    decoded: int = 0
    malformed: int = 0
    oversized: int = 0
    timeouts: int = 0
    idle_closed: int = 0
    decoder_errors: int = 0


def _planned_names(op: Operation) -> dict[bytes, tuple[str, str]]:
    from sinkhole import plan

    names: dict[bytes, tuple[str, str]] = {}
    for held in plan.compute(op).domains.values():
        names[held.domain.encode()] = ("+".join(sorted(held.families)), sorted(held.channels)[0])
    return names


class HttpContext:
    """What a worker's HTTP, TLS and raw listeners share: names, decoders, limits, counters."""

    def __init__(
        self,
        sensor: str,
        names: dict[bytes, tuple[str, str]],
        limits: Limits,
        target_decoders: tuple[Decoder, ...] = (),
        family_decoders: dict[str, tuple[Decoder, ...]] | None = None,
    ) -> None:
        self.sensor = sensor
        self.names = names
        self.limits = limits
        #: Decoders tried when the Host names no family: the operation's targets'.
        self.target_decoders = target_decoders
        self.family_decoders = family_decoders or {}
        #: Every decoder, the targets' first (for tasting traffic of unknown family).
        self.every_decoder = self._every_decoder()
        self.replies: dict[str | None, tuple[bytes, bytes]] = {}
        self._hosts: dict[bytes, tuple[str, str] | None] = {}
        self.stats = {kind: ListenerCounters() for kind in ("http", "tls", "tcp", "udp")}
        self._build_replies()

    @classmethod
    def from_operation(
        cls, op: Operation, sensor: str, table: NameTable | None = None
    ) -> HttpContext:
        """The context for `op`'s planned names (reusing the DNS `table` when given)."""
        ctx = cls(sensor, {}, op.limits)
        ctx.reload(op, table)
        return ctx

    def reload(self, op: Operation, table: NameTable | None = None) -> None:
        """Swap in a new operation's names, decoders and limits (new connections use them)."""
        names = table.names if table is not None else _planned_names(op)
        every = {f.name: f.decoders for f in families.all_families()}
        targets: list[Decoder] = []
        for target in op.targets:
            for decoder in every.get(target.family, ()):
                if decoder not in targets:
                    targets.append(decoder)
        self.names = names
        self.limits = op.limits
        self.target_decoders = tuple(targets)
        self.family_decoders = every
        self.every_decoder = self._every_decoder()
        self._hosts = {}
        self._build_replies()

    def _build_replies(self) -> None:
        replies: dict[str | None, tuple[bytes, bytes]] = {None: OK}
        for name, decoders in self.family_decoders.items():
            body = next((d.http_reply for d in decoders if d.http_reply), b"")[:MAX_REPLY]
            replies[name] = (_reply(b"200 OK", body), _reply(b"200 OK", body, True)) if body else OK
        self.replies = replies

    def _every_decoder(self) -> tuple[Decoder, ...]:
        out = list(self.target_decoders)
        for decoders in self.family_decoders.values():
            out += [d for d in decoders if d not in out]
        return tuple(out)

    def decoders_for(self, family: str | None) -> tuple[Decoder, ...]:
        """A family's decoders; the targets' when `family` is None or has none."""
        if family is None:
            return self.target_decoders
        return self.family_decoders.get(family) or self.target_decoders

    def match_host(self, host: bytes) -> tuple[str, str] | None:
        """(family, channel) of a Host header or SNI name: a planned name or below one."""
        try:
            return self._hosts[host]
        except KeyError:
            pass
        name = host.lower()
        hit = None
        if not name.startswith(b"["):
            name = name.partition(b":")[0].rstrip(b".")
            names = self.names
            hit = names.get(name)
            dot = name.find(b".")
            while hit is None and dot >= 0:
                hit = names.get(name[dot + 1 :])
                dot = name.find(b".", dot + 1)
        if len(self._hosts) >= _HOST_CACHE:
            self._hosts.clear()
        self._hosts[host] = hit
        return hit

    def decode_http(
        self,
        decoders: tuple[Decoder, ...],
        method: bytes,
        url: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        counters: ListenerCounters,
    ) -> tuple[Decoder, BotFields] | None:
        """The first decoder that recognises the request, with its fields."""
        for decoder in decoders:
            try:
                fields = decoder.decode_http(method, url, headers, body)
            except Exception:  # a decoder bug must not cost the event
                counters.decoder_errors += 1
                continue
            if fields is not None:
                counters.decoded += 1
                return decoder, fields
        return None

    def counters(self) -> dict[str, dict[str, int]]:
        """Counters per listener kind: http, tls, tcp, udp."""
        return {kind: dict(vars(c)) for kind, c in self.stats.items()}


class _Swept(Protocol):
    phase: int
    started: float
    last_active: float

    def timed_out(self, header: bool) -> None: ...


class Listener:
    """One listening socket's open connections, limits and timeout sweep."""

    def __init__(self, ctx: HttpContext, counters: ListenerCounters, buffer: Buffer) -> None:
        self.ctx = ctx
        self.counters = counters
        self.buffer = buffer
        self.conns: set[_Swept] = set()
        self.server: asyncio.AbstractServer | None = None

    def start_sweeping(self) -> None:
        """Check timeouts a few times per shortest timeout (at least every second)."""
        limits = self.ctx.limits
        every = max(0.05, min(1.0, limits.header_timeout / 4, limits.idle_timeout / 4))
        asyncio.get_running_loop().call_later(every, self._sweep, every)

    def _sweep(self, every: float) -> None:
        now = time.monotonic()
        limits = self.ctx.limits
        header, idle = limits.header_timeout, limits.idle_timeout
        for conn in list(self.conns):
            if conn.phase == 1 and now - conn.started > header:
                self.counters.timeouts += 1
                conn.timed_out(True)
            elif now - conn.last_active > idle:
                self.counters.idle_closed += 1
                conn.timed_out(False)
        if self.conns or self.server is None or self.server.is_serving():
            asyncio.get_running_loop().call_later(every, self._sweep, every)


class _StopParsingError(Exception):
    """Raised from a parser callback to stop parsing this connection."""


#: SNI names by TLS connection, filled by the context's sni_callback.
_SNI: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

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
        self.peer: tuple[str, int] = ("", 0)
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
        self.peer = (str(peer[0]), int(peer[1]))
        if self.tls:
            sslobj = transport.get_extra_info("ssl_object")
            self.sni = _SNI.get(sslobj) if sslobj is not None else None
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
        cap = self.limits.payload_head
        if self.requests == 0 and len(self.conn_head) < cap:
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
        self._flush()

    def _flush(self) -> None:
        out = self.out
        if self.stop_reply:
            out.append(self.stop_reply)
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
        reply = self._request(None)
        if (
            not self.parser.should_keep_alive()
            or self.requests >= self.limits.requests_per_connection
        ):
            self.out.append(reply[1])
            self._stop(b"", "done")
            raise _StopParsingError
        self.out.append(reply[0])
        self.phase = 0
        self._reset()

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
        hit = ctx.match_host(self.host) if self.host else None
        if hit is None:
            hit = self.sni_hit
        family, channel = hit if hit is not None else (None, None)
        bot_id = version = machine = None
        if method is not None:
            found = ctx.decode_http(
                ctx.decoders_for(family), method, self.url, self.headers, head, self.counters
            )
            if found is not None:
                decoder, fields = found
                family = family or decoder.name
                bot_id = fields.get("bot_id")
                version = fields.get("version")
                machine = fields.get("machine_name")
        method_text = None
        if method:
            method_text = _METHODS.get(method)
            if method_text is None:
                method_text = _METHODS.setdefault(method, method.decode("ascii", "replace"))
        self.buffer.append(
            (
                now_us(),
                self.peer[0],
                self.peer[1],
                method_text,
                self.url.decode("utf-8", "backslashreplace") if self.url else None,
                self.host.decode("utf-8", "backslashreplace") if self.host else None,
                self.agent.decode("utf-8", "backslashreplace") if self.agent else None,
                self.referer.decode("utf-8", "backslashreplace") if self.referer else None,
                self.sni,
                family,
                channel,
                bot_id,
                version,
                machine,
                head[: self.limits.payload_head] or None,
                tag,
            )
        )
        return ctx.replies.get(family) or OK


async def serve_http(
    ctx: HttpContext,
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


# -- TLS ----------------------------------------------------------------------


def _remember_sni(sslobj: Any, name: str | None, context: ssl.SSLContext) -> None:
    if name:
        _SNI[sslobj] = name.lower().rstrip(".")


def tls_context(
    data_dir: Path, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext:
    """A server TLS context: the given certificate, or a self-signed one kept under data_dir/tls."""
    if cert is None:
        cert, key = self_signed(Path(data_dir) / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot load the TLS certificate {cert}: {exc}") from None
    context.sni_callback = _remember_sni
    context.set_alpn_protocols(["http/1.1"])
    return context


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) under `folder`, created on first use (key 0600), reused after."""
    cert, key = folder / "sinkhole.crt", folder / "sinkhole.key"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # workers start together: one creates the pair, the others wait and reuse it
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (cert.exists() and key.exists()):
                _write_self_signed(cert, key)
    except OSError as exc:
        raise TlsError(f"cannot create a TLS certificate in {folder}: {exc.strerror}") from None
    return cert, key


def _write_self_signed(cert: Path, key: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sinkhole")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("sinkhole.invalid")]), False)
        .sign(private, hashes.SHA256())
    )
    key_bytes = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for path, data, mode in (
        (key, key_bytes, 0o600),
        (cert, certificate.public_bytes(serialization.Encoding.PEM), 0o644),
    ):
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
