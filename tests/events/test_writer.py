"""The write path: durable batches, day partitions, recovery, and a full disk."""

from __future__ import annotations

import datetime as dt
import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sinkhole.events import store, writer
from sinkhole.events.schema import SCHEMA

DAY1 = int(dt.datetime(2026, 12, 1, 23, 59, 59, tzinfo=dt.UTC).timestamp() * 1_000_000)
DAY2 = DAY1 + 2_000_000  # two seconds later: the next day

DNS = ("timestamp", "src_ip", "src_port", "dns_qname", "dns_qtype", "family")


def _dns(w: writer.EventWriter) -> writer.Buffer:
    return w.buffer(
        DNS, protocol="udp", application="dns", dst_ip="127.0.0.1", dst_port=53, sensor="s1"
    )


def test_events_land_in_day_partitions_field_by_field(tmp_path: Path) -> None:
    w = writer.EventWriter(tmp_path, "s1")
    buf = _dns(w)
    buf.append((DAY1, "127.1.0.1", 40000, "a.example", 1, "megad-sim"))
    buf.append((DAY2, "127.1.0.2", 40001, "b.example", 28, None))
    stats = w.close()
    assert (stats.accepted, stats.durable, stats.dropped, stats.segments) == (2, 2, 0, 1)
    assert not list((tmp_path / "wal").glob("*.arrows"))
    files = sorted((tmp_path / "events").glob("day=*/*.parquet"))
    assert [f.parent.name for f in files] == ["day=2026-12-01", "day=2026-12-02"]
    first = pq.read_table(files[0]).to_pylist()
    assert len(first) == 1
    row = first[0]
    assert row["timestamp"] == dt.datetime(2026, 12, 1, 23, 59, 59, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dns_qname"], row["dns_qtype"]) == (
        "127.1.0.1",
        40000,
        "a.example",
        1,
    )
    assert (row["protocol"], row["application"], row["dst_port"], row["sensor"]) == (
        "udp",
        "dns",
        53,
        "s1",
    )
    assert row["family"] == "megad-sim"
    assert row["http_url"] is None
    assert pq.read_schema(files[0]).remove_metadata() == SCHEMA
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"


def test_unknown_column_is_refused(tmp_path: Path) -> None:
    w = writer.EventWriter(tmp_path, "s1")
    with pytest.raises(ValueError, match="unknown event columns: colour"):
        w.buffer(("timestamp", "colour"))


def test_flushed_events_are_readable_before_the_segment_closes(tmp_path: Path) -> None:
    w = writer.EventWriter(tmp_path, "s1")
    buf = _dns(w)
    for i in range(100):
        buf.append((DAY1 - i, f"127.2.0.{i}", 1000 + i, f"n{i}.example", 1, "megad-sim"))
    assert w.flush() == 100
    assert not list((tmp_path / "events").glob("day=*/*.parquet"))
    table = store.read(tmp_path)
    assert table.num_rows == 100
    assert table.column("timestamp").to_pylist() == sorted(table.column("timestamp").to_pylist())
    w.close()
    assert store.count(tmp_path) == 100


def test_recovery_reads_every_complete_batch_of_a_cut_segment(tmp_path: Path) -> None:
    w = writer.EventWriter(tmp_path, "s1")
    buf = _dns(w)
    for batch in range(3):
        for i in range(50):
            buf.append((DAY1, "127.3.0.1", i, f"b{batch}-{i}.example", 1, None))
        w.flush()
    w._wal_file.close()  # the process dies: no end-of-stream marker is written
    [segment] = list((tmp_path / "wal").glob("*.arrows"))
    # a crash mid-write: the tail of a fourth batch, cut short
    with open(segment, "ab") as handle:
        handle.write(b"\xff\xff\xff\xff\x10\x00\x00\x00partial")
    original = segment.read_bytes()
    result = writer.recover(tmp_path)
    assert result == writer.Recovery(segments=1, events=150, truncated=1, quarantined=1)
    assert not segment.exists()
    assert store.count(tmp_path) == 150
    # the unreadable tail is kept, not deleted: the whole segment, byte for byte, with a note
    kept = tmp_path / "quarantine" / "wal" / segment.name
    assert kept.read_bytes() == original
    note = kept.with_name(kept.name + ".reason").read_text()
    assert "after 3 complete batches" in note and "150 readable events" in note


def test_unwritable_store_drops_counts_and_resumes(tmp_path: Path) -> None:
    (tmp_path / "wal").write_text("a file where the WAL folder should be")
    w = writer.EventWriter(tmp_path, "s1")
    buf = _dns(w)
    buf.append((DAY1, "127.4.0.1", 1, "lost.example", 1, None))
    assert w.flush() == 0
    assert (w.stats.dropped, w.stats.failed_flushes) == (1, 1)
    assert w.stats.last_error
    (tmp_path / "wal").unlink()
    buf.append((DAY1, "127.4.0.1", 2, "kept.example", 1, None))
    assert w.flush() == 1
    w.close()
    assert store.read(tmp_path).column("dns_qname").to_pylist() == ["kept.example"]
    assert w.stats.dropped == 1


def test_disk_full_during_fsync_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = writer.EventWriter(tmp_path, "s1")
    buf = _dns(w)
    real_fsync = os.fsync
    calls = {"n": 0}

    def full_once(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(writer.os, "fsync", full_once)
    buf.append((DAY1, "127.5.0.1", 1, "a.example", 1, None))
    assert w.flush() == 0
    assert w.stats.last_error == "No space left on device"
    buf.append((DAY1, "127.5.0.1", 2, "b.example", 1, None))
    assert w.flush() == 1
    w.close()
    # the batch whose fsync failed may or may not have reached the disk; the later one did
    names = store.read(tmp_path).column("dns_qname").to_pylist()
    assert "b.example" in names
    assert w.stats.dropped == 1


WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sinkhole.events.writer import EventWriter, now_us
    w = EventWriter(Path(sys.argv[1]), "crash", flush_interval=0.05).start()
    buf = w.buffer(("timestamp", "src_port"), application="raw")
    deadline = time.monotonic() + 20
    i = 0
    while time.monotonic() < deadline:
        for _ in range(200):
            buf.append((now_us(), i & 0xFFFF))
            i += 1
        time.sleep(0.001)
        print(w.stats.durable, flush=True)
    """
)


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acknowledged = 0
    started = time.monotonic()
    while acknowledged < 20_000 and time.monotonic() - started < 15:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert acknowledged >= 20_000, "the worker did not make events durable"
    result = writer.recover(tmp_path)
    assert result.events >= acknowledged
    assert store.count(tmp_path) == result.events


def test_bulk_batches_share_the_write_path(tmp_path: Path) -> None:
    import pyarrow as pa

    w = writer.EventWriter(tmp_path, "bulk")
    table = pa.table({"timestamp": pa.array([DAY1, DAY2], pa.int64()).cast(SCHEMA.field("timestamp").type),
                      "src_ip": ["127.1.1.1", "127.1.1.2"], "bot_id": ["a", "b"]})  # fmt: skip
    full = pa.table({name: table.column(name) if name in table.column_names else pa.nulls(2, SCHEMA.field(name).type)
                     for name in SCHEMA.names})  # fmt: skip
    w.append_batch(full)
    _dns(w).append((DAY1, "127.1.1.3", 1, "x.example", 1, None))
    assert w.flush() == 3
    w.close()
    rows = store.read(tmp_path).to_pylist()
    assert sorted(r["bot_id"] or "-" for r in rows) == ["-", "a", "b"]
    assert w.stats.durable == 3


HTTP = ("timestamp", "src_port", "http_url", "http_host", "http_method", "http_referer")


def test_buffer_columns_constant_null_and_text_given_as_bytes(tmp_path: Path) -> None:
    w = writer.EventWriter(tmp_path, "s1")
    buf = w.buffer(HTTP, ("http_url", "http_host"), application="http", dst_port=80)
    buf.append((DAY1, 1, b"/a", b"h.example", "GET", None))
    buf.append((DAY1 + 1, 2, b"/\xe9t\xc3\xa9", b"h.example", "GET", None))
    buf.append((DAY1 + 2, 3, None, b"h.example", "GET", None))
    assert w.flush() == 3
    rows = store.read(tmp_path).to_pylist()
    # invalid UTF-8 is escaped as the text path always did; valid UTF-8 kept as it is
    assert [r["http_url"] for r in rows] == ["/a", "/\\xe9t\u00e9", None]
    assert [r["http_host"] for r in rows] == ["h.example"] * 3
    assert [r["src_port"] for r in rows] == [1, 2, 3]
    assert {
        (r["http_method"], r["http_referer"], r["application"], r["dst_port"]) for r in rows
    } == {("GET", None, "http", 80)}
    # a constant text column given as bytes, with invalid UTF-8, is escaped too
    buf.append((DAY1 + 3, 4, b"/\xff", b"\xff", "GET", None))
    w.close()
    last = store.read(tmp_path).to_pylist()[-1]
    assert (last["http_url"], last["http_host"]) == ("/\\xff", "\\xff")


def test_take_keeps_what_is_appended_after_it_and_refuses_odd_widths(tmp_path: Path) -> None:
    w = writer.EventWriter(tmp_path, "s1")
    buf = _dns(w)
    append = buf.append  # a listener may hold the bound method across takes
    append((DAY1, "127.6.0.1", 1, "a.example", 1, None))
    first = buf.take()
    append((DAY1, "127.6.0.2", 2, "b.example", 1, None))
    assert buf.to_batch(first).column("src_ip").to_pylist() == ["127.6.0.1"]
    assert buf.to_batch(buf.take()).column("src_ip").to_pylist() == ["127.6.0.2"]
    assert buf.take() == []
    with pytest.raises(ValueError, match="do not make events of 6 columns"):
        buf.to_batch([DAY1, "127.6.0.3", 3])
    with pytest.raises(ValueError, match="text_bytes columns must be varying"):
        w.buffer(DNS, ("http_url",))


SEGMENT_CHILD = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from sinkhole.events import writer
    root = Path(sys.argv[1])
    [segment] = (root / "wal").glob("*.arrows")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(writer.segment_to_parquet(segment, root))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """
)


def test_a_large_segment_converts_in_bounded_memory_rows_kept_in_order(tmp_path: Path) -> None:
    """A full segment (the writer closes one at 2 million rows) used to be read whole and
    split in memory: 800 MB of worker memory in the middle of a flood. It streams now."""
    w = writer.EventWriter(tmp_path, "s1", segment_seconds=3600)
    buf = _dns(w)
    rows = 600_000
    for i in range(rows):
        # the last 10,000 events fall on the next day, interleaved at the end
        when = DAY2 + i if i >= rows - 10_000 and i % 2 else DAY1 - rows + i
        buf.append((when, f"127.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", i & 0xFFFF,
                    f"q{i:07d}.extra-megad.example", 1, "megad"))  # fmt: skip
        if i % 50_000 == 49_999:
            w.flush()
    w.flush()
    [segment] = (tmp_path / "wal").glob("*.arrows")
    size_mb = segment.stat().st_size / 2**20
    w._wal.close()  # closed without converting: the child converts it
    w._wal_file.close()
    out = subprocess.run(
        [sys.executable, "-c", SEGMENT_CHILD, str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()  # fmt: skip
    assert int(out[0]) == rows
    grew_mb = int(out[1]) / 1024
    assert grew_mb < size_mb / 2, f"converting a {size_mb:.0f} MB segment took {grew_mb:.0f} MB"
    assert not segment.exists()
    days = sorted((tmp_path / "events").iterdir())
    assert [d.name for d in days] == ["day=2026-12-01", "day=2026-12-02"]
    first = pq.ParquetFile(next(days[0].glob("*.parquet")))
    assert first.metadata.num_rows == rows - 5_000 and first.metadata.num_row_groups > 1
    names = first.read(columns=["dns_qname"]).column(0).to_pylist()
    assert names == sorted(names)  # the order the events came in
    second = pq.read_table(next(days[1].glob("*.parquet"))).column("dns_qname").to_pylist()
    assert len(second) == 5_000 and second == sorted(second)
    assert store.count(tmp_path) == rows
