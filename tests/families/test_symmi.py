"""symmi: the published list, half-month periods, the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import symmi as reference

SAMPLE_DATE = dt.date(2015, 8, 16)


def _dga() -> BaseDga:
    dga = families.get("symmi").dga
    assert dga is not None
    return dga


def test_published_sample_2015_08_16() -> None:
    # baderj/domain_generation_algorithms symmi/example_domains.txt (64 names, days 16-31)
    sample = read_sample("symmi_2015-08-16.txt")
    assert len(sample) == 64
    assert _dga().generate(SAMPLE_DATE) == sample
    assert _dga().generate(dt.date(2015, 8, 31)) == sample
    assert _dga().generate(dt.date(2015, 8, 15)) != sample
    assert reference.generate(SAMPLE_DATE) == sample


def test_half_month_periods() -> None:
    dga = _dga()
    assert dga.period_start(dt.date(2016, 2, 15)) == dt.date(2016, 2, 1)
    assert dga.period_start(dt.date(2016, 2, 29)) == dt.date(2016, 2, 16)
    assert dga.generate(dt.date(2016, 2, 1)) == dga.generate(dt.date(2016, 2, 15))
    assert dga.generate(dt.date(2016, 2, 29)) != dga.generate(dt.date(2016, 3, 1))


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2015)
    for _ in range(200):
        date = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))
        assert dga.generate(date) == reference.generate(date), date
    assert dga.generate(SAMPLE_DATE, suffix="example.org") == reference.generate(
        SAMPLE_DATE, suffix="example.org"
    )


@pytest.mark.parametrize("suffix", ["", "DDNS.net", "ddns..net", "net"])
def test_bad_suffix_is_refused(suffix: str) -> None:
    with pytest.raises(DgaError, match="suffix"):
        _dga().generate(SAMPLE_DATE, suffix=suffix)
