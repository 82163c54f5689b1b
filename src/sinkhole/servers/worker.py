"""One worker process of `sinkhole serve`: every listener on SO_REUSEPORT sockets, one writer.

Forked by ``servers/run.py`` with the plan's tables already in memory. Each
worker runs uvloop with its own event writer (sensor ``<name>-w<i>``), so
nothing is shared on the hot path. It talks to the parent over one pipe: it
says when it listens, and it is told when a reloaded plan waits in a file,
which it takes in a slice at a time between packets, then swaps in with one
assignment per listener. It dies with its parent (PR_SET_PDEATHSIG on Linux,
and end-of-file on that pipe everywhere), flushing its events on the way out,
as on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sinkhole.events.writer import EventWriter
from sinkhole.exceptions import SinkholeError
from sinkhole.servers import dns as dns_server
from sinkhole.servers import http as http_server
from sinkhole.servers import raw as raw_server
from sinkhole.servers import tables as tables_mod
from sinkhole.servers.context import ListenerContext
from sinkhole.servers.tls import tls_context

if TYPE_CHECKING:
    from sinkhole.servers.run import ServeConfig

#: Entries of an old table freed per step after a reload (a millisecond or two of work).
RELEASE_STEP = 5_000
_PR_SET_PDEATHSIG = 1


class Worker:
    """One worker process: its writer, its listeners, its pipe to the parent."""

    def __init__(
        self, index: int, config: ServeConfig, tables: tables_mod.Tables, control: Connection
    ) -> None:
        self.index = index
        self.config = config
        self.tables = tables
        self.control = control
        self.sensor = f"{config.sensor}-w{index}"
        self.writer = EventWriter(config.data_dir, self.sensor, config.flush_interval)
        self.dns_handlers: list[dns_server.DnsHandler] = []
        self.context = ListenerContext(tables.op, self.sensor, tables.table)
        self.closers: list[Callable[[], Any]] = []
        self.stopping: asyncio.Event | None = None
        self.loading: asyncio.Task[None] | None = None
        self.pending: tuple[int, Path] | None = None

    async def start(self) -> None:
        """Bind every listener (SO_REUSEPORT) and start the writer."""
        op = self.tables.op
        limits = op.limits
        tcp_limits = dns_server.TcpLimits(
            limits.max_connections, limits.idle_timeout, limits.requests_per_connection
        )
        for resolver_mode, addrs in ((False, self.config.dns), (True, self.config.resolver)):
            for host, port in addrs:
                handlers = [
                    dns_server.DnsHandler(
                        self.tables.table,
                        self.tables.records,
                        dns_server.dns_buffer(self.writer, self.sensor, host, port, proto),
                        resolver=resolver_mode,
                        rate_limit=limits.dns_rate_limit,
                    )
                    for proto in ("udp", "tcp")
                ]
                self.dns_handlers += handlers
                udp, tcp = await dns_server.serve_dns(
                    handlers[0], handlers[1], host, port, tcp_limits, reuse_port=True,
                    workers=self.config.workers,
                )  # fmt: skip
                self.closers += [udp.close, tcp.close]
        await self._start_others()
        self.writer.counters_source = self.counters
        self.writer.start()

    async def _start_others(self) -> None:
        """HTTP, TLS and raw listeners."""
        context, config = self.context, self.config
        for host, port in config.http:
            server = await http_server.serve_http(context, self.writer, host, port, None, True)
            self.closers.append(server.close)
        if config.tls:
            tls = tls_context(config.data_dir, config.tls_cert, config.tls_key)
            for host, port in config.tls:
                server = await http_server.serve_http(context, self.writer, host, port, tls, True)
                self.closers.append(server.close)
        for (host, port), fam in config.tcp:
            server = await raw_server.serve_raw_tcp(context, self.writer, host, port, fam, True)
            self.closers.append(server.close)
        for (host, port), fam in config.udp:
            transport = await raw_server.serve_raw_udp(context, self.writer, host, port, fam, True)
            self.closers.append(transport.close)

    def counters(self) -> dict[str, dict[str, int]]:
        """Listener counters for the stats file."""
        out: dict[str, dict[str, int]] = {}
        for handler in self.dns_handlers:
            for key, value in vars(handler.counters).items():
                bucket = out.setdefault("dns", {})
                bucket[key] = bucket.get(key, 0) + value
        out.update(self.context.counters())
        return out

    # -- the parent's pipe -----------------------------------------------------------

    def _on_control(self) -> None:
        """A message from the parent; end-of-file means the parent is gone."""
        try:
            message = self.control.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self.control.fileno())
            if self.stopping is not None:
                self.stopping.set()
            return
        if message[0] == "reload":
            self.pending = (int(message[1]), Path(message[2]))
            if self.loading is None or self.loading.done():
                self.loading = asyncio.get_running_loop().create_task(self._reloads())

    def _tell(self, *message: object) -> None:
        with contextlib.suppress(OSError):
            self.control.send(message)

    async def _reloads(self) -> None:
        while self.pending is not None:
            generation, path = self.pending
            self.pending = None
            try:
                names, seconds, pause = await self.take_in(path)
            except SinkholeError as exc:
                self._tell("reload-failed", generation, exc.message)
            except Exception as exc:  # any failure must be answered, or reloads stall
                self._tell("reload-failed", generation, f"{type(exc).__name__}: {exc}")
            else:
                self._tell("reloaded", generation, names, seconds, pause)

    async def take_in(self, path: Path) -> tuple[int, float, float]:
        """Load new tables from `path` between packets, swap them in, free the old ones.

        Returns (planned names, seconds taken, longest time the loop was held).
        """
        began = time.perf_counter()
        longest = 0.0
        reader = tables_mod.TableReader(path)
        try:
            while True:
                step = time.perf_counter()
                done = reader.step()
                longest = max(longest, time.perf_counter() - step)
                if done:
                    break
                await asyncio.sleep(0)
        finally:
            reader.close()
        step = time.perf_counter()
        old = self.swap(reader.tables())
        longest = max(longest, time.perf_counter() - step)
        # freed a slice at a time: dropping millions of names at once would hold the loop
        for mapping in old:
            while mapping:
                step = time.perf_counter()
                for _ in range(min(RELEASE_STEP, len(mapping))):
                    mapping.popitem()
                longest = max(longest, time.perf_counter() - step)
                await asyncio.sleep(0)
        gc.freeze()  # the new tables, as at start (a list splice: no pause)
        return len(self.tables.table.names), time.perf_counter() - began, longest

    def swap(self, new: tables_mod.Tables) -> list[dict[Any, Any]]:
        """Serve from `new` from the next packet on; returns the old mappings to free."""
        old: list[dict[Any, Any]] = [self.tables.table.names, self.tables.table.suspects]
        for handler in self.dns_handlers:
            old += [handler.udp_cache, handler.tcp_cache]
            handler.replace_plan(new.table, new.records)
        self.context.reload(new.op, new.table)
        self.tables = new
        return old

    # -- running ------------------------------------------------------------------------

    async def _collect(self) -> None:
        """Hand the buffered rows to the writer every flush interval, from the loop itself."""
        while True:
            await asyncio.sleep(self.config.flush_interval)
            self.writer.collect()

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT, or until the parent is gone."""
        loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, self.stopping.set)
        loop.add_signal_handler(signal.SIGINT, self.stopping.set)
        try:
            await self.start()
        except OSError as exc:
            self._tell("error", f"worker {self.index}: cannot listen: {exc.strerror or exc}")
            return
        except SinkholeError as exc:
            self._tell("error", f"worker {self.index}: {exc.message}")
            return
        loop.add_reader(self.control.fileno(), self._on_control)
        self._tell("ready", self.index)
        # The plan's tables live as long as the worker: frozen out of the cyclic collector,
        # which would otherwise walk every planned name in each full collection (under load
        # with a 200,000-name plan that cost ~30% of the CPU per DNS query).
        gc.freeze()
        collector = asyncio.create_task(self._collect())
        await self.stopping.wait()
        collector.cancel()
        if self.loading is not None:
            self.loading.cancel()
        for close in self.closers:
            close()
        await asyncio.sleep(0.05)


def die_with_parent(parent: int) -> bool:
    """Ask the kernel for SIGTERM when the parent dies; False if it already has."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # the parent may have died before the request: then we were handed to another one
    return os.getppid() == parent


def _bounded_arrow_memory() -> None:
    """Return freed Arrow buffers to the system at once, so a worker's memory tracks its load."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def worker_main(
    index: int,
    config: ServeConfig,
    tables: tables_mod.Tables,
    control: Connection,
    parent: int,
    inherited: list[Connection],
    held: list[socket.socket],
) -> None:
    """The body of worker process `index` (forked): serve until told to stop or orphaned."""
    # the parent's handlers came with the fork: SIGTERM must stop this process, not set a flag
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the parent reloads, then tells us
    if not die_with_parent(parent):
        return
    for conn in inherited:  # other workers' pipe ends: kept, they would hide the parent's end
        conn.close()
    for sock in held:  # an unread copy of a holder would swallow datagrams
        sock.close()
    _bounded_arrow_memory()
    worker = Worker(index, config, tables, control)
    try:
        import uvloop

        uvloop.run(worker.run())
    except ImportError:
        asyncio.run(worker.run())
    finally:
        worker.writer.close()
        control.close()
