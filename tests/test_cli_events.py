"""`sinkhole events` and `sinkhole stats` over a real store."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sinkhole.events.writer import EventWriter

OP = '[operation]\nname = "x"\nstart = 2026-12-01\nhold_days = 3\n[[targets]]\nfamily = "megad-sim"\n[data]\ndir = "store"\n'
T0 = int(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC).timestamp() * 1_000_000)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sinkhole", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "160"})  # fmt: skip


@pytest.fixture
def op_file(tmp_path: Path) -> Path:
    path = tmp_path / "op.toml"
    path.write_text(OP)
    w = EventWriter(tmp_path / "store", "s1")
    dns = w.buffer(
        ("timestamp", "src_ip", "dns_qname", "family"), application="dns", protocol="udp"
    )
    http = w.buffer(
        ("timestamp", "src_ip", "http_url", "payload_head", "family"), application="http"
    )
    for i in range(10):
        dns.append(
            (
                T0 + i * 3_600_000_000,
                f"127.1.0.{i}",
                f"q{i}.example",
                "megad-sim" if i % 2 else None,
            )
        )
    http.append((T0 + 5, "127.2.0.1", "/cfg?id=1", b"botid=12345&ver=2\r\n\x00\xff", "megad-sim"))
    w.close()
    return path


def test_csv_default_and_filters(op_file: Path) -> None:
    result = run("events", str(op_file), "--family", "megad-sim", "--since", "2026-12-01T13:00")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["dns_qname"] for r in rows] == [
        "q1.example",
        "q3.example",
        "q5.example",
        "q7.example",
        "q9.example",
    ]
    assert rows[0]["src_ip"] == "127.1.0.1"


def test_jsonl_with_limit_payload_as_escaped_text(op_file: Path) -> None:
    result = run("events", str(op_file), "--application", "http", "--format", "jsonl")
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["payload_head"] == "botid=12345&ver=2\\r\\n\\x00\\xff"
    assert row["timestamp"] == "2026-12-01T12:00:00.000005Z"
    limited = run("events", str(op_file), "--limit", "3", "--format", "jsonl")
    assert len(limited.stdout.splitlines()) == 3


def test_parquet_export(op_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    result = run(
        "events",
        str(op_file),
        "--format",
        "parquet",
        "--out",
        str(out),
        "--until",
        "2026-12-01T14:00",
    )
    assert result.returncode == 0, result.stderr
    assert pq.read_table(out).num_rows == 3  # 12:00 dns, 12:00 http, 13:00 dns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format 'xml': expected one of csv, jsonl, parquet"),
        (["--format", "parquet"], "--format parquet needs --out FILE"),
        (["--since", "last tuesday"], "--since 'last tuesday': expected an ISO date"),
        (["--data", "/nonexistent/store"], "no event store at /nonexistent/store"),
        (["--application", "smtp"], "--application 'smtp': expected one of dns, http, tls, raw"),
        (["--src-ip", "999.1.1.1"], "--src-ip '999.1.1.1': expected an IPv4 or IPv6 address"),
        (["--family", "nosuch"], "--family 'nosuch': unknown, and the store holds no event"),
        (
            ["--since", "2026-12-02", "--until", "2026-12-01"],
            "--since 2026-12-02T00:00:00+00:00 is not before --until",
        ),
    ],
)
def test_bad_arguments_are_one_line(op_file: Path, args: list[str], message: str) -> None:
    result = run("events", str(op_file), *args)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"sinkhole: error: {message}")


def test_stats_reports_store_and_sensors(op_file: Path) -> None:
    result = run("stats", str(op_file), "--json", "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["store"]["events"] == 11
    assert report["store"]["unique_src_ips"] == 11
    assert report["store"]["per_application"] == {"dns": 10, "http": 1}
    [sensor] = report["sensors"]
    assert (sensor["sensor"], sensor["state"], sensor["durable"], sensor["dropped"]) == (
        "s1",
        "stopped",
        11,
        0,
    )


def test_csv_and_jsonl_carry_the_same_text(op_file: Path) -> None:
    csv_out = run("events", str(op_file), "--application", "http")
    jsonl_out = run("events", str(op_file), "--application", "http", "--format", "jsonl")
    [csv_row] = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    [json_row] = [json.loads(line) for line in jsonl_out.stdout.splitlines()]
    for column in ("timestamp", "payload_head", "src_ip", "http_url"):
        assert csv_row[column] == json_row[column], column
    assert csv_row["timestamp"] == "2026-12-01T12:00:00.000005Z"
    assert csv_row["payload_head"].startswith("botid=12345&ver=2")


def test_no_match_says_what_the_store_holds(op_file: Path, tmp_path: Path) -> None:
    result = run("events", str(op_file), "--since", "2027-01-01", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "sinkhole: no events match; the store holds 11 events on 2026-12-01 (UTC); "
        "applications: dns, http; families: (none), megad-sim"
    ]
    (tmp_path / "empty").mkdir()
    empty = run("events", str(op_file), "--data", str(tmp_path / "empty"))
    assert empty.returncode == 0
    assert empty.stderr.splitlines() == ["sinkhole: no events match; the store holds no events yet"]


def test_a_family_known_only_to_the_store_is_accepted(op_file: Path) -> None:
    w = EventWriter(op_file.parent / "store", "s2")
    w.buffer(("timestamp", "family"), application="raw").append((T0, "plugin-family"))
    w.close()
    result = run("events", str(op_file), "--family", "plugin-family", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["family"] for line in result.stdout.splitlines()] == ["plugin-family"]


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_exports_are_private(op_file: Path, tmp_path: Path, fmt: str) -> None:
    fresh, existing = tmp_path / f"new.{fmt}", tmp_path / f"old.{fmt}"
    existing.write_text("an older export, readable by all")
    existing.chmod(0o644)
    old_umask = os.umask(0o022)
    try:
        for target in (fresh, existing):
            result = run("events", str(op_file), "--format", fmt, "--out", str(target))
            assert result.returncode == 0, result.stderr
            assert _mode(target) == 0o600, target
    finally:
        os.umask(old_umask)
    assert existing.stat().st_size > 100  # rewritten, not appended to


def test_a_bad_segment_is_one_line_and_the_rest_is_read(op_file: Path) -> None:
    root = op_file.parent / "store"
    w = EventWriter(root, "s2")
    w.buffer(("timestamp", "src_ip"), application="raw").append((T0, "127.9.9.9"))
    w.close()
    [bad] = root.glob("events/day=*/s2-*.parquet")
    bad.write_bytes(bad.read_bytes()[:100])  # cut short, as by a full disk or a bad copy
    result = run("events", str(op_file), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 11
    [line] = result.stderr.splitlines()
    assert bad.name in line and "quarantine" in line
    assert (root / "quarantine" / bad.relative_to(root)).stat().st_size == 100
    stats = run("stats", str(op_file), "--interval", "0.2")
    assert stats.returncode == 0, stats.stderr
    assert "Traceback" not in stats.stderr
    assert "unreadable files in quarantine: 1" in stats.stdout
    report = json.loads(run("stats", str(op_file), "--json", "--interval", "0.2").stdout)
    assert report["store"]["quarantined"] == 1


def test_stats_table_has_the_listener_counters(tmp_path: Path) -> None:
    op = tmp_path / "op.toml"
    op.write_text(OP)
    w = EventWriter(tmp_path / "store", "s1")
    w.counters_source = lambda: {
        "dns": {"queries": 9, "refused": 3, "malformed": 2, "rate_limited": 7, "dga_unplanned": 4},
        "http": {"requests": 5, "malformed": 1, "connections_refused": 2},
    }
    w.buffer(("timestamp",), application="dns").append((T0,))
    w.close()
    report = json.loads(run("stats", str(op), "--json", "--interval", "0.2").stdout)
    [sensor] = report["sensors"]
    assert sensor["counters"] == {
        "refused": 5,
        "malformed": 3,
        "rate_limited": 7,
        "dga_unplanned": 4,
    }
    table = run("stats", str(op), "--interval", "0.2").stdout
    header = next(line for line in table.splitlines() if "sensor" in line)
    cells = [c.strip() for c in header.strip("┃│ ").replace("┃", "│").split("│")]
    assert cells[5:9] == ["refused", "malformed", "rate-limited", "dga-unplanned"]
    row = next(line for line in table.splitlines() if "s1" in line)
    values = [c.strip() for c in row.strip("│ ").split("│")]
    assert values[5:9] == ["5", "3", "7", "4"]


def test_stats_skips_files_that_are_not_sensor_stats(op_file: Path) -> None:
    folder = op_file.parent / "store" / "stats"
    (folder / "cut.json").write_text('{"sensor": "s9", "accep')
    (folder / "other.json").write_text('{"sensor": "s8"}')
    (folder / "list.json").write_text("[1, 2]")
    result = run("stats", str(op_file), "--json", "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    assert [s["sensor"] for s in json.loads(result.stdout)["sensors"]] == ["s1"]


def test_since_accepts_ages_and_today(tmp_path: Path) -> None:
    """Live events carry today's date: `--since 1h` and `--since today` find them."""
    path = tmp_path / "op.toml"
    path.write_text(OP)
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1_000_000)
    w = EventWriter(tmp_path / "store", "s1")
    dns = w.buffer(("timestamp", "src_ip", "dns_qname"), application="dns", protocol="udp")
    dns.append((now - 3 * 3_600_000_000, "127.1.0.1", "old.example"))  # three hours ago
    dns.append((now - 60_000_000, "127.1.0.2", "new.example"))  # a minute ago
    w.close()
    recent = run("events", str(path), "--since", "1h", "--format", "jsonl")
    assert recent.returncode == 0, recent.stderr
    assert [json.loads(line)["dns_qname"] for line in recent.stdout.splitlines()] == ["new.example"]
    both = run("events", str(path), "--since", "4h", "--until", "0m")
    assert both.returncode == 0, both.stderr
    assert {r["dns_qname"] for r in csv.DictReader(io.StringIO(both.stdout))} == {
        "old.example",
        "new.example",
    }
    for wrong in ("5y", "\u00b2h"):  # an unknown unit; a digit that is not ASCII
        bad = run("events", str(path), "--since", wrong)
        assert bad.returncode == 2
        assert bad.stderr.count("\n") == 1 and "30m, 2h, 7d" in bad.stderr
