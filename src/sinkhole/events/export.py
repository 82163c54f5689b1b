"""Event exports: CSV, JSON lines and Parquet, to a file or standard output.

Files are written 0600 (events hold victim addresses). CSV and JSON lines
carry the same text: timestamps in ISO 8601 UTC (``2026-12-01T12:00:00.000000Z``)
and payload heads as text with every byte that is not printable ASCII escaped
(``\\xNN``, ``\\r``, ``\\n``, ``\\t``, and ``\\\\`` for a backslash), so
``botid=12345&ver=2`` reads as itself; Parquet keeps the bytes and timestamps.
In CSV, a text cell that starts with ``= + - @``, a tab or a carriage return gets a
leading ``'``: user agents, URLs and names are the bots' (anyone's) text, and a
spreadsheet would run such a cell as a formula. JSON lines and Parquet keep it as sent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sinkhole.events import private
from sinkhole.exceptions import SinkholeError

FORMATS = ("csv", "jsonl", "parquet")
#: How a spreadsheet cell that runs as a formula starts (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_ESCAPES = {i: f"\\x{i:02x}" for i in range(256) if not 0x20 <= i < 0x7F}
_ESCAPES.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\"})


def escape_bytes(value: bytes) -> str:
    """Bytes as text: printable ASCII as itself, anything else escaped (reversible)."""
    if value.isascii():
        text = value.decode("ascii")
        if text.isprintable() and "\\" not in text:
            return text
    return value.decode("latin-1").translate(_ESCAPES)


def _iso_utc(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Timestamps as ISO 8601 text in UTC with a Z, microseconds always shown."""
    utc = column.cast(pa.timestamp("us", tz="UTC"))
    text = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%S")
    return pc.binary_join_element_wise(text, pa.scalar("Z"), pa.scalar(""))


def textual(table: pa.Table) -> pa.Table:
    """Binary columns as escaped text, timestamps as ISO 8601 UTC: what CSV and JSON carry."""
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            column = pa.chunked_array(
                [
                    pa.array(
                        [None if v is None else escape_bytes(v) for v in chunk.to_pylist()],
                        pa.string(),
                    )
                    for chunk in column.chunks
                ],
                pa.string(),
            )
        elif pa.types.is_timestamp(column.type):
            column = _iso_utc(column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def spreadsheet_safe(table: pa.Table) -> pa.Table:
    """Text cells that a spreadsheet would run as a formula, with a leading ' (CSV only)."""
    pattern = "^[" + "".join("\\" + c if c in "-\\" else c for c in FORMULA_STARTS) + "]"
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.fill_null(pc.match_substring_regex(column, pattern), False)
            if pc.any(risky).as_py():
                quoted = pc.binary_join_element_wise(pa.scalar("'"), column, pa.scalar(""))
                column = pc.if_else(risky, quoted, column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write(table: pa.Table, fmt: str, path: Path | None) -> int:
    """Write `table` as `fmt` to `path` (0600; stdout when None); returns the row count."""
    if fmt not in FORMATS:
        raise SinkholeError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "parquet" and path is None:
        raise SinkholeError("Parquet is written to a file, not to standard output")
    try:
        handle = sys.stdout.buffer if path is None else private.open_file(path)
        try:
            if fmt == "parquet":
                pq.write_table(table, handle, compression="zstd")
            elif fmt == "csv":
                pacsv.write_csv(spreadsheet_safe(textual(table)), handle)
            else:
                for batch in textual(table).to_batches(max_chunksize=10_000):
                    lines = [json.dumps(row, separators=(",", ":")) for row in batch.to_pylist()]
                    handle.write(("\n".join(lines) + "\n").encode() if lines else b"")
            handle.flush()
        finally:
            if path is not None:
                handle.close()
    except OSError as exc:
        raise SinkholeError(
            f"cannot write events to {path or 'stdout'}: {exc.strerror or exc}"
        ) from None
    rows: int = table.num_rows
    return rows
