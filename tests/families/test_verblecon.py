"""verblecon: the published name, the daily period and the seed string."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import verblecon as reference

SAMPLE_DATE = dt.date(2022, 7, 14)


def _dga() -> BaseDga:
    dga = families.get("verblecon").dga
    assert dga is not None
    return dga


def test_published_sample_2022_07_14() -> None:
    # baderj/domain_generation_algorithms verblecon/example_domains.txt, seed "verble"
    sample = read_sample("verblecon_2022-07-14.txt")
    assert sample == ["fd0ee78d1dbf4957b04cc6eb65feb97d.tk"]
    assert _dga().generate(SAMPLE_DATE) == sample
    assert _dga().generate(SAMPLE_DATE - dt.timedelta(days=1)) != sample


def test_matches_reference_on_random_dates_and_seeds() -> None:
    dga = _dga()
    rng = random.Random(2022)
    for _ in range(300):
        date = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(365 * 40))
        assert dga.generate(date) == reference.generate(date), date
        assert dga.generate(date, seed="x7") == reference.generate(date, seed="x7"), date
    low, high = dga.bounds
    assert dga.generate(low) == reference.generate(low)
    assert dga.generate(high) == reference.generate(high)


def test_non_ascii_seed_is_refused() -> None:
    with pytest.raises(DgaError, match="not ASCII"):
        _dga().generate(SAMPLE_DATE, seed="vérble")
