"""`sinkhole serve`: worker processes, each running every listener on SO_REUSEPORT sockets.

The parent computes the plan once, recovers any WAL left by a crash, resolves
port 0 to free ports, then forks N workers (default: one per core). Each
worker runs uvloop with its own event writer (sensor ``<name>-w<i>``), so
nothing is shared on the hot path. SIGTERM or SIGINT stops the workers, each
flushing its events into Parquet; SIGHUP makes every worker re-read the
operation file and swap in the new plan without closing a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sinkhole import families, operation, plan
from sinkhole.events.writer import EventWriter, Recovery, recover, warm_up
from sinkhole.exceptions import SinkholeError
from sinkhole.servers import dns as dns_server
from sinkhole.servers import dnswire
from sinkhole.servers import http as http_server
from sinkhole.servers import raw as raw_server
from sinkhole.zones import serial

log = logging.getLogger(__name__)

#: How far beyond the plan window unplanned DGA names are still recognised.
SUSPECT_MARGIN = dt.timedelta(days=30)


class ServeError(SinkholeError):
    """The sinkhole could not start."""


Address = tuple[str, int]


@dataclass
class ServeConfig:
    """Everything a worker needs, resolved from the operation file and CLI flags."""

    operation_path: Path
    data_dir: Path
    sensor: str
    workers: int
    dns: list[Address] = field(default_factory=list)
    resolver: list[Address] = field(default_factory=list)
    http: list[Address] = field(default_factory=list)
    tls: list[Address] = field(default_factory=list)
    tcp: list[tuple[Address, str | None]] = field(default_factory=list)
    udp: list[tuple[Address, str | None]] = field(default_factory=list)
    flush_interval: float = 0.25
    tls_cert: Path | None = None
    tls_key: Path | None = None


def config_from(
    op: operation.Operation,
    data_dir: Path | None = None,
    dns: list[str] | None = None,
    http: list[str] | None = None,
    tls: list[str] | None = None,
    workers: int | None = None,
    resolver: list[str] | None = None,
) -> ServeConfig:
    """Merge the operation's [listeners] and [data] with command-line overrides."""
    if op.path is None:
        raise ServeError("the operation must come from a file (SIGHUP re-reads it)")

    def addresses(values: list[str] | tuple[str, ...], default_port: int) -> list[Address]:
        out = []
        for value in values:
            try:
                out.append(operation.parse_address(value, default_port))
            except ValueError as exc:
                raise ServeError(str(exc)) from None
        return out

    listeners = op.listeners
    count = workers if workers is not None else listeners.workers
    if count < 0 or count > 256:
        raise ServeError(f"--workers {count}: expected 0 (one per core) to 256")
    return ServeConfig(
        operation_path=op.path,
        data_dir=data_dir or op.data_dir,
        sensor=op.data.sensor,
        workers=count or os.cpu_count() or 1,
        dns=addresses(dns if dns is not None else listeners.dns, 53),
        resolver=addresses(resolver if resolver is not None else listeners.resolver, 53),
        http=addresses(http if http is not None else listeners.http, 80),
        tls=addresses(tls if tls is not None else listeners.tls, 443),
        tcp=[(operation.parse_address(r.address), r.family) for r in listeners.tcp],
        udp=[(operation.parse_address(r.address), r.family) for r in listeners.udp],
        tls_cert=op.resolve(listeners.tls_cert) if listeners.tls_cert else None,
        tls_key=op.resolve(listeners.tls_key) if listeners.tls_key else None,
    )


def name_table(op: operation.Operation, p: plan.Plan) -> dns_server.NameTable:
    """Planned names for the DNS listener, plus the DGA names just outside the plan."""
    names: dict[bytes, tuple[str, str]] = {}
    interned: dict[tuple[str, str], tuple[str, str]] = {}
    for held in p.domains.values():
        value = ("+".join(sorted(held.families)), sorted(held.channels)[0])
        names[held.domain.encode()] = interned.setdefault(value, value)
    suspects: dict[bytes, str] = {}
    for target in op.targets:
        dga = families.get(target.family).dga
        if dga is None:
            continue
        first, last = p.start - SUSPECT_MARGIN, p.end + SUSPECT_MARGIN
        for key in dga.key_spans(first, last):
            for name in dga.domains_for(key, dga.params(target.dga_params)):
                encoded = name.encode()
                if encoded not in names:
                    suspects[encoded] = target.family
    return dns_server.NameTable(names, suspects)


def records_for(op: operation.Operation) -> dnswire.Records:
    """The A/AAAA/SOA/NS bytes every planned zone answers with."""
    sink = op.sinkhole
    return dnswire.Records(
        sink.ipv4,
        sink.ipv6,
        sink.nameservers,
        sink.hostmaster,
        sink.ttl,
        serial(op.operation.start),
    )


def _reserve(host: str, kinds: tuple[int, ...]) -> tuple[int, list[socket.socket]]:
    """A port free for every socket kind in `kinds`, held by bound SO_REUSEPORT sockets.

    The workers bind the same port with SO_REUSEPORT; until they have, these sockets keep
    the kernel from handing the port to anything else (an outgoing connection, say).
    They never listen, so no connection is ever queued on them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        held: list[socket.socket] = []
        try:
            port = 0
            for kind in kinds:
                sock = socket.socket(family, kind)
                held.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                sock.bind((host, port))
                port = int(sock.getsockname()[1])
            return port, held
        except OSError:
            for sock in held:
                sock.close()
    raise ServeError(f"no free port on {host}")


def _resolve_ports(config: ServeConfig) -> list[socket.socket]:
    """Give every port-0 listener a concrete free port, so all workers share it.

    Returns the sockets that hold those ports until the workers are listening.
    """
    held: list[socket.socket] = []

    def fix(addrs: list[Address], kinds: tuple[int, ...]) -> list[Address]:
        out = []
        for host, given in addrs:
            port = given
            if not port:
                port, sockets = _reserve(host, kinds)
                held.extend(sockets)
            out.append((host, port))
        return out

    both = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
    config.dns = fix(config.dns, both)
    config.resolver = fix(config.resolver, both)
    config.http = fix(config.http, (socket.SOCK_STREAM,))
    config.tls = fix(config.tls, (socket.SOCK_STREAM,))
    config.tcp = [(fix([a], (socket.SOCK_STREAM,))[0], f) for a, f in config.tcp]
    config.udp = [(fix([a], (socket.SOCK_DGRAM,))[0], f) for a, f in config.udp]
    return held


def listener_lines(config: ServeConfig) -> list[str]:
    """One line per listener, printed when the sinkhole is ready."""
    lines = []
    for kind, addrs in (
        ("dns", config.dns),
        ("resolver", config.resolver),
        ("http", config.http),
        ("tls", config.tls),
    ):
        for host, port in addrs:
            shown = f"[{host}]" if ":" in host else host
            lines.append(f"{kind} {shown}:{port}")
    for kind, raw in (("tcp", config.tcp), ("udp", config.udp)):
        for (host, port), fam in raw:
            lines.append(f"{kind} {host}:{port}" + (f" ({fam})" if fam else ""))
    return lines


class Worker:
    """One worker process: its writer, its listeners, its signal handlers."""

    def __init__(
        self, index: int, config: ServeConfig, op: operation.Operation, table: dns_server.NameTable
    ) -> None:
        self.index = index
        self.config = config
        self.op = op
        self.table = table
        self.sensor = f"{config.sensor}-w{index}"
        self.writer = EventWriter(config.data_dir, self.sensor, config.flush_interval)
        self.dns_handlers: list[dns_server.DnsHandler] = []
        self.closers: list[Callable[[], Any]] = []
        self.stopping: asyncio.Event | None = None

    async def start(self) -> None:
        """Bind every listener (SO_REUSEPORT) and start the writer."""
        records = records_for(self.op)
        limits = self.op.limits
        tcp_limits = dns_server.TcpLimits(
            limits.max_connections, limits.idle_timeout, limits.requests_per_connection
        )
        for resolver_mode, addrs in ((False, self.config.dns), (True, self.config.resolver)):
            for host, port in addrs:
                handlers = [
                    dns_server.DnsHandler(
                        self.table,
                        records,
                        dns_server.dns_buffer(self.writer, self.sensor, host, port, proto),
                        resolver=resolver_mode,
                        rate_limit=limits.dns_rate_limit,
                    )
                    for proto in ("udp", "tcp")
                ]
                self.dns_handlers += handlers
                udp, tcp = await dns_server.serve_dns(
                    handlers[0], handlers[1], host, port, tcp_limits, reuse_port=True
                )
                self.closers += [udp.close, tcp.close]
        await self._start_others()
        self.writer.counters_source = self.counters
        self.writer.start()

    async def _start_others(self) -> None:
        """HTTP, TLS and raw listeners."""
        context = http_server.HttpContext.from_operation(self.op, self.sensor, self.table)
        self.http_context = context
        for host, port in self.config.http:
            server = await http_server.serve_http(context, self.writer, host, port, None, True)
            self.closers.append(server.close)
        if self.config.tls:
            tls = http_server.tls_context(
                self.config.data_dir, self.config.tls_cert, self.config.tls_key
            )
            for host, port in self.config.tls:
                server = await http_server.serve_http(context, self.writer, host, port, tls, True)
                self.closers.append(server.close)
        for (host, port), fam in self.config.tcp:
            server = await raw_server.serve_raw_tcp(context, self.writer, host, port, fam, True)
            self.closers.append(server.close)
        for (host, port), fam in self.config.udp:
            transport = await raw_server.serve_raw_udp(context, self.writer, host, port, fam, True)
            self.closers.append(transport.close)

    def counters(self) -> dict[str, dict[str, int]]:
        """Listener counters for the stats file."""
        out: dict[str, dict[str, int]] = {}
        for handler in self.dns_handlers:
            for key, value in vars(handler.counters).items():
                bucket = out.setdefault("dns", {})
                bucket[key] = bucket.get(key, 0) + value
        context = getattr(self, "http_context", None)
        if context is not None:
            out.update(context.counters())
        return out

    def reload(self) -> None:
        """Re-read the operation file and swap in the new plan; sockets stay open."""
        try:
            op = operation.load(self.config.operation_path)
            table = name_table(op, plan.compute(op))
        except SinkholeError as exc:
            log.error("reload failed, keeping the old plan: %s", exc.message)
            return
        self.op, self.table = op, table
        for handler in self.dns_handlers:
            handler.replace_plan(table, records_for(op))
        context = getattr(self, "http_context", None)
        if context is not None:
            context.reload(op, table)
        log.info("worker %d reloaded %d planned names", self.index, len(table.names))

    async def _collect(self) -> None:
        """Hand the buffered rows to the writer every flush interval, from the loop itself."""
        while True:
            await asyncio.sleep(self.config.flush_interval)
            self.writer.collect()

    async def run(self, ready: Connection) -> None:
        """Serve until SIGTERM/SIGINT."""
        loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, self.stopping.set)
        loop.add_signal_handler(signal.SIGINT, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        try:
            await self.start()
        except OSError as exc:
            ready.send(("error", f"worker {self.index}: cannot listen: {exc.strerror or exc}"))
            return
        ready.send(("ready", self.index))
        collector = asyncio.create_task(self._collect())
        await self.stopping.wait()
        collector.cancel()
        for close in self.closers:
            close()
        await asyncio.sleep(0.05)


def _bounded_arrow_memory() -> None:
    """Return freed Arrow buffers to the system at once, so a worker's memory tracks its load."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def _worker_main(
    index: int,
    config: ServeConfig,
    op: operation.Operation,
    table: dns_server.NameTable,
    ready: Connection,
    reserved: list[socket.socket],
) -> None:
    for sock in reserved:  # inherited from the parent; an unread copy would swallow datagrams
        sock.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _bounded_arrow_memory()
    worker = Worker(index, config, op, table)
    try:
        import uvloop

        uvloop.run(worker.run(ready))
    except ImportError:
        asyncio.run(worker.run(ready))
    finally:
        worker.writer.close()
        ready.close()


def serve(
    config: ServeConfig,
    say: Callable[[str], None] = print,
    stop_after: float | None = None,
) -> Recovery:
    """Run the sinkhole until SIGTERM/SIGINT (or `stop_after` seconds); returns the recovery."""
    op = operation.load(config.operation_path)
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(config.data_dir, 0o700)
        recovered = recover(config.data_dir)
    except OSError as exc:
        raise ServeError(f"cannot use the data folder {config.data_dir}: {exc.strerror}") from None
    if recovered.segments:
        say(
            f"recovered {recovered.events:,} events from {recovered.segments} WAL segment(s)"
            + (f", {recovered.truncated} cut short by a crash" if recovered.truncated else "")
        )
    if config.tls:
        # made (or checked) once here, so a bad certificate is one clear error, not N workers'
        http_server.tls_context(config.data_dir, config.tls_cert, config.tls_key)
    p = plan.compute(op)
    table = name_table(op, p)
    reserved = _resolve_ports(config)
    warm_up()  # loaded once here, shared by the forked workers
    ctx = multiprocessing.get_context("fork")
    procs = []
    pipes = []
    for index in range(config.workers):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_worker_main,
            args=(index, config, op, table, child_end, reserved),
            name=f"sinkhole-w{index}",
            daemon=False,
        )
        proc.start()
        child_end.close()
        procs.append(proc)
        pipes.append(parent_end)
    stop = {"now": False}

    def on_signal(signum: int, _frame: Any) -> None:
        if signum == signal.SIGHUP:
            for proc in procs:
                if proc.pid:
                    os.kill(proc.pid, signal.SIGHUP)
            return
        stop["now"] = True

    previous = {
        s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    try:
        for pipe in pipes:
            try:
                status, detail = pipe.recv()
            except EOFError:
                status, detail = "error", "a worker exited while starting"
            if status != "ready":
                raise ServeError(str(detail))
        for sock in reserved:  # the workers hold the ports now
            sock.close()
        say(
            f"planned names: {len(table.names):,}; workers: {config.workers}; "
            f"events: {config.data_dir}"
        )
        for line in listener_lines(config):
            say(f"listening {line}")
        say("ready")
        with contextlib.suppress(AttributeError):
            sys.stdout.flush()
        deadline = None if stop_after is None else (stop_after + time.monotonic())
        while not stop["now"] and all(p.is_alive() for p in procs):
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.1)
    finally:
        for proc in procs:
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.join(timeout=15)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for pipe in pipes:
            pipe.close()
        for sock in reserved:
            sock.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return recovered
