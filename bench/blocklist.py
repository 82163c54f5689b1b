"""DNSBL: dnsperf against `sinkhole dnsbl serve` and against rbldnsd serving our own export.

264k listed addresses (the default emulated population; 1% of them IPv6), a query
file in which half the names are listed addresses and half are not, type A. Both
servers run side by side in one run, on loopback, with the same data (rbldnsd
reads our `blocklist export --format rbldnsd`). Memory per listed address: the
proportional set size (PSS, so workers sharing pages are not counted twice) of
the serving processes with the full listing minus that with an empty one, each
taken after the same dnsperf run.
Each load is bounded in time (BENCH_SECONDS) and stops by itself.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench import scratch
from sinkhole import attribution, blocklist
from sinkhole.blocklist import exports
from sinkhole.blocklist.testing import running_dnsbl, running_rbldnsd
from sinkhole.events.schema import SCHEMA
from sinkhole.events.writer import EventWriter
from sinkhole.testing import which

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
LISTED = 264_000
ZONE = "dnsbl.sinkhole.example"
QUERIES = 200_000
OPERATION = Path(__file__).parent.parent / "examples" / "megad-sim.toml"


def _addresses(count: int) -> list[str]:
    """Distinct lab addresses (127.16.0.0/12 and above) and 1% IPv6 documentation ones."""
    v6 = count // 100
    picked = random.Random(1).sample(range(16 << 16, 64 << 16), count - v6)
    out = [f"127.{n >> 16}.{(n >> 8) & 255}.{n & 255}" for n in picked]
    return out + [f"2001:db8:{i >> 16:x}:{i & 0xFFFF:x}::1" for i in range(v6)]


def _store(root: Path, ips: list[str]) -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1e6)
    n = len(ips)
    columns: dict[str, Any] = {
        "timestamp": pa.array(now - np.arange(n, dtype=np.int64) % 86_400_000_000).cast(
            SCHEMA.field("timestamp").type
        ),
        "src_ip": pa.array(ips, pa.string()),
        "application": pa.array(["http"] * n, pa.string()),
        "family": pa.array([("megad-sim", "necurs", "torpig")[i % 3] for i in range(n)]),
    }
    arrays = [columns.get(f.name, pa.nulls(n, f.type)) for f in SCHEMA]
    writer = EventWriter(root, "bench")
    writer.write_table(pa.Table.from_arrays(arrays, schema=SCHEMA))
    writer.close()


def _reversed(ip: str) -> str:
    if ":" in ip:
        import ipaddress

        return ".".join(reversed(ipaddress.IPv6Address(ip).exploded.replace(":", "")))
    return ".".join(reversed(ip.split(".")))


def _query_file(path: Path, listed: list[str]) -> None:
    rng = random.Random(2)
    hits = rng.sample(listed, QUERIES // 2)
    misses = [f"198.{rng.randrange(18, 20)}.{rng.randrange(256)}.{rng.randrange(256)}"
              for _ in range(QUERIES // 2)]  # fmt: skip
    names = hits + misses
    rng.shuffle(names)
    path.write_text("".join(f"{_reversed(ip)}.{ZONE} A\n" for ip in names))


def _dnsperf(port: int, queries: Path) -> dict[str, float]:
    out = subprocess.run(
        ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-l", str(SECONDS),
         "-c", "8", "-T", "1", "-q", "500", "-t", "2"],
        capture_output=True, text=True, timeout=SECONDS + 60, check=False,
    )  # fmt: skip
    text = out.stdout
    qps = re.search(r"Queries per second:\s+([\d.]+)", text)
    lost = re.search(r"Queries lost:\s+(\d+)", text)
    noerror = re.search(r"NOERROR \d+ \(([\d.]+)%\)", text)
    nxdomain = re.search(r"NXDOMAIN \d+ \(([\d.]+)%\)", text)
    if not (qps and lost):
        raise RuntimeError(f"dnsperf failed: {out.stderr or text}")
    return {"qps": float(qps.group(1)), "lost": float(lost.group(1)),
            "noerror": float(noerror.group(1)) if noerror else 0.0,
            "nxdomain": float(nxdomain.group(1)) if nxdomain else 0.0}  # fmt: skip


def _pss_kib(pid: int) -> int:
    """Proportional set size of a process and its children (KiB)."""
    total = 0
    rollup = Path(f"/proc/{pid}/smaps_rollup")
    if rollup.exists():
        match = re.search(r"^Pss:\s+(\d+)", rollup.read_text(), re.MULTILINE)
        total += int(match.group(1)) if match else 0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += _pss_kib(int(child))
    return total


def _ours(data: Path, workers: int, queries: Path) -> tuple[int, dict[str, float]]:
    """(PSS KiB after the load, dnsperf result) of our DNSBL over the listing in `data`."""
    args = ["--dataset", "lab", "--rate-limit", "0", "--workers", str(workers), "--refresh", "3600"]
    with running_dnsbl(OPERATION, data, ZONE, *args, timeout=300) as server:
        result = _dnsperf(server.address("dnsbl")[1], queries)
        memory = _pss_kib(server.process.pid)  # after the load: what serving costs
    return memory, result


def _theirs(export: Path, folder: Path, queries: Path) -> tuple[int, dict[str, float]]:
    """(PSS KiB after the load, dnsperf result) of rbldnsd serving `export`."""
    with running_rbldnsd(export, ZONE, folder, timeout=300) as (proc, port):
        result = _dnsperf(port, queries)
        memory = _pss_kib(proc.pid)
    return memory, result


def _world(folder: Path, count: int) -> tuple[Path, Path, list[str]]:
    """A store with `count` bots, its listing and its rbldnsd export."""
    data = folder / f"data-{count}"
    ips = _addresses(count)
    _store(data, ips)
    began = time.monotonic()
    counts = blocklist.build(data, attribution.lab(), removal="write to cert@sinkhole.example")
    built = time.monotonic() - began
    export = folder / f"export-{count}.rbldnsd"
    began = time.monotonic()
    sink = exports.Zone(("ns1.sinkhole.example",), "hostmaster.sinkhole.example", 300)
    exports.export(data, "rbldnsd", export, sink)
    if count:
        print(f"listing: {counts.listed:,} listed, built in {built:.1f} s; rbldnsd export "
              f"{time.monotonic() - began:.1f} s ({export.stat().st_size / 1e6:.1f} MB)")  # fmt: skip
    return data, export, ips


def bench_dnsbl() -> None:
    """dnsperf against our DNSBL and against rbldnsd on our export; memory per address."""
    print(f"\n== DNSBL: dnsperf -c 8 -q 500, {LISTED:,} listed addresses, half the queries "
          f"listed, type A, {SECONDS:.0f} s a row, loopback (2 cores shared with dnsperf)")  # fmt: skip
    missing = [p for p in ("dnsperf", "rbldnsd") if which(p) is None]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (apt-get install {' '.join(missing)})")
        return
    with scratch() as tmp:
        folder = Path(tmp)
        data, export, ips = _world(folder, LISTED)
        empty_data, empty_export, _ = _world(folder, 0)
        for fmt in ("text", "csv", "stix", "misp"):
            began = time.monotonic()
            out = folder / f"export.{fmt}"
            exports.export(
                data,
                fmt,
                out,
                exports.Zone(("ns1.sinkhole.example",), "hostmaster.sinkhole.example"),
            )
            print(f"export --format {fmt}: {time.monotonic() - began:.1f} s "
                  f"({out.stat().st_size / 1e6:.1f} MB)")  # fmt: skip
            out.unlink()
        queries = folder / "queries.txt"
        _query_file(queries, ips)
        rows: list[tuple[str, dict[str, float]]] = []
        mem_full, result = _theirs(export, folder, queries)
        rows.append(("rbldnsd (1 process)", result))
        mem_empty, _ = _theirs(empty_export, folder, queries)
        theirs = (mem_full - mem_empty) * 1024 / LISTED
        ours_mem: dict[int, float] = {}
        for workers in (1, 2):
            full, result = _ours(data, workers, queries)
            rows.append((f"sinkhole dnsbl ({workers} worker{'s' if workers > 1 else ''})", result))
            empty, _ = _ours(empty_data, workers, queries)
            ours_mem[workers] = (full - empty) * 1024 / LISTED
        peer = rows[0][1]["qps"]
        print(f"{'server':28} {'queries/s':>10} {'vs rbldnsd':>10} {'lost':>7} {'NOERROR':>8} "
              f"{'NXDOMAIN':>9}")  # fmt: skip
        for label, r in rows:
            print(f"{label:28} {r['qps']:>10,.0f} {r['qps'] / peer:>9.2f}x {r['lost']:>7,.0f} "
                  f"{r['noerror']:>7.1f}% {r['nxdomain']:>8.1f}%")  # fmt: skip
        print(f"memory per listed address (PSS, full minus empty listing): rbldnsd "
              f"{theirs:.0f} B; sinkhole dnsbl {ours_mem[1]:.0f} B (1 worker), "
              f"{ours_mem[2]:.0f} B (2 workers)")  # fmt: skip
