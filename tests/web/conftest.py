"""An emulator store shared by the dashboard tests (made once, offline, small)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pytest

from sinkhole import emulate, operation, plan
from sinkhole.events.writer import EventWriter

#: Three days: long enough for a point estimate of distinct machines (not only bounds).
MACHINES = 300
DAYS = 3.0


@dataclass(frozen=True)
class Store:
    """The lab operation file and an emulator store under a private tmp folder."""

    operation: Path
    data: Path
    truth: emulate.Truth


@pytest.fixture(scope="session")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The megad-sim lab operation and 300 emulated machines over three days, offline."""
    folder = tmp_path_factory.mktemp("dashboard")
    op_path = folder / "megad-sim.toml"
    op_path.write_text(files("sinkhole").joinpath("data/megad-sim.toml").read_text())
    op = operation.load(op_path)
    data = folder / "store"
    writer = EventWriter(data, "emulator")
    settings = emulate.Settings(machines=MACHINES, days=DAYS, seed=11)
    truth = emulate.offline(op, plan.compute(op), settings, writer)
    writer.close()
    return Store(op_path, data, truth)


@pytest.fixture
def store_copy(emulated: Store, tmp_path: Path) -> Store:
    """A copy of the emulator store the test may add events to."""
    data = tmp_path / "store"
    shutil.copytree(emulated.data, data)
    data.chmod(0o700)
    return Store(emulated.operation, data, emulated.truth)
