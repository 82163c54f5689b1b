"""Shipping and scale: closed segments to a local S3 endpoint, and population on three engines.

Shipping: `sinkhole ship` (checks, manifest, confirmation) against a bare pyarrow
copy and boto3's upload_file of the same segments to the same endpoint, moto's S3
server in a child process on loopback (it stands in for AWS S3 or MinIO; moto is
pure Python, so the absolute MB/s is moto's ceiling and the ratios are the figure).

Population: the same events on DuckDB (local store, and the shipped copy in S3
read through pyarrow), Spark local[2] (local store, and the S3 copy through the Python
data source) and a Spark standalone cluster (a master and one worker with
BENCH_SHIP_CLUSTER_CORES cores, default 2, on loopback). Default size: 20,000 machines x 3 days (~1.4M
events); BENCH_SHIP_MACHINES=264000 BENCH_SHIP_DAYS=16.5 gives the ~100M events
of the population benchmark (hours on a shared 2-core machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow.fs as pafs

from bench import scratch
from sinkhole import emulate, operation, plan, ship
from sinkhole.events import store
from sinkhole.events.writer import EventWriter
from sinkhole.testing import dying_with_us, free_port, running_spark_cluster, spark_home

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
MACHINES = int(os.environ.get("BENCH_SHIP_MACHINES", "20000"))
DAYS = float(os.environ.get("BENCH_SHIP_DAYS", "3"))
#: Rows per segment: a busy sensor's 60-second segment.
SEGMENT_ROWS = int(os.environ.get("BENCH_SHIP_SEGMENT_ROWS", "250000"))
BUCKET = "bench"
#: The cluster worker's cores and its executor's heap (the ~100M-event run needs gigabytes).
CLUSTER_CORES = int(os.environ.get("BENCH_SHIP_CLUSTER_CORES", "2"))
EXECUTOR_MEMORY = os.environ.get(
    "BENCH_SHIP_EXECUTOR_MEMORY", "5g" if MACHINES * DAYS > 200_000 else "768m"
)

CHILD = """
import json, resource, sys, time
from sinkhole import population
began = time.perf_counter()
report = population.report(sys.argv[3:], sys.argv[1], master=sys.argv[2] or None)
print(json.dumps({"seconds": time.perf_counter() - began,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "machines": report.machines.as_dict(), "events": report.events,
                  "interval": report.interval_seconds}))
"""


def _population(engine: str, master: str, *sources: str) -> dict[str, object]:
    env = dict(
        os.environ,
        PYSPARK_SUBMIT_ARGS=f"--conf spark.executor.memory={EXECUTOR_MEMORY} pyspark-shell",
    )
    out = subprocess.run(
        dying_with_us([sys.executable, "-c", CHILD, engine, master, *sources]),
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
        env=env,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _moto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        dying_with_us([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2).close()
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.3)


def _store(root: Path) -> int:
    """Emulated events re-cut into segments of SEGMENT_ROWS rows (as a busy sensor closes)."""
    op = operation.load(EXAMPLE)
    staging = root.parent / "staging"
    writer = EventWriter(staging, "emulator")
    emulate.offline(op, plan.compute(op), emulate.Settings(machines=MACHINES, days=DAYS), writer)
    writer.close()
    out = EventWriter(root, "east-w0")
    for path in sorted((staging / "events").glob("day=*/*.parquet")):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        for start in range(0, table.num_rows, SEGMENT_ROWS):
            out.write_table(table.slice(start, SEGMENT_ROWS))
        path.unlink()
    out.close()
    return store.count(root)


def bench_ship() -> None:
    """Segments/s and MB/s to a local S3 endpoint; population on DuckDB, Spark, a cluster."""
    print(f"\n== ship: {MACHINES:,} machines x {DAYS:g} days, segments of {SEGMENT_ROWS:,} rows")
    with scratch() as tmp:
        base = Path(tmp)
        root = base / "east"
        began = time.perf_counter()
        events = _store(root)
        segments = ship.local_segments(root)
        size = sum(p.stat().st_size for p in segments)
        print(
            f"store: {events:,} events in {len(segments)} segments, {size / 1e6:,.1f} MB "
            f"({size / events:.1f} bytes/event), made in {time.perf_counter() - began:.0f} s"
        )
        port = free_port()
        moto = _moto(port)
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=str(base / "no-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(base / "no-credentials"),
        )
        try:
            import boto3

            client = boto3.client("s3")
            client.create_bucket(Bucket=BUCKET)
            fs, _ = pafs.FileSystem.from_uri(f"s3://{BUCKET}/bare")
            with fs.open_output_stream(f"{BUCKET}/warm-up") as dst:  # first requests are slower
                dst.write(segments[0].read_bytes())
            # each way twice, alternating, the best of two: moto's timings wander
            times: dict[str, list[float]] = {"ours": [], "bare": [], "boto3": []}
            for rep in range(2):
                url = f"s3://{BUCKET}/ours{rep}"  # a new destination: nothing recorded yet
                began = time.perf_counter()
                result = ship.Shipper(root, url).until_done(attempts=3)
                times["ours"].append(time.perf_counter() - began)
                assert result.pending == 0 and result.shipped == len(segments), result
                began = time.perf_counter()
                for path in segments:
                    key = f"{BUCKET}/bare{rep}/events/{path.parent.name}/{path.name}"
                    with open(path, "rb") as src, fs.open_output_stream(key) as dst:
                        while chunk := src.read(8 << 20):
                            dst.write(chunk)
                times["bare"].append(time.perf_counter() - began)
                began = time.perf_counter()
                for path in segments:
                    key = f"boto3{rep}/events/{path.parent.name}/{path.name}"
                    client.upload_file(str(path), BUCKET, key)
                times["boto3"].append(time.perf_counter() - began)
            ours, bare, boto = (min(times[k]) for k in ("ours", "bare", "boto3"))
            for name, seconds in (("sinkhole ship", ours), ("bare pyarrow", bare), ("boto3", boto)):
                print(
                    f"{name:>14}: {len(segments) / seconds:6.2f} segments/s, "
                    f"{size / 1e6 / seconds:7.1f} MB/s, {events / seconds:,.0f} events/s"
                )
            print(f"ratio sinkhole ship / bare pyarrow: {bare / ours:.2f}x the speed")
            print(f"ratio sinkhole ship / boto3 upload_file: {boto / ours:.2f}x the speed")
            local = _population("duckdb", "", str(root))
            shared = _population("duckdb", "", f"s3://{BUCKET}/ours0")
            print(
                f"population duckdb, local store: {local['seconds']:.1f} s (peak "
                f"{local['peak_mb']:,.0f} MB); over S3 via pyarrow: {shared['seconds']:.1f} s; "
                f"same figures: {shared['machines'] == local['machines']}"
            )
            if spark_home() is None:
                print("spark: skipped (needs pyspark and java)")
                return
            spark = _population("spark", "local[2]", str(root))
            print(
                f"population spark local[2]: {spark['seconds']:.1f} s "
                f"({spark['seconds'] / local['seconds']:.1f}x DuckDB); "  # type: ignore[operator]
                f"same figures: {spark['machines'] == local['machines']}"
            )
            over_s3 = _population("spark", "local[2]", f"s3://{BUCKET}/ours0")
            print(
                f"population spark local[2] over S3 (Python data source): "
                f"{over_s3['seconds']:.1f} s "
                f"({over_s3['seconds'] / local['seconds']:.1f}x DuckDB); "  # type: ignore[operator]
                f"same figures: {over_s3['machines'] == local['machines']}"
            )
        finally:
            moto.terminate()
            moto.wait()
        work = base / "spark"
        work.mkdir()
        with running_spark_cluster(work, memory=EXECUTOR_MEMORY, cores=CLUSTER_CORES) as master:
            cluster = _population("spark", master, str(root))
        print(
            f"population spark standalone (1 worker, {CLUSTER_CORES} cores, executor "
            f"{EXECUTOR_MEMORY}): {cluster['seconds']:.1f} s "
            f"({cluster['seconds'] / local['seconds']:.1f}x DuckDB); "  # type: ignore[operator]
            f"same figures: {cluster['machines'] == local['machines']}"
        )
