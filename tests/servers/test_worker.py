"""A worker taking in a reloaded plan, in process: what it serves from after the swap."""

from __future__ import annotations

from multiprocessing import Pipe
from pathlib import Path

import dns.message
import dns.rcode
import pytest
import uvloop

from sinkhole import operation
from sinkhole.servers import tables
from sinkhole.servers.run import ServeConfig
from sinkhole.servers.worker import Worker

OP = """\
[operation]
name = "worker"
start = 2026-01-01
hold_days = 3

[[targets]]
family = "megad-sim"
static_domains = ["{name}"]
"""


def answer(worker: Worker, name: str) -> int:
    """The rcode the worker's DNS handler gives `name` (no socket needed)."""
    handler = worker.dns_handlers[0]
    packet = dns.message.make_query(name, "A").to_wire()
    reply = handler.handle(packet, "127.0.0.1", 5353, True)
    assert reply is not None
    return int(dns.message.from_wire(reply).rcode())


def test_take_in_swaps_every_listener_and_frees_the_old_table(tmp_path: Path) -> None:
    old = tables.compute(operation.loads(OP.format(name="gone.example")))
    new = tables.compute(operation.loads(OP.format(name="added.example")))
    path = tmp_path / "plan.table"
    tables.write(new, path)
    config = ServeConfig(tmp_path / "op.toml", tmp_path / "d", "t", 1, dns=[("127.0.0.1", 0)])
    _, control = Pipe()
    worker = Worker(0, config, old, control)
    old_names = old.table.names

    async def main() -> tuple[int, float, float]:
        await worker.start()
        assert answer(worker, "gone.example") == dns.rcode.NOERROR
        assert worker.context.match_host(b"gone.example") is not None
        taken = await worker.take_in(path)
        assert answer(worker, "added.example") == dns.rcode.NOERROR
        assert answer(worker, "gone.example") == dns.rcode.REFUSED
        assert worker.context.match_host(b"www.added.example") is not None
        assert worker.context.match_host(b"gone.example") is None
        with pytest.raises(tables.TableError):
            await worker.take_in(tmp_path / "missing.table")
        assert answer(worker, "added.example") == dns.rcode.NOERROR  # kept
        for close in worker.closers:
            close()
        return taken

    try:
        names, seconds, longest = uvloop.run(main())
    finally:
        worker.writer.close()
    assert names == len(new.table.names)
    assert 0 <= longest <= seconds
    assert old_names == {}  # emptied a slice at a time, off the packets' way
    assert all(handler.table.names is worker.tables.table.names for handler in worker.dns_handlers)
