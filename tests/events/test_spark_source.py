"""Spark reads shared stores in S3 through sinkhole's Python data source (pyarrow's S3 client).

The S3 endpoint is moto's server on loopback (tests/test_ship.py's fixture); it
stands in for AWS S3 or MinIO, and the code path is the same pyarrow S3 client.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from sinkhole import population, ship
from sinkhole.events import spark_source, store
from sinkhole.events.schema import SCHEMA
from sinkhole.testing import dying_with_us, free_port, spark_home
from tests import test_ship
from tests.test_ship import BUCKET, S3, ordered, sensor_store

pytest.importorskip("pyspark")
s3 = test_ship.s3

#: Runs where sinkhole cannot be imported (an executor without it): unpickles the data
#: source, plans its partitions and reads every one, writing the rows as an Arrow stream.
EXECUTOR = """
import sys
sys.modules["sinkhole"] = None  # any import of sinkhole now fails
import pyarrow as pa
from pyspark import cloudpickle
source_class, options = cloudpickle.loads(sys.stdin.buffer.read())
reader = source_class(options).reader(None)
batches = [b for part in reader.partitions() for b in reader.read(part)]
with pa.ipc.new_stream(sys.stdout.buffer, batches[0].schema) as out:
    for batch in batches:
        out.write_batch(batch)
"""


def _stores(tmp_path: Path) -> tuple[Path, Path, str]:
    """east shipped to S3 (and kept), west only local; several segments each."""
    east, west = tmp_path / "east", tmp_path / "west"
    sensor_store(east, "east", seed=4, segments=3, machines=120)
    sensor_store(west, "west", seed=5, segments=3, machines=120)
    url = f"s3://{BUCKET}/fleet"
    assert ship.Shipper(east, url).ship_pass().shipped == len(ship.local_segments(east))
    return east, west, url


def test_an_executor_without_sinkhole_reads_s3_segments(tmp_path: Path, s3: S3) -> None:
    from pyspark import cloudpickle

    east, _west, url = _stores(tmp_path)
    snap = store.snapshot([url], wal=False)
    segments = spark_source.listing(snap)
    assert len(segments) == len(ship.local_segments(east))
    assert all(s.startswith("s3://") for s, _ in segments)
    # what segment_frame hands Spark: the class by value, the listing and schema as options
    cloudpickle.register_pickle_by_value(spark_source)
    schema = SCHEMA.serialize().to_pybytes()
    options = {"segments": json.dumps(segments), "schema": base64.b64encode(schema).decode()}
    payload = cloudpickle.dumps((spark_source.SegmentSource, options))
    result = subprocess.run(
        [sys.executable, "-c", EXECUTOR], input=payload, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    table = pa.ipc.open_stream(result.stdout).read_all()
    assert table.schema == SCHEMA
    assert ordered(table).equals(ordered(store.read(east)))


@pytest.mark.filterwarnings(
    # py4j's gateway sockets and pyspark's pandas calls warn; they are not ours
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
)
def test_spark_reads_a_shared_s3_store_and_a_local_one_as_one(
    tmp_path: Path, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql import SparkSession

    east, west, url = _stores(tmp_path)
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()  # the session's Python workers must see this test's AWS settings
    session = population._spark_session(population.DEFAULT_MASTER)
    # east twice (local and shipped): read once, as DuckDB reads it
    location = [str(east), str(west), url]
    snap = store.snapshot(location, wal=False)
    local_east, local_west = ship.local_segments(east), ship.local_segments(west)
    assert len(snap.parquet) == len(local_east) + len(local_west)
    assert sum(len(s.paths) for s in snap.shared) == 0
    # the local copies are listed first; with east's gone, its shipped copy is read instead
    for path in local_east:
        path.unlink()
    snap = store.snapshot(location, wal=False)
    assert len(snap.parquet) == len(local_west)
    assert sum(len(s.paths) for s in snap.shared) == len(local_east)
    frame = spark_source.dataframe(session, snap)
    assert frame.columns == SCHEMA.names
    table = frame.toArrow().cast(SCHEMA)
    expected = store.read(location)
    assert table.num_rows == expected.num_rows > 0
    assert ordered(table).equals(ordered(expected))
    # a subset of the columns, as population asks for
    narrow = spark_source.dataframe(session, snap, population.COLUMNS)
    assert narrow.columns == list(population.COLUMNS)
    assert narrow.count() == expected.num_rows
    # a segment gone between the driver's listing and the executor's read: one line
    listed = store.snapshot

    def then_deleted(*args: object, **kwargs: object) -> store.Snapshot:
        found = listed(*args, **kwargs)  # type: ignore[arg-type]
        key = found.shared[0].paths[0].split("/", 1)[1]
        s3.client.delete_object(Bucket=BUCKET, Key=key)
        return found

    monkeypatch.setattr(store, "snapshot", then_deleted)
    with pytest.raises(population.PopulationError) as failed:
        population.report([west, url], "spark")
    message = str(failed.value)
    assert message.startswith(f"Spark cannot read events under {west}, {url}: ")
    assert "\n" not in message and len(message) < 500
    assert "Error" in message.split(": ", 1)[1], message


#: A Spark Connect client in its own process (beside no classic session): reads the
#: snapshot's segments through the data source on the server and writes them as Arrow.
CONNECT_CLIENT = """
import json, sys
import pyarrow as pa
from pyspark.sql import SparkSession
from sinkhole.events import spark_source, store
url, locations = sys.argv[1], json.loads(sys.argv[2])
session = SparkSession.builder.remote(url).getOrCreate()
table = spark_source.dataframe(session, store.snapshot(locations, wal=False)).toArrow()
with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as out:
    out.write_table(table)
session.stop()
"""


def test_spark_connect_reads_s3_through_the_data_source(tmp_path: Path, s3: S3) -> None:
    import grpc  # noqa: F401  (the dev extras install pyspark[connect]; missing is a failure)

    home = spark_home()
    assert home is not None, "needs pyspark's spark-submit and a Java runtime (.ci/run installs it)"
    east, west, url = _stores(tmp_path)
    for path in ship.local_segments(east):
        path.unlink()  # east only in S3
    port = free_port()
    # a Connect server from pyspark's own jars; its Python workers see this test's AWS settings
    command = [str(home / "bin" / "spark-submit"), "--master", "local[1]",
               "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
               "--conf", f"spark.connect.grpc.binding.port={port}",
               "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
               "--conf", "spark.ui.enabled=false", "spark-internal"]  # fmt: skip
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1",
               PYSPARK_PYTHON=sys.executable)  # fmt: skip
    with open(tmp_path / "connect.log", "wb") as log:
        server = subprocess.Popen(dying_with_us(command), env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "connect.log"
                ).read_text(errors="replace")[-2000:]
                time.sleep(0.5)
        locations = json.dumps([str(west), url])
        client = [sys.executable, "-c", CONNECT_CLIENT, f"sc://127.0.0.1:{port}", locations]
        result = subprocess.run(dying_with_us(client), env=env, capture_output=True, timeout=180)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    table = pa.ipc.open_stream(result.stdout).read_all().cast(SCHEMA)
    expected = store.read([west, url])
    assert table.num_rows == expected.num_rows > 0
    assert ordered(table).equals(ordered(expected))
