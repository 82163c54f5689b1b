"""monerodownloader: the published 2500 names, the fixed leaders, the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import monerodownloader as reference

SAMPLE_DATE = dt.date(2020, 1, 12)


def _dga() -> BaseDga:
    dga = families.get("monerodownloader").dga
    assert dga is not None
    return dga


def test_published_sample_2020_01_12() -> None:
    # baderj/domain_generation_algorithms monerodownloader/example_domains.txt (2500 names)
    sample = read_sample("monerodownloader_2020-01-12.txt")
    assert len(sample) == 2500
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample


def test_the_first_five_names_are_the_same_every_day() -> None:
    dga = _dga()
    today, tomorrow = dga.generate(SAMPLE_DATE), dga.generate(SAMPLE_DATE + dt.timedelta(days=1))
    assert today[:5] == tomorrow[:5]
    assert today[0] == "31b4bd31fg1x2.org"
    assert not set(today[5:]) & set(tomorrow[5:])


def test_matches_reference_on_random_dates_and_params() -> None:
    dga = _dga()
    rng = random.Random(2020)
    for _ in range(20):
        date = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 70))
        assert dga.generate(date) == reference.generate(date), date
    date = dt.date(2021, 3, 3)
    assert dga.generate(date, magic="m", first="abc") == reference.generate(
        date, magic="m", first="abc"
    )


@pytest.mark.parametrize(("name", "value"), [("magic", "é"), ("first", "a.b"), ("first", "")])
def test_bad_params_are_refused(name: str, value: str) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, **{name: value})
