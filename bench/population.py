"""Population benchmark: the full summary over ~100M emulated events against bare DuckDB SQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench import scratch
from sinkhole import emulate, operation, plan
from sinkhole.events.writer import EventWriter

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
DAYS = float(os.environ.get("BENCH_POPULATION_DAYS", "16.5"))  # 264k machines: ~100M events

#: The same aggregations as `sinkhole population`, written by hand for DuckDB.
BARE_SQL = """
SET memory_limit = '3GB'; SET preserve_insertion_order = false;
CREATE TEMP VIEW bots AS SELECT timestamp, src_ip, application, channel, family, bot_id, http_agent
  FROM read_parquet('{glob}') WHERE application <> 'dns' OR channel = 'dns-servers';
SELECT count(DISTINCT src_ip), count(*), min(timestamp), max(timestamp) FROM bots;
SELECT count(DISTINCT bot_id) FROM bots WHERE application IN ('http', 'tls', 'raw');
SELECT d, count(*), sum(n) FROM (SELECT date_trunc('day', timestamp) d, src_ip, count(*) n FROM bots GROUP BY ALL) GROUP BY d;
SELECT d, count(*) FROM (SELECT DISTINCT date_trunc('day', timestamp) d, bot_id FROM bots WHERE bot_id IS NOT NULL) GROUP BY d;
SELECT h, count(*) FROM (SELECT DISTINCT date_trunc('hour', timestamp) h, src_ip FROM bots) GROUP BY h;
SELECT f, count(*) FROM (SELECT src_ip, min(date_trunc('day', timestamp)) f FROM bots GROUP BY src_ip) GROUP BY f;
SELECT channel, count(DISTINCT src_ip) FROM bots GROUP BY channel;
SELECT family, count(DISTINCT src_ip) FROM bots GROUP BY family;
SELECT count(DISTINCT src_ip) FILTER (WHERE many), sum(n) FILTER (WHERE many) FROM (
  SELECT src_ip, epoch(timestamp)::BIGINT // 3600 h, min(hash(bot_id)) <> max(hash(bot_id))
         OR min(hash(http_agent)) <> max(hash(http_agent)) many, count(*) n
  FROM bots WHERE application IN ('http', 'tls', 'raw') GROUP BY ALL);
SELECT floor((s / (n - 1)) / 10), count(*) FROM (
  SELECT src_ip, epoch(timestamp)::BIGINT // 21600 b, count(*) n, max(epoch(timestamp)) - min(epoch(timestamp)) s
  FROM bots WHERE application IN ('http', 'tls', 'raw') GROUP BY ALL) WHERE n >= 3 GROUP BY 1;
SELECT date_trunc('hour', timestamp), count(*) FROM bots WHERE application IN ('http', 'tls', 'raw') GROUP BY 1;
SELECT date_trunc('day', timestamp), count(*) FROM bots WHERE application IN ('http', 'tls', 'raw') GROUP BY 1;
SELECT src_ip, count(*), count(*) FILTER (WHERE g IS NULL OR g > 10), min(s), max(s), count(DISTINCT s // 86400),
  {caps}
FROM (SELECT src_ip, s, (s - lag(s) OVER (PARTITION BY src_ip ORDER BY s))::DOUBLE g
      FROM (SELECT src_ip, epoch(timestamp)::BIGINT s FROM bots WHERE application IN ('http', 'tls', 'raw')))
GROUP BY src_ip ORDER BY src_ip;
"""
#: The per-address gap statistics under each cap, as `sinkhole population` gathers them.
CAPS = ",\n  ".join(
    f"count(*) FILTER (WHERE g > 10 AND g < {h * 3600}), sum(g) FILTER (WHERE g > 10 AND g < {h * 3600}), "
    f"sum(g * g) FILTER (WHERE g > 10 AND g < {h * 3600})"
    for h in (0.25, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 9.0, 12.0, 18.0, 24.0, 36.0)
)

CHILD = """
import json, resource, sys, time
from pathlib import Path
from sinkhole import population
began = time.perf_counter()
report = population.report(Path(sys.argv[1]), sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - began,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "machines": report.machines.as_dict(), "unique_ips": report.unique_ips,
                  "events": report.events}))
"""


def _ours(root: Path, engine: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), engine],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_population() -> None:
    """~100M events: `sinkhole population` on DuckDB vs bare DuckDB SQL; then Spark."""
    print(f"\n== population: 264,000 machines x {DAYS:g} days, offline emulator")
    op = operation.load(EXAMPLE)
    with scratch() as tmp:
        root = Path(tmp)
        writer = EventWriter(root, "emulator")
        began = time.perf_counter()
        truth = emulate.offline(op, plan.compute(op), emulate.Settings(days=DAYS), writer)
        writer.close()
        print(f"generated {truth.events:,} events in {time.perf_counter() - began:.0f} s")
        ours = _ours(root, "duckdb")
        glob = str(root / "events" / "day=*" / "*.parquet")
        con = duckdb.connect()
        began = time.perf_counter()
        for statement in BARE_SQL.format(glob=glob, caps=CAPS).split(";"):
            if statement.strip():
                con.execute(statement).fetchall()
        bare = time.perf_counter() - began
        con.close()
        print(
            f"sinkhole population (duckdb): {ours['seconds']:.1f} s, peak {ours['peak_mb']:,.0f} MB; "
            f"bare DuckDB SQL: {bare:.1f} s; ratio {float(ours['seconds']) / bare:.2f}x (goal <= 1.5, peak <= 4 GB)"
        )  # type: ignore[arg-type]
        print(
            f"truth {truth.machines:,} machines; estimate {ours['machines']}; unique IPs {ours['unique_ips']:,}"
        )
        try:
            spark = _ours(root, "spark")
            print(
                f"sinkhole population (spark, local[2]): {spark['seconds']:.1f} s; "
                f"same estimate: {spark['machines'] == ours['machines']}"
            )
        except RuntimeError as exc:
            print(f"spark: failed: {str(exc).strip().splitlines()[-1]}")
