"""Event exports: CSV, JSON lines and Parquet, to a file or standard output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sinkhole.exceptions import SinkholeError

FORMATS = ("csv", "jsonl", "parquet")


def _textual(table: pa.Table) -> pa.Table:
    """Binary columns as hex, timestamps as ISO text: what CSV and JSON readers expect."""
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_binary(column.type):
            column = pa.array(
                [None if v is None else v.hex() for v in column.to_pylist()], pa.string()
            )
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write(table: pa.Table, fmt: str, path: Path | None) -> int:
    """Write `table` as `fmt` to `path` (stdout when None); returns the row count."""
    try:
        if fmt == "parquet":
            assert path is not None
            pq.write_table(table, path, compression="zstd")
        elif fmt == "csv":
            data = _textual(table)
            if path is None:
                sink = pa.BufferOutputStream()
                pacsv.write_csv(data, sink)
                sys.stdout.write(sink.getvalue().to_pybytes().decode())
            else:
                pacsv.write_csv(data, str(path))
        else:
            handle = sys.stdout if path is None else path.open("w")
            try:
                for row in _textual(table).to_pylist():
                    stamp = row.get("timestamp")
                    if stamp is not None:
                        row["timestamp"] = stamp.isoformat()
                    handle.write(json.dumps(row, separators=(",", ":")) + "\n")
            finally:
                if path is not None:
                    handle.close()
    except OSError as exc:
        raise SinkholeError(
            f"cannot write events to {path or 'stdout'}: {exc.strerror or exc}"
        ) from None
    rows: int = table.num_rows
    return rows
