"""Emulator benchmarks: the offline week of 264k machines, and live check-ins/s."""

from __future__ import annotations

import time
from pathlib import Path

from bench import scratch
from bench.servers import SECONDS
from sinkhole import emulate, emulate_live, operation, plan
from sinkhole.events import store
from sinkhole.events.writer import EventWriter
from sinkhole.testing import running_sinkhole

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"


def bench_emulator() -> None:
    """Offline 264k x 7 days into the store; live check-ins/s against `sinkhole serve`."""
    print("\n== emulator: offline 264,000 machines x 7 days; live against sinkhole serve")
    op = operation.load(EXAMPLE)
    full = plan.compute(op)
    with scratch() as tmp:
        root = Path(tmp) / "offline"
        writer = EventWriter(root, "emulator")
        began = time.perf_counter()
        truth = emulate.offline(op, full, emulate.Settings(), writer)
        writer.close()
        took = time.perf_counter() - began
        stored = store.count(root)
        size = sum(f.stat().st_size for f in (root / "events").rglob("*.parquet"))
    print(
        f"offline: {truth.events:,} events ({stored:,} stored) in {took:.1f} s = "
        f"{truth.events / took:,.0f} events/s; {size / max(stored, 1):.1f} bytes/event"
    )
    with scratch() as tmp:
        folder = Path(tmp)
        with running_sinkhole(
            EXAMPLE, folder / "data", "--workers", "2", "--resolver", "127.0.0.1:0"
        ) as sink:
            targets = emulate_live.Targets(
                sink.address("dns"), sink.address("http"), sink.address("resolver")
            )
            settings = emulate.Settings(machines=4000, days=1.0, seed=3, interval_minutes=20)
            live = emulate_live.run_live(op, full, settings, targets, SECONDS)
        http = store.count(folder / "data", store.Filter(application="http"))
    print(
        f"live: {live.checkins:,} check-ins in {live.seconds:.1f} s = {live.checkins / live.seconds:,.0f} "
        f"check-ins/s ({live.dns_queries:,} DNS queries), {http:,} stored, {live.failed} failed"
    )
