"""Dashboard benchmark: does it stay responsive under the sinkhole's full load, and does the
sinkhole keep its pace with the dashboard beside it? (loopback only, bounded in time)

Side by side in one run, over one emulator store (the analyses have real work):
- the HTTP listener under wrk's realistic mix, without and with `serve --dashboard`
  (whose analyses are made to run during the load, and whose API is polled meanwhile);
- the dashboard API's latency (/api/live, /api/summary) idle and under that load.
"""

from __future__ import annotations

import statistics
import threading
import time
from importlib.resources import files
from pathlib import Path

import httpx

from bench import scratch
from bench.servers import MIX_LUA, SECONDS, _missing, _wrk
from sinkhole import emulate, operation, plan
from sinkhole.events.writer import EventWriter
from sinkhole.testing import running_sinkhole

MACHINES = 10_000
DAYS = 3.0
#: Seconds between two API requests of the polling client (five pages open).
POLL = 0.2


def _store(folder: Path) -> tuple[Path, Path]:
    op_path = folder / "megad-sim.toml"
    op_path.write_text(files("sinkhole").joinpath("data/megad-sim.toml").read_text())
    op = operation.load(op_path)
    data = folder / "store"
    writer = EventWriter(data, "emulator")
    emulate.offline(op, plan.compute(op), emulate.Settings(machines=MACHINES, days=DAYS), writer)
    writer.close()
    return op_path, data


def _poll(client: httpx.Client, stop: threading.Event, times: dict[str, list[float]]) -> None:
    while not stop.is_set():
        for path in ("/api/live", "/api/summary"):
            began = time.perf_counter()
            answer = client.get(path)
            answer.raise_for_status()
            times.setdefault(path, []).append(time.perf_counter() - began)
        stop.wait(POLL)


def _latency(client: httpx.Client, seconds: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(client, stop, times))
    poller.start()
    time.sleep(seconds)
    stop.set()
    poller.join()
    return times


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_dashboard() -> None:
    """HTTP listener req/s without and with the dashboard; the API's latency idle and loaded."""
    print(f"\n== dashboard: {MACHINES:,} emulated machines x {DAYS:g} days; {SECONDS:.0f} s loads")
    if _missing("wrk"):
        return
    with scratch() as tmp:
        folder = Path(tmp)
        op_path, data = _store(folder)
        script = folder / "mix.lua"
        script.write_text(MIX_LUA.replace("bot%05d-cc.example", "update-megad-sim.example"))
        common = ("--workers", "2", "--dns", "127.0.0.1:0", "--http", "127.0.0.1:0")
        with running_sinkhole(op_path, data, *common) as sink:
            without = _wrk(sink.address("http")[1], 2, 100, script)
        with running_sinkhole(op_path, data, *common, "--dashboard", "127.0.0.1:0") as sink:
            url = next(line.split()[1] for line in sink.lines if line.startswith("dashboard "))
            base, _, token = url.partition("/?token=")
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                began = time.monotonic()
                while client.get("/api/status").json()["generation"] < 1:
                    time.sleep(0.2)
                first = time.monotonic() - began
                idle = _latency(client, SECONDS)
                loaded: dict[str, list[float]] = {}
                client.post("/api/refresh")  # the analyses run again, during the load
                poller = threading.Thread(
                    target=lambda: loaded.update(_latency(client, SECONDS)), daemon=True
                )
                poller.start()
                with_board = _wrk(sink.address("http")[1], 2, 100, script)
                poller.join()
                status = client.get("/api/status").json()
    seconds = {k: v["seconds"] for k, v in status["analyses"].items()}
    print(f"first analyses ready after {first:.1f} s; last run's seconds per analysis: {seconds}")
    print(f"{'sinkhole HTTP, wrk -t2 -c100 mix':<44} {'req/s':>10}")
    print(f"{'  without the dashboard':<44} {without['rps']:>10,.0f}")
    print(f"{'  with the dashboard (analyses + polling)':<44} {with_board['rps']:>10,.0f}")
    print(f"ratio with/without: {with_board['rps'] / without['rps']:.2f}x (goal >= 0.9)")
    print(f"{'dashboard API':<16} {'state':<8} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for path in ("/api/live", "/api/summary"):
        for label, times in (("idle", idle), ("loaded", loaded)):
            values = times.get(path, [])
            if values:
                print(f"{path:<16} {label:<8} {len(values):>9} {_ms(values, 0.5):>8.1f} "
                      f"{_ms(values, 0.99):>8.1f}")  # fmt: skip
        if idle.get(path) and loaded.get(path):
            ratio = statistics.median(loaded[path]) / statistics.median(idle[path])
            print(f"{path}: median latency loaded/idle {ratio:.1f}x")
