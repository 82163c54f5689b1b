"""pykspa-v1: the published precursor list, the two-day periods, the reference."""

from __future__ import annotations

import datetime as dt
import random

from sinkhole import families
from sinkhole.dga import BaseDga
from tests.conftest import read_sample
from tests.reference_dga import pykspa_v1 as reference


def _dga() -> BaseDga:
    dga = families.get("pykspa-v1").dga
    assert dga is not None
    return dga


def test_published_list() -> None:
    # baderj/domain_generation_algorithms pykspa/precursor/example_domains.txt: 5000 names,
    # seed 8277 = two-day periods since 1970 on 2015-08-31 and 2015-09-01 (date search)
    expected = read_sample("pykspa-v1_2015-08-31.txt")
    assert len(expected) == 5000
    assert _dga().generate(dt.date(2015, 8, 31)) == expected
    assert _dga().generate(dt.date(2015, 9, 1)) == expected
    assert _dga().generate(dt.date(2015, 8, 30)) != expected
    assert reference.generate(dt.date(2015, 8, 31)) == expected


def test_two_day_periods_from_1970() -> None:
    dga = _dga()
    assert dga.period_start(dt.date(1970, 1, 2)) == dt.date(1970, 1, 1)
    assert dga.period_start(dt.date(2015, 9, 1)) == dt.date(2015, 8, 31)
    assert dga.period_start(dt.date(2015, 9, 2)) == dt.date(2015, 9, 2)


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(8277)
    for _ in range(6):
        day = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(5000))
        assert dga.generate(day, count=800) == reference.generate(day, count=800), day


def test_alias() -> None:
    assert families.get("pykspa-precursor").name == "pykspa-v1"
