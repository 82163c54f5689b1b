"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """The folder of shipped test fixtures."""
    return DATA


def read_sample(name: str) -> list[str]:
    """One published DGA sample list from tests/data/dga_samples."""
    text = (DATA / "dga_samples" / name).read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]
