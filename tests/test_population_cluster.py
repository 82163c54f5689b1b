"""Population on a Spark standalone cluster (a master and a worker on loopback) equals DuckDB.

The cluster is started with the `spark-class` that ships in the pyspark package;
its executors read the sensors' stores themselves: a local store and a shared
folder another sensor shipped to (what a cluster over a shared file system
does), and a shared store in S3 a third sensor shipped to, read through
sinkhole's Python data source and pyarrow's S3 client (moto's S3 server on
loopback stands in for AWS S3 or MinIO). One focused test: it costs a JVM for
the master, one for the worker, one for the driver and one for the executor, all
bounded and stopped with the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sinkhole import emulate, operation, plan, population, ship
from sinkhole.events import store
from sinkhole.events.writer import EventWriter
from sinkhole.testing import dying_with_us, running_spark_cluster, spark_home
from tests import test_ship
from tests.test_ship import BUCKET, S3

s3 = test_ship.s3

OP_TEXT = (
    '[operation]\nname = "fleet"\nstart = 2026-12-01\nhold_days = 20\n'
    '[[targets]]\nfamily = "megad-sim"\n'
)


def test_population_on_a_standalone_cluster_equals_duckdb(tmp_path: Path, s3: S3) -> None:
    home = spark_home()
    if home is None:
        pytest.skip("needs pyspark's spark-class and a Java runtime")
    op = operation.loads(OP_TEXT)
    the_plan = plan.compute(op)
    east, west, north = tmp_path / "east", tmp_path / "west", tmp_path / "north"
    shared, url = tmp_path / "shared", f"s3://{BUCKET}/fleet"
    for root, sensor, seed in ((east, "east", 1), (west, "west", 2), (north, "north", 3)):
        writer = EventWriter(root, sensor)
        settings = emulate.Settings(machines=80, days=1.25, seed=seed)
        emulate.offline(op, the_plan, settings, writer)
        writer.close()
    # west's segments move to the shared folder: confirmed there, then removed locally
    moved = ship.Shipper(west, str(shared), delete_local=True).ship_pass()
    assert moved.shipped and moved.deleted == moved.shipped and not ship.local_segments(west)
    # north's go to S3 and leave the sensor; east's are shipped there too and kept (read once)
    north_events = store.count(north)
    moved = ship.Shipper(north, url, delete_local=True).ship_pass()
    assert moved.shipped and moved.deleted == moved.shipped and not ship.local_segments(north)
    assert ship.Shipper(east, url).ship_pass().shipped == len(ship.local_segments(east))
    # north's events are only in S3, east's in both places and counted once
    assert store.count([east, shared, url]) == store.count([east, shared]) + north_events > 0
    expected = population.report([east, shared, url]).as_dict()
    assert expected["events"] > 2000
    op_file = tmp_path / "op.toml"
    op_file.write_text(OP_TEXT)
    work = tmp_path / "spark"
    work.mkdir()
    with running_spark_cluster(work) as master:
        env = dict(
            os.environ,
            SPARK_HOME=str(home),
            SPARK_LOCAL_IP="127.0.0.1",
            PYSPARK_PYTHON=sys.executable,
            # modest: the machine is shared; the executor gets what the worker offers
            PYSPARK_SUBMIT_ARGS="--conf spark.executor.memory=768m pyspark-shell",
        )
        env.pop("SPARK_REMOTE", None)
        command = [sys.executable, "-m", "sinkhole", "population", str(op_file),
                   "--data", str(east), "--data", str(shared), "--data", url, "--engine", "spark",
                   "--spark-master", master, "--dataset", "lab", "--json"]  # fmt: skip
        result = subprocess.run(
            dying_with_us(command), env=env, capture_output=True, text=True, timeout=300
        )
        app_logs = list((work).glob("app-*/*/stderr"))
    assert result.returncode == 0, result.stderr[-3000:]
    # the work ran in the worker's executor, not in the driver
    assert app_logs, "no executor ran on the worker"
    on_cluster = json.loads(result.stdout)
    assert json.dumps(on_cluster, sort_keys=True, default=str) == json.dumps(
        expected, sort_keys=True, default=str
    )
