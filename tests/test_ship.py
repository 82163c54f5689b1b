"""Shipping closed segments to a shared store, and reading shared and several stores as one.

The S3 endpoint is moto's server mode on a loopback port (it stands in for AWS S3
or MinIO; the code path is pyarrow's S3 client either way). Faults are real: a
bucket deleted mid-run, connections cut mid-request by a loopback proxy, and a
shipping process killed with SIGKILL while an upload is in flight.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from sinkhole import emulate, operation, plan, population, ship, stats
from sinkhole.events import sources, store
from sinkhole.events.writer import EventWriter
from sinkhole.testing import dying_with_us

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

OP_TEXT = (
    '[operation]\nname = "fleet"\nstart = 2026-12-01\nhold_days = 20\n'
    '[[targets]]\nfamily = "megad-sim"\n'
)
OP = operation.loads(OP_TEXT)
PLAN = plan.compute(OP)
BUCKET = "sinkhole-shared"


class S3:
    """A moto S3 server on loopback, with the AWS environment pointed at it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def objects(self, prefix: str = "") -> dict[str, int]:
        """Key -> size of every object in the bucket under `prefix`."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}

    def drop_bucket(self) -> None:
        """Delete every object, then the bucket itself."""
        for key in self.objects():
            self.client.delete_object(Bucket=BUCKET, Key=key)
        self.client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        _, port = server.get_host_and_port()
        # only loopback, only these credentials: no config file, no instance metadata
        for key, value in {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        # moto keeps one state per process, whatever the server: start from an empty one
        urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"),
            timeout=10,
        ).close()
        endpoint = S3(port)
        endpoint.client.create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


class Proxy:
    """A loopback TCP proxy in front of the S3 server that cuts or holds big requests.

    mode "drop": the first `budget` connections that send more than `threshold`
    bytes are cut mid-request. mode "stall": such a connection is held after
    `threshold` bytes (`stalled` is set) until :meth:`release`.
    """

    def __init__(self, upstream: int, mode: str, budget: int = 1, threshold: int = 4096) -> None:
        self.upstream, self.mode, self.budget, self.threshold = upstream, mode, budget, threshold
        self.cut = 0
        self.stalled = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self) -> None:
        """Let held connections go on, and pass everything from now on."""
        self.mode = "pass"
        self._released.set()

    def close(self) -> None:
        """Stop accepting."""
        self._closing = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _take_budget(self) -> bool:
        with self._lock:
            if self.mode == "drop" and self.cut < self.budget:
                self.cut += 1
                return True
            return False

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream))
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()
        sent = 0
        try:
            while data := client.recv(65536):
                if sent + len(data) > self.threshold and self.mode != "pass":
                    if self.mode == "drop" and self._take_budget():
                        server.sendall(data[: max(0, self.threshold - sent)])
                        client.shutdown(socket.SHUT_RDWR)  # the connection drops mid-request
                        return
                    if self.mode == "stall":
                        self.stalled.set()
                        self._released.wait(60)
                sent += len(data)
                server.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, server):
                sock.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def sensor_store(root: Path, sensor: str, seed: int, segments: int = 6, machines: int = 200) -> int:
    """A sensor's local store with `segments` closed segments per day; returns events."""
    scratch = root.parent / f".{root.name}-scratch"
    writer = EventWriter(scratch, "emulator")
    emulate.offline(OP, PLAN, emulate.Settings(machines=machines, days=2, seed=seed), writer)
    writer.close()
    table = store.read(scratch)
    shutil.rmtree(scratch)
    table = table.set_column(
        table.schema.get_field_index("sensor"), "sensor", pa.repeat(pa.scalar(sensor), len(table))
    )
    out = EventWriter(root, f"{sensor}-w0")
    step = -(-table.num_rows // segments)
    for start in range(0, table.num_rows, step):
        out.write_table(table.slice(start, step))
    out.close()
    rows: int = table.num_rows
    return rows


def ordered(table: pa.Table) -> pa.Table:
    """Rows in one fixed order, for comparing stores row for row."""
    keys = ["timestamp", "src_ip", "src_port", "sensor", "application", "bot_id", "http_url"]
    return table.sort_by([(k, "ascending") for k in keys])


def assert_exactly_once(url: str, *roots: Path) -> None:
    """The shared store holds every event of the local stores, each exactly once."""
    local = pa.concat_tables([store.read(r) for r in roots])
    shared = store.read(url)
    assert shared.num_rows == local.num_rows
    assert ordered(shared).equals(ordered(local))


def test_shipped_store_reads_like_the_local_folder(tmp_path: Path, s3: S3) -> None:
    root = tmp_path / "east"
    events = sensor_store(root, "east", seed=1)
    segments = ship.local_segments(root)
    url = f"s3://{BUCKET}/op1"
    shipper = ship.Shipper(root, url)
    first = shipper.ship_pass()
    assert (first.shipped, first.pending, first.error) == (len(segments), 0, "")
    # names are the segments' own, under the prefix: nothing else is written
    assert sorted(s3.objects()) == sorted(f"op1/events/{p.parent.name}/{p.name}" for p in segments)
    assert sum(s3.objects().values()) == first.bytes == sum(p.stat().st_size for p in segments)
    again = shipper.ship_pass()
    assert (again.shipped, again.recorded, again.pending) == (0, 0, 0)
    assert store.count(url) == events
    assert_exactly_once(url, root)
    assert store.summary(url) | {"quarantined": 0} == store.summary(root)
    status = ship.status(root)
    assert status is not None
    assert (status["to"], status["shipped"], status["pending"]) == (url, len(segments), 0)
    lines = (root / "ship" / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == len(segments)
    assert oct((root / "ship" / "manifest.jsonl").stat().st_mode & 0o777) == "0o600"


def test_several_sources_give_the_merged_store(tmp_path: Path, s3: S3) -> None:
    east, west, merged = tmp_path / "east", tmp_path / "west", tmp_path / "merged"
    sensor_store(east, "east", seed=2, segments=3)
    sensor_store(west, "west", seed=3, segments=3)
    for root in (east, west):
        shutil.copytree(root / "events", merged / "events", dirs_exist_ok=True)
    url = f"s3://{BUCKET}/fleet"
    assert not ship.Shipper(east, url).ship_pass().error
    expected = store.summary(merged)
    # the shared copy of east with west's local store; and east counted twice over
    for location in ([url, str(west)], [str(east), str(west), url]):
        assert store.summary(location) == expected
        assert ordered(store.read(location)).equals(ordered(store.read(merged)))
    op_file = tmp_path / "op.toml"
    op_file.write_text(OP_TEXT)
    command = [sys.executable, "-m", "sinkhole", "events", str(op_file), "--data", url,
               "--data", str(west), "--format", "jsonl", "--application", "http"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == store.count(merged, store.Filter(application="http")) > 0
    assert {json.loads(line)["sensor"] for line in lines} == {"east", "west"}
    report = json.dumps(population.report([url, west]).as_dict(), sort_keys=True, default=str)
    assert report == json.dumps(population.report(merged).as_dict(), sort_keys=True, default=str)


def test_bucket_disappearing_mid_run_loses_nothing(
    tmp_path: Path, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "east"
    sensor_store(root, "east", seed=4)
    url = f"s3://{BUCKET}/op1"
    upload = ship.Shipper._upload
    calls = {"n": 0}

    def vanishing(self: ship.Shipper, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            s3.drop_bucket()  # two segments are in, confirmed; now the bucket is gone
        upload(self, *args)

    monkeypatch.setattr(ship.Shipper, "_upload", vanishing)
    shipper = ship.Shipper(root, url, delete_local=False)
    failed = shipper.ship_pass()
    assert failed.shipped == 2
    assert "bucket" in failed.error.lower(), failed.error
    assert failed.pending == len(ship.local_segments(root)) - 2
    # what `sinkhole stats` shows meanwhile
    [shown] = stats.shipping(root)
    assert (shown["pending"], shown["shipped"]) == (failed.pending, 2)
    assert "bucket" in shown["last_error"].lower()
    waits: list[float] = []
    shipper.failures = 1
    s3.client.create_bucket(Bucket=BUCKET)  # the bucket comes back, empty
    done = shipper.until_done(attempts=3, sleep=waits.append)
    # the two confirmed segments vanished with the bucket: shipped again from local copies
    assert (done.shipped, done.pending, done.error) == (len(ship.local_segments(root)), 0, "")
    assert_exactly_once(url, root)


def test_dropped_connections_are_retried_with_back_off(
    tmp_path: Path, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "east"
    sensor_store(root, "east", seed=5, segments=3)
    proxy = Proxy(s3.port, "drop", budget=1_000_000)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{proxy.port}")
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        proxy.release()  # the network heals during the first back-off

    try:
        result = ship.Shipper(root, f"s3://{BUCKET}/op1").until_done(attempts=5, sleep=wait)
    finally:
        proxy.close()
    # every upload was cut mid-request until the network healed; the client's own
    # retries gave up, whole passes were retried after a back-off, and then all went in
    assert proxy.cut >= 2
    assert len(waits) == 1
    assert 0.5 <= waits[0] <= 1.0  # the first back-off: at most 1 s, jittered down to half
    assert (result.pending, result.error) == (0, "")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint)
    assert_exactly_once(f"s3://{BUCKET}/op1", root)


def test_sensor_killed_mid_upload_resumes_exactly_once(tmp_path: Path, s3: S3) -> None:
    root = tmp_path / "east"
    sensor_store(root, "east", seed=6)
    op_file = tmp_path / "op.toml"
    op_file.write_text(OP_TEXT)
    url = f"s3://{BUCKET}/op1"
    ship.Shipper(root, url).ship_pass()  # a first run ships everything ...
    shipped = sorted(s3.objects())
    sensor_store(tmp_path / "more", "east", seed=7)  # ... then more segments close
    moved = []
    for path in sorted((tmp_path / "more" / "events").glob("day=*/*.parquet")):
        target = root / "events" / path.parent.name / path.name.replace("east-w0", "east-w1")
        shutil.move(path, target)
        moved.append(target)
    expected = store.read(root)
    proxy = Proxy(s3.port, "stall")
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}")
    command = [sys.executable, "-m", "sinkhole", "ship", str(op_file), "--data", str(root),
               "--to", url, "--delete-local"]  # fmt: skip
    proc = subprocess.Popen(dying_with_us(command), env=env, stderr=subprocess.DEVNULL)
    try:
        assert proxy.stalled.wait(60), "no upload started"
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)  # the sensor dies with an upload in flight
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proxy.release()
        proxy.close()
    assert proc.returncode == -signal.SIGKILL
    assert sorted(s3.objects()) == shipped  # the cut upload left no object behind
    # no segment was removed before its upload was confirmed (confirmed ones may have been)
    assert set(moved) <= set(ship.local_segments(root))
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pending: 0" in result.stdout
    assert ship.local_segments(root) == []  # confirmed, then removed
    assert len(s3.objects()) == len(moved) + len(shipped)
    shared = store.read(url)
    assert ordered(shared).equals(ordered(expected))


def test_back_off_doubles_up_to_a_minute(tmp_path: Path) -> None:
    shipper = ship.Shipper(tmp_path, str(tmp_path / "shared"))
    assert shipper.backoff() == 0
    for failures in range(1, 12):
        shipper.failures = failures
        ceiling = min(ship.MAX_BACKOFF, 0.5 * 2**failures)
        assert all(ceiling / 2 <= shipper.backoff() <= ceiling for _ in range(20))


def test_a_crash_between_upload_and_manifest_records_without_uploading(
    tmp_path: Path, s3: S3
) -> None:
    root = tmp_path / "east"
    sensor_store(root, "east", seed=8, segments=2)
    url = f"s3://{BUCKET}/op1"
    first = ship.Shipper(root, url).ship_pass()
    (root / "ship" / "manifest.jsonl").write_text("")  # as if killed before recording
    again = ship.Shipper(root, url).ship_pass()
    assert (again.shipped, again.recorded, again.pending) == (0, first.shipped, 0)


def test_another_segment_under_the_same_name_is_never_overwritten(tmp_path: Path, s3: S3) -> None:
    root = tmp_path / "east"
    sensor_store(root, "east", seed=9, segments=2)
    victim = ship.local_segments(root)[0]
    key = f"op1/events/{victim.parent.name}/{victim.name}"
    s3.client.put_object(Bucket=BUCKET, Key=key, Body=b"someone else's segment")
    result = ship.Shipper(root, f"s3://{BUCKET}/op1", delete_local=True).ship_pass()
    assert result.conflicts == [f"{victim.parent.name}/{victim.name}"]
    assert victim.exists()  # kept locally
    body = s3.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == b"someone else's segment"
    assert result.pending == 1


def test_shipping_to_a_shared_folder_keeps_files_private(tmp_path: Path) -> None:
    root, shared = tmp_path / "east", tmp_path / "nfs" / "store"
    sensor_store(root, "east", seed=10, segments=2)
    result = ship.Shipper(root, str(shared), delete_local=True).ship_pass()
    assert (result.pending, result.deleted) == (0, result.shipped)
    files = sorted((shared / "events").glob("day=*/*"))
    assert files and all(oct(p.stat().st_mode & 0o777) == "0o600" for p in files)
    assert all(oct(p.parent.stat().st_mode & 0o777) == "0o700" for p in files)
    assert store.count(f"file://{shared}") == store.count(shared) > 0


def test_ship_cli_errors_are_one_line(tmp_path: Path) -> None:
    op_file = tmp_path / "op.toml"
    op_file.write_text(OP_TEXT)
    (tmp_path / "d").mkdir()
    command = [sys.executable, "-m", "sinkhole", "ship", str(op_file), "--data",
               str(tmp_path / "d"), "--to", "gs://bucket/x"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "gs://bucket/x: unsupported scheme 'gs'" in line
    for url, words in (
        ("s3:///x", "no bucket given"),
        ("s3://b/x?endpoint_override=1", "no options in the URL"),
        ("file://host/x", "names a folder on this machine"),
    ):
        with pytest.raises(sources.SourceError, match=words):
            sources.parse(url)


def test_sources_parse() -> None:
    assert sources.parse("s3://b/p/q/").base == "b/p/q"
    assert sources.parse("file:///srv/x").folder == Path("/srv/x")
    assert sources.parse("rel/folder").folder == Path("rel/folder")
    assert sources.stores(["a", "a", "s3://b"]).sources == (
        sources.parse("a"),
        sources.parse("s3://b"),
    )


def test_serve_ships_beside_serving_and_names_its_sensor(tmp_path: Path, s3: S3) -> None:
    from sinkhole.testing import running_sinkhole

    op_file = tmp_path / "op.toml"
    op_file.write_text(OP_TEXT)
    data, url = tmp_path / "d", f"s3://{BUCKET}/live"
    args = ("--sensor", "east", "--ship", url, "--delete-shipped")
    with running_sinkhole(op_file, data, *args) as sink:
        assert f"shipping closed segments to {url}" in sink.lines
        host, port = sink.address("http")
        for n in range(20):
            with socket.create_connection((host, port), timeout=5) as conn:
                conn.sendall(f"GET /c?n={n} HTTP/1.1\r\nHost: x.test\r\n\r\n".encode())
                conn.recv(4096)
        assert sink.stop() == 0
    # the workers' last segments closed at the stop, the parent shipped them, and only
    # then removed the local copies
    assert ship.pending(data, url) == [] and ship.local_segments(data) == []
    assert len(ship.manifest(data)[url]) >= 1
    shared = store.read(url)
    assert shared.num_rows == 20
    assert set(shared.column("sensor").to_pylist()) == {"east-w0"}
    assert sorted(shared.column("http_url").to_pylist()) == sorted(f"/c?n={n}" for n in range(20))


def test_demo_act_ships_and_reads_both_as_one(tmp_path: Path) -> None:
    root = tmp_path / "east"
    events = sensor_store(root, "east", seed=11, segments=2, machines=50)
    lines: list[str] = []
    result = ship.demo(root, tmp_path / "shared", lines.append)
    assert result.pending == 0 and result.shipped == len(ship.local_segments(root))
    assert lines[1] == (
        f"events: local store {events:,}; shared store {events:,}; "
        f"both read together {events:,} (a segment seen twice is read once)"
    )


def test_a_bad_sensor_name_or_ship_url_stops_serve_before_it_starts(tmp_path: Path) -> None:
    from sinkhole.servers import run

    op_file = tmp_path / "op.toml"
    op_file.write_text(OP_TEXT)
    op = operation.load(op_file)
    assert run.config_from(op, sensor="fra1", ship="s3://b/p").sensor == "fra1"
    with pytest.raises(run.ServeError, match="--sensor 'a b': expected 1 to 64"):
        run.config_from(op, sensor="a b")
    with pytest.raises(run.ServeError, match="--ship ftp://x: unsupported scheme"):
        run.config_from(op, ship="ftp://x")


def test_an_unreadable_segment_in_the_shared_store_is_skipped_not_moved(
    tmp_path: Path, s3: S3
) -> None:
    root = tmp_path / "east"
    events = sensor_store(root, "east", seed=12, segments=2, machines=50)
    url = f"s3://{BUCKET}/op1"
    ship.Shipper(root, url).ship_pass()
    bad = "op1/events/day=2026-12-01/west-w0-cut.parquet"
    s3.client.put_object(Bucket=BUCKET, Key=bad, Body=b"PAR1 cut short")
    assert store.count(url) == events
    assert bad in s3.objects()  # the shared store is the sensors' to write: left in place


def test_the_last_failed_pass_is_not_followed_by_a_wait(tmp_path: Path) -> None:
    root = tmp_path / "east"
    sensor_store(root, "east", seed=12, segments=1)
    (tmp_path / "blocked").write_text("a file where the shared folder should be")
    waits: list[float] = []
    result = ship.Shipper(root, str(tmp_path / "blocked")).until_done(
        attempts=3, sleep=waits.append
    )
    assert result.error and result.pending == len(ship.local_segments(root)) > 0
    assert len(waits) == 2  # between the three passes, none after the last


def test_ship_cli_says_each_failed_pass_in_one_line(tmp_path: Path) -> None:
    root = tmp_path / "east"
    sensor_store(root, "east", seed=13, segments=1)
    op_file = tmp_path / "op.toml"
    op_file.write_text(OP_TEXT)
    blocked = tmp_path / ("a-long-folder-name-" * 4) / "blocked"
    blocked.parent.mkdir()
    blocked.write_text("a file where the shared folder should be")
    command = [sys.executable, "-m", "sinkhole", "ship", str(op_file), "--data", str(root),
               "--to", str(blocked), "--attempts", "2"]  # fmt: skip
    env = dict(os.environ, COLUMNS="80")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["ship", "ship", "sinkhole"], lines
    assert "Not a directory" in lines[0] and "gave up after 2 attempts" in lines[2]
