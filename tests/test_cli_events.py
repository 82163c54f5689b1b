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
    http.append((T0 + 5, "127.2.0.1", "/cfg?id=1", b"\x00\x01bin", "megad-sim"))
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


def test_jsonl_with_limit_and_binary_as_hex(op_file: Path) -> None:
    result = run("events", str(op_file), "--application", "http", "--format", "jsonl")
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["payload_head"] == "000162696e"
    assert row["timestamp"].startswith("2026-12-01T12:00:00")
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
