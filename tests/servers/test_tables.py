"""The plan's tables and their handover file: what a worker takes in is what the parent computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinkhole import operation
from sinkhole.servers import tables

OP = """\
[operation]
name = "tables"
start = 2026-01-01
hold_days = 20

[[targets]]
family = "megad-sim"
static_domains = ["extra.example"]

[[targets]]
family = "pushdo"
"""


def test_handover_file_gives_back_the_same_tables_a_slice_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed = tables.compute(operation.loads(OP))
    assert computed.table.names[b"extra.example"] == ("megad-sim", "static-domains")
    assert computed.table.suspects  # DGA names of the margin around the window
    path = tmp_path / "plan.table"
    tables.write(computed, path)
    assert path.stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(tables, "STEP_BYTES", 512)  # many slices, cut inside names
    reader = tables.TableReader(path)
    steps = 1
    while not reader.step():
        steps += 1
    assert steps > 10
    loaded = reader.tables()
    assert loaded.table.names == computed.table.names
    assert loaded.table.suspects == computed.table.suspects
    assert loaded.op == computed.op
    assert loaded.records == computed.records


def test_a_damaged_handover_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.table"
    tables.write(tables.compute(operation.loads(OP)), path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-40])
    reader = tables.TableReader(path)
    with pytest.raises(tables.TableError, match="cut short"):
        while not reader.step():
            pass
    path.write_bytes(b"not a table at all")
    with pytest.raises(tables.TableError, match="not a name table"):
        tables.TableReader(path)
    with pytest.raises(tables.TableError, match="cannot read"):
        tables.TableReader(tmp_path / "missing.table")
