"""An attribution written out as CSV or JSON lines, built column-wise in Arrow.

Strings are escaped once per distinct value (there are few AS names and
contacts next to a million addresses), then joined row-wise in Arrow compute,
so no Python code runs per address but the final join of lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from sinkhole.attribution import Attribution

#: Rows written per batch: bounds memory for very long inputs.
BATCH = 262_144


def write(found: Attribution, stream: BinaryIO, as_json: bool = False) -> None:
    """CSV with a header (or JSON lines), one row per address, in input order."""
    table = found.table
    if not as_json:
        stream.write(",".join(table.column_names).encode() + b"\n")
    for batch in table.to_batches(max_chunksize=BATCH):
        chunk = pa.Table.from_batches([batch])
        lines = json_lines(chunk) if as_json else csv_lines(chunk)
        _write_joined(pc.binary_join_element_wise(lines, "\n", ""), stream)


def _write_joined(lines: pa.Array, stream: BinaryIO) -> None:
    """Write the strings back to back, straight from the Arrow data buffer."""
    if not len(lines):
        return
    lines = lines.cast(pa.large_string())  # 64-bit offsets: a chunk may pass 2 GiB
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    stream.write(memoryview(lines.buffers()[2])[first:last])


def csv_lines(table: pa.Table) -> pa.Array:
    """One CSV row per table row (quoted only where a value needs it), no header."""
    parts: list[pa.Array | str] = []
    for index, name in enumerate(table.column_names):
        if index:
            parts.append(",")
        parts.append(_text(table.column(name).combine_chunks(), _csv_field, ""))
    joined: pa.Array = pc.binary_join_element_wise(*parts, "")
    return joined


def json_lines(table: pa.Table) -> pa.Array:
    """One JSON object per row, as text."""
    parts: list[pa.Array | str] = []
    for index, name in enumerate(table.column_names):
        parts.append(("{" if index == 0 else ", ") + json.dumps(name) + ": ")
        parts.append(_text(table.column(name).combine_chunks(), json.dumps, "null"))
    parts.append("}")
    joined: pa.Array = pc.binary_join_element_wise(*parts, "")
    return joined


def _text(column: pa.Array, escape: Callable[[str], str], null: str) -> pa.Array:
    if pa.types.is_integer(column.type):
        return pc.fill_null(pc.cast(column, pa.string()), null)
    if not pa.types.is_dictionary(column.type):
        # the addresses: validated, so nothing in them needs escaping but JSON's quotes
        quote = escape("")[:1]
        return pc.binary_join_element_wise(quote, column, quote, "") if quote else column
    escaped = pa.array([escape(v) for v in column.dictionary.to_pylist()], pa.string())
    return pc.fill_null(pc.take(escaped, column.indices), null)


_NEEDS_QUOTES = re.compile(r'[,"\r\n]|^\s|\s$')


def _csv_field(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value
