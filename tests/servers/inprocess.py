"""In-process HTTP, TLS and raw listeners on 127.0.0.1 for the listener tests.

The listeners run on a uvloop loop in a background thread, so tests talk to
them with ordinary blocking clients (httpx, ssl, socket) and can set limits
far below the defaults (a header timeout of half a second, say).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from sinkhole import operation
from sinkhole.events import store
from sinkhole.events.writer import EventWriter
from sinkhole.servers import http, raw, tables
from sinkhole.servers.context import ListenerContext
from sinkhole.servers.tls import tls_context

HOST = "127.0.0.1"


def operation_text(limits: dict[str, Any] | None = None, listeners: str = "") -> str:
    """A small megad-sim operation file, with `limits` in its [limits] section."""
    text = (
        '[operation]\nname = "listener-test"\nstart = 2026-01-01\nhold_days = 3\n\n'
        '[[targets]]\nfamily = "megad-sim"\n'
    )
    if listeners:
        text += f"\n[listeners]\n{listeners}\n"
    if limits:
        text += "\n[limits]\n" + "".join(f"{k} = {v!r}\n" for k, v in limits.items())
    return text


@dataclass
class Served:
    """Ports of the in-process listeners, their context, and the events after stop."""

    ports: dict[str, int]
    ctx: ListenerContext
    data: Path
    stop: Callable[[], None]
    rows: list[dict[str, Any]] | None = None

    def events(self, application: str | None = None) -> list[dict[str, Any]]:
        """Every event, read from the store once the listeners have stopped (stops them)."""
        if self.rows is None:
            self.stop()
            self.rows = store.read(self.data).to_pylist()
        return [r for r in self.rows if application is None or r["application"] == application]


@contextmanager
def serving(
    data: Path, limits: dict[str, Any] | None = None, tcp_family: str | None = None
) -> Iterator[Served]:
    """HTTP, TLS, raw TCP (for `tcp_family`, else tasting) and raw UDP (tasting) listeners."""
    op = operation.loads(operation_text(limits))
    # flushing often, so connections outlive many buffer swaps
    writer = EventWriter(data, "test", flush_interval=0.05).start()
    ctx = ListenerContext(op, "test", tables.compute(op).table)
    ports: dict[str, int] = {}
    ready = threading.Event()
    failure: list[BaseException] = []
    loop = uvloop.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            plain = await http.serve_http(ctx, writer, HOST, 0, None, False)
            tls = await http.serve_http(ctx, writer, HOST, 0, tls_context(data), False)
            tcp = await raw.serve_raw_tcp(ctx, writer, HOST, 0, tcp_family, False)
            udp = await raw.serve_raw_udp(ctx, writer, HOST, 0, None, False)
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            raise
        ports.update(
            http=plain.sockets[0].getsockname()[1],
            tls=tls.sockets[0].getsockname()[1],
            tcp=tcp.sockets[0].getsockname()[1],
            udp=udp.get_extra_info("sockname")[1],
        )
        ready.set()
        await stop.wait()
        for server in (plain, tls, tcp):
            server.close()
        udp.close()
        await asyncio.sleep(0.05)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(30)
    if failure:
        raise failure[0]
    stopped: list[bool] = []

    def stop_all() -> None:
        if stopped:
            return
        stopped.append(True)
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        writer.close()

    served = Served(ports, ctx, data, stop_all)
    try:
        yield served
    finally:
        stop_all()
