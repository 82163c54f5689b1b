"""nymaim2: the published list, the ten days back, New Year, the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import nymaim2 as reference

SAMPLE_DATE = dt.date(2018, 4, 29)


def _dga() -> BaseDga:
    dga = families.get("nymaim2").dga
    assert dga is not None
    return dga


def test_published_list() -> None:
    # baderj/domain_generation_algorithms nymaim2/example_domains.txt: 704 names,
    # 2018-04-29 found by date search (the day the list was published)
    expected = read_sample("nymaim2_2018-04-29.txt")
    assert len(expected) == 704
    assert _dga().generate(SAMPLE_DATE) == expected
    assert reference.generate(SAMPLE_DATE) == expected


def test_each_day_repeats_the_ten_before() -> None:
    dga = _dga()
    today = dga.generate(SAMPLE_DATE)
    tomorrow = dga.generate(SAMPLE_DATE + dt.timedelta(days=1))
    # tomorrow's offsets 1..10 are today's offsets 0..9
    assert tomorrow[64:] == today[: 64 * 10]
    assert tomorrow[:64] != today[:64]


def test_new_year_does_not_wrap() -> None:
    # on 2 January the day numbers run 1, 0, -1, ... -9 of the same two-digit year,
    # not into December of the year before
    dga = _dga()
    jan2 = dga.generate(dt.date(2019, 1, 2))
    dec31 = dga.generate(dt.date(2018, 12, 31))
    assert not set(jan2[128:]) & set(dec31)
    assert jan2 == reference.generate(dt.date(2019, 1, 2))


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2018)
    for _ in range(10):
        day = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(5000))
        assert dga.generate(day) == reference.generate(day), day


def test_days_together_equal_days_alone() -> None:
    dga = _dga()
    keys = [SAMPLE_DATE + dt.timedelta(days=k) for k in range(14)]
    params = dga.params()
    assert dga.domains_for_keys(keys, params) == [dga.domains_for(k, params) for k in keys]


def test_other_seed() -> None:
    dga = _dga()
    other = dga.generate(SAMPLE_DATE, seed="0123456789ABCDEF0123456789ABCDEF")
    assert other == reference.generate(SAMPLE_DATE, seed="0123456789ABCDEF0123456789ABCDEF")
    assert not set(other) & set(dga.generate(SAMPLE_DATE))


def test_bad_seed_is_refused() -> None:
    with pytest.raises(DgaError, match="seed"):
        _dga().generate(SAMPLE_DATE, seed="")
