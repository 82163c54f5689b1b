"""Exports: payload heads as readable, reversible text; one timestamp format."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sinkhole.events import export
from sinkhole.events.schema import SCHEMA


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"botid=12345&ver=2", "botid=12345&ver=2"),
        (b"GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\\r\\nHost: a\\r\\n"),
        (b"\x00\x01\xff\t", "\\x00\\x01\\xff\\t"),
        (b"C:\\x41", "C:\\\\x41"),  # a real backslash stays distinguishable from an escape
        ("é".encode(), "\\xc3\\xa9"),
        (b"", ""),
    ],
)
def test_payload_text(raw: bytes, text: str) -> None:
    assert export.escape_bytes(raw) == text


def test_every_byte_string_comes_back_from_its_text() -> None:
    rng = random.Random(11)
    samples = [bytes(range(256)), *(rng.randbytes(rng.randrange(64)) for _ in range(500))]
    for raw in samples:
        text = export.escape_bytes(raw)
        assert text.isascii() and text.isprintable()
        assert codecs.escape_decode(text.encode("ascii"))[0] == raw


def _table() -> pa.Table:
    stamp = dt.datetime(2026, 12, 1, 23, 59, 59, 120000, tzinfo=dt.UTC)
    rows = {"timestamp": [stamp], "src_ip": ["127.0.0.1"], "payload_head": [b"id=1\x00"]}
    return pa.table([pa.array(rows.get(f.name, [None]), f.type) for f in SCHEMA], schema=SCHEMA)


def test_csv_jsonl_share_text_and_parquet_keeps_bytes(tmp_path: Path) -> None:
    table = _table()
    for fmt in export.FORMATS:
        assert export.write(table, fmt, tmp_path / f"e.{fmt}") == 1
    [line] = (tmp_path / "e.jsonl").read_text().splitlines()
    row = json.loads(line)
    assert row["timestamp"] == "2026-12-01T23:59:59.120000Z"
    assert row["payload_head"] == "id=1\\x00"
    csv_text = (tmp_path / "e.csv").read_text()
    assert '"2026-12-01T23:59:59.120000Z"' in csv_text and '"id=1\\x00"' in csv_text
    back = pq.read_table(tmp_path / "e.parquet")
    assert back.column("payload_head").to_pylist() == [b"id=1\x00"]
    assert back.schema.field("timestamp").type == SCHEMA.field("timestamp").type


def test_unwritable_export_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(export.SinkholeError, match="cannot write events to"):
        export.write(_table(), "csv", tmp_path / "missing" / "e.csv")


def test_csv_keeps_the_bots_text_from_running_as_a_formula(tmp_path: Path) -> None:
    """A user agent or URL is anyone's text: in CSV a cell starting with = + - @ (or a
    tab or CR) is quoted with ' so a spreadsheet shows it; JSON lines keep it as sent."""
    import csv

    stamp = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    agents = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tTAB", "Mozilla/5.0"]
    rows = {"timestamp": [stamp] * 6, "src_ip": ["127.0.0.1"] * 6, "http_agent": agents,
            "payload_head": [b"=1+2"] * 6}  # fmt: skip
    table = pa.table(
        [pa.array(rows.get(f.name, [None] * 6), f.type) for f in SCHEMA], schema=SCHEMA
    )
    export.write(table, "csv", tmp_path / "e.csv")
    export.write(table, "jsonl", tmp_path / "e.jsonl")
    with open(tmp_path / "e.csv", newline="") as handle:
        got = list(csv.DictReader(handle))
    assert [r["http_agent"] for r in got] == ["'" + a for a in agents[:5]] + ["Mozilla/5.0"]
    assert {r["payload_head"] for r in got} == {"'=1+2"}
    assert {r["src_ip"] for r in got} == {"127.0.0.1"}
    sent = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [r["http_agent"] for r in sent] == agents
