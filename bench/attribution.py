"""Attribution benchmark: vectorised lookups beside a straightforward `ipaddress` loop.

A synthetic iptoasn-format table (full size: 500k ranges, a tenth of them
nested in another) and a botnet's worth of addresses, most inside the table.
Three figures: loading the table, attributions per second (ours against a
per-address `ipaddress` + `bisect` loop over the same table), and
`sinkhole attribute` over 1M addresses from stdin against a 50k-range table,
end to end in a child process.
"""

from __future__ import annotations

import bisect
import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import scratch
from sinkhole import attribution

RANGES = int(os.environ.get("BENCH_ATTRIBUTION_RANGES", "500000"))
ADDRESSES = int(os.environ.get("BENCH_ATTRIBUTION_ADDRESSES", "1000000"))
CLI_RANGES = int(os.environ.get("BENCH_ATTRIBUTION_CLI_RANGES", "50000"))
#: the loop is slow: it is timed on this many addresses and reported per second
LOOP_SAMPLE = 50_000


def _table(path: Path, ranges: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """Write an iptoasn TSV of `ranges` ranges; returns (first, last, asn) in file order."""
    blocks = np.unique(rng.integers(1 << 16, 224 << 16, size=int(ranges * 0.95)))  # /24 units
    following = [*blocks[1:].tolist(), 224 << 16]
    rows: list[tuple[int, int, int]] = []
    for block, after in zip(blocks.tolist(), following, strict=True):
        start = block << 8
        size = 256 << int(rng.integers(0, 6))
        rows.append((start, min(start + size, after << 8) - 1, 64512 + block % 1000))
    for first, last, _ in rows[: ranges - len(rows)]:  # nested: a /28 inside a range
        inner = first + ((last - first) // 2 & ~0xF)
        rows.append((inner, min(inner + 15, last), 65000))
    with path.open("w") as handle:
        for first, last, asn in rows:
            a, b = ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
            handle.write(f"{a}\t{b}\t{asn}\tNL\tAS{asn}-NET Example {asn}\n")
    return rows


def _addresses(rows: list[tuple[int, int, int]], n: int, rng: np.random.Generator) -> list[str]:
    """`n` addresses: nine in ten inside a range of the table, the rest anywhere."""
    firsts = np.array([r[0] for r in rows], dtype=np.int64)
    lasts = np.array([r[1] for r in rows], dtype=np.int64)
    pick = rng.integers(0, len(rows), size=n)
    inside = firsts[pick] + (rng.random(n) * (lasts[pick] - firsts[pick] + 1)).astype(np.int64)
    anywhere = rng.integers(1 << 24, 224 << 24, size=n)
    values = np.where(rng.random(n) < 0.9, inside, anywhere)
    return [str(ipaddress.IPv4Address(v)) for v in values.tolist()]


def _sorted(rows: list[tuple[int, int, int]]) -> tuple[list[tuple[int, int, int]], list[int]]:
    """The loop's table, made once outside its timing (as ours is loaded outside it)."""
    ordered = sorted(rows, key=lambda r: (r[0], -(r[1] - r[0])))
    return ordered, [r[0] for r in ordered]


def _loop(table: tuple[list[tuple[int, int, int]], list[int]], ips: list[str]) -> list[int]:
    """The straightforward way: parse each address, bisect, walk back over nested ranges."""
    ordered, starts = table
    found = []
    for ip in ips:
        value = int(ipaddress.ip_address(ip))
        index = bisect.bisect_right(starts, value) - 1
        asn = 0
        for candidate in range(index, max(index - 64, -1), -1):
            if value <= ordered[candidate][1]:
                asn = ordered[candidate][2]
                break
        found.append(asn)
    return found


def bench_attribution() -> None:
    """Print load time, attributions/s (ours vs the loop) and the 1M-address CLI run."""
    rng = np.random.default_rng(10)
    with scratch() as folder:
        big = Path(folder) / "ip2asn-v4.tsv"
        rows = _table(big, RANGES, rng)
        began = time.perf_counter()
        networks = attribution.open_datasets([big])
        load = time.perf_counter() - began
        ips = _addresses(rows, ADDRESSES, rng)
        began = time.perf_counter()
        found = networks.attribute(ips)
        ours = time.perf_counter() - began
        sample = ips[:LOOP_SAMPLE]
        table = _sorted(rows)
        began = time.perf_counter()
        expected = _loop(table, sample)
        loop = time.perf_counter() - began
        got = found.table["asn"].fill_null(0).to_numpy()[:LOOP_SAMPLE]
        agree = np.array_equal(got, np.array(expected, dtype=np.int64))
        print(f"attribution: {len(rows):,} ranges loaded in {load:.2f} s")
        print(
            f"attribution: {ADDRESSES / ours:,.0f} addresses/s vectorised vs "
            f"{LOOP_SAMPLE / loop:,.0f} addresses/s ipaddress loop "
            f"({(LOOP_SAMPLE / loop) and (ADDRESSES / ours) / (LOOP_SAMPLE / loop):.0f}x; "
            f"answers agree: {agree})"
        )
        small = Path(folder) / "ip2asn-50k.tsv"
        small_rows = _table(small, CLI_RANGES, rng)
        stdin = Path(folder) / "addresses.txt"
        stdin.write_text("\n".join(_addresses(small_rows, ADDRESSES, rng)) + "\n")
        command = [sys.executable, "-m", "sinkhole", "attribute", "--dataset", str(small)]
        began = time.perf_counter()
        with stdin.open("rb") as given:
            run = subprocess.run(command, stdin=given, capture_output=True, check=False)
        cli = time.perf_counter() - began
        lines = run.stdout.count(b"\n") - 1
        print(
            f"attribution: `sinkhole attribute` {ADDRESSES:,} addresses (stdin) against "
            f"{len(small_rows):,} ranges: {cli:.2f} s, {lines:,} rows, exit {run.returncode}"
        )
