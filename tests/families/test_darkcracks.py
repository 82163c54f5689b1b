"""darkcracks: the published 100 days, the month that does not count, the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import darkcracks as reference

SAMPLE_START = dt.date(2024, 4, 3)


def _dga() -> BaseDga:
    dga = families.get("darkcracks").dga
    assert dga is not None
    return dga


def test_published_sample_100_days_from_2024_04_03() -> None:
    # baderj/domain_generation_algorithms darkcracks/example_domains.txt: one name a day for
    # 100 days from 2024-04-03, seed "Crackalackin'", in the bot's mixed case
    sample = read_sample("darkcracks_2024-04-03.txt")
    assert len(sample) == 100
    assert sample[0] == "sTDFUgOAgjL.com"
    dga = _dga()
    got = [dga.generate(SAMPLE_START + dt.timedelta(days=i))[0] for i in range(100)]
    assert got == [name.lower() for name in sample]


def test_the_month_does_not_count() -> None:
    dga = _dga()
    assert dga.generate(dt.date(2024, 4, 3)) == dga.generate(dt.date(2024, 11, 3))
    assert dga.generate(dt.date(2024, 4, 3)) != dga.generate(dt.date(2025, 4, 3))


def test_matches_reference_on_random_dates_and_seeds() -> None:
    dga = _dga()
    rng = random.Random(2024)
    for _ in range(300):
        date = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))
        assert dga.generate(date) == reference.generate(date), date
        assert dga.generate(date, seed="k3y") == reference.generate(date, seed="k3y"), date


@pytest.mark.parametrize("seed", ["", "clé"])
def test_bad_seed_is_refused(seed: str) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_START, seed=seed)
