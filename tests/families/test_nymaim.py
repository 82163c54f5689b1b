"""nymaim: the published list, dates that share a seed, the reference."""

from __future__ import annotations

import datetime as dt
import random

from sinkhole import families
from sinkhole.dga import BaseDga
from tests.conftest import read_sample
from tests.reference_dga import nymaim as reference


def _dga() -> BaseDga:
    dga = families.get("nymaim").dga
    assert dga is not None
    return dga


def test_published_list() -> None:
    # baderj/domain_generation_algorithms nymaim/example_domains.txt: 128 names; the first
    # date from 2012 on that reproduces it is 2018-02-24 (date search)
    expected = read_sample("nymaim_2018-02-24.txt")
    assert len(expected) == 128
    assert _dga().generate(dt.date(2018, 2, 24)) == expected
    assert reference.generate(dt.date(2018, 2, 24)) == expected


def test_dates_with_the_same_sum_share_a_list() -> None:
    # year + weekday + (month + day) << 16: both Saturdays of 2018 with month + day = 26
    dga = _dga()
    assert dga.generate(dt.date(2018, 8, 18)) == dga.generate(dt.date(2018, 2, 24))
    assert dga.generate(dt.date(2018, 2, 25)) != dga.generate(dt.date(2018, 2, 24))


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2014)
    for _ in range(100):
        day = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(10000))
        assert dga.generate(day) == reference.generate(day), day
