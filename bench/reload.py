"""How long a worker's loop is held while it takes in a reloaded plan (SIGHUP).

Runs the real worker code in this process: the plan's tables computed once (as
the parent does), written to the handover file, then taken in by a
:class:`~sinkhole.servers.worker.Worker` on a uvloop loop while a 1 ms ticker
measures the gaps between its turns; twice, the second time replacing a table
as large as the first. `python -m bench.reload [DAYS] [FAMILY...]` (default:
365 days of every family, the README's 1.59M names; several minutes to plan).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from multiprocessing import Pipe
from pathlib import Path

import uvloop

from bench import scratch
from sinkhole import families, operation
from sinkhole.servers import tables
from sinkhole.servers.run import ServeConfig
from sinkhole.servers.worker import Worker


def _operation(folder: Path, days: int, names: list[str]) -> operation.Operation:
    text = f'[operation]\nname = "reload bench"\nstart = 2026-01-01\nhold_days = {days}\n'
    text += "".join(f'\n[[targets]]\nfamily = "{name}"\n' for name in names)
    path = folder / "op.toml"
    path.write_text(text)
    return operation.load(path)


def bench_reload(days: int = 365, names: list[str] | None = None) -> None:
    """Plan once, then take the plan in twice on a live worker loop, measuring its pauses."""
    chosen = names or [f.name for f in families.all_families()]
    print(f"\n== reload: {days} days of {', '.join(chosen)}")
    with scratch() as tmp:
        folder = Path(tmp)
        op = _operation(folder, days, chosen)
        began = time.perf_counter()
        big = tables.compute(op)
        planned = len(big.table.names)
        print(f"planned {planned:,} names, {len(big.table.suspects):,} unplanned DGA names "
              f"nearby, in {time.perf_counter() - began:.1f} s (the parent, not serving)")  # fmt: skip
        path = folder / "plan.table"
        began = time.perf_counter()
        tables.write(big, path)
        print(f"handover file {path.stat().st_size / 1e6:.0f} MB written in "
              f"{time.perf_counter() - began:.2f} s")  # fmt: skip
        del big
        small = _operation(folder, 3, ["megad-sim"])
        config = ServeConfig(
            folder / "op.toml", folder / "data", "bench", 1, dns=[("127.0.0.1", 0)]
        )
        _, control = Pipe()
        worker = Worker(0, config, tables.compute(small), control)

        async def main() -> None:
            await worker.start()
            for turn in ("small -> large", "large -> large"):
                gaps: list[float] = []
                done = asyncio.Event()

                async def ticker(done: asyncio.Event, gaps: list[float]) -> None:
                    last = time.perf_counter()
                    while not done.is_set():
                        await asyncio.sleep(0.001)
                        now = time.perf_counter()
                        gaps.append(now - last)
                        last = now

                ticking = asyncio.create_task(ticker(done, gaps))
                await asyncio.sleep(0.1)
                cpu = time.process_time()
                count, seconds, longest = await worker.take_in(path)
                cpu = time.process_time() - cpu
                done.set()
                await ticking
                gaps.sort()
                print(f"{turn}: {count:,} names taken in, {seconds:.2f} s ({cpu:.2f} s CPU); "
                      f"longest step {longest * 1000:.0f} ms; 1 ms ticker gaps: median "
                      f"{statistics.median(gaps) * 1000:.1f} ms, p99 "
                      f"{gaps[int(len(gaps) * 0.99)] * 1000:.1f} ms, worst "
                      f"{gaps[-1] * 1000:.0f} ms")  # fmt: skip

        try:
            uvloop.run(main())
        finally:
            worker.writer.close()


if __name__ == "__main__":
    bench_reload(int(sys.argv[1]) if len(sys.argv) > 1 else 365, sys.argv[2:] or None)
