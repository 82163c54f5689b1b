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


@pytest.fixture
def p2p_family(monkeypatch: pytest.MonkeyPatch) -> str:
    """A registered test family whose bots fall back to a peer-to-peer network."""
    from sinkhole import families
    from sinkhole.families import Channel, Family

    monkeypatch.setattr(families, "_registry", dict(families._registry))
    families.register(
        Family(
            name="p2p-lab",
            summary="test family with a p2p channel",
            channels=(
                Channel("static-domains", domains=("p2p-lab-cc.example",)),
                Channel("p2p", note="peers exchange C&C addresses; no names to seize"),
            ),
            references=("test",),
        )
    )
    return "p2p-lab"
