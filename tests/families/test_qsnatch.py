"""qsnatch: both published moments, the day's blocks, the interval edges and the variants."""

from __future__ import annotations

import calendar
import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families import qsnatch
from tests.conftest import read_sample
from tests.reference_dga import qsnatch as reference

#: 2019-11-11 23:00 UTC (midnight in Bader's time zone): the README example's moment
SAMPLE_INSTANT = 1573513200


def _dga() -> BaseDga:
    dga = families.get("qsnatch").dga
    assert dga is not None
    return dga


def test_published_variant_a_moment() -> None:
    # baderj/domain_generation_algorithms qsnatch/example_domains_a.txt: 2610 names at
    # 2019-11-11 23:00 UTC (recovered by search; tests/data/README.md). 18 of them carry the
    # table's '.com.bn' entry as an empty label ("exaor..com.bn"): not resolvable, left out.
    sample = read_sample("qsnatch-a_2019-11-11T23.txt")
    assert len(sample) == 2610
    broken = [name for name in sample if ".." in name]
    assert len(broken) == 18 and all(name.endswith("..com.bn") for name in broken)
    valid = [name for name in sample if ".." not in name]
    assert qsnatch.domains_at(SAMPLE_INSTANT) == valid
    assert reference.at(SAMPLE_INSTANT) == valid
    # the day's list holds the moment's blocks, the hourly one as the day's 24th
    day = _dga().generate(dt.date(2019, 11, 11))
    assert day[:1296] == valid[:1296]  # 15-day, 5-day and 1-day blocks
    assert day[-432:] == valid[-432:]  # the 1-hour block of 23:00


def test_published_variant_b_period() -> None:
    # qsnatch/example_domains_b.txt: 150 names of the 15-day interval from 2019-11-10
    sample = read_sample("qsnatch-b_2019-11-10.txt")
    assert len(sample) == 150
    assert qsnatch.domains_at(SAMPLE_INSTANT, "b") == sample
    for day in (dt.date(2019, 11, 10), dt.date(2019, 11, 24)):
        assert _dga().generate(day, variant="b") == sample
    assert _dga().generate(dt.date(2019, 11, 9), variant="b") != sample
    assert _dga().generate(dt.date(2019, 11, 25), variant="b") != sample


def test_day_matches_reference_on_random_dates() -> None:
    rng = random.Random(2019)
    for _ in range(4):
        date = dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(365 * 8))
        assert _dga().generate(date) == reference.generate(date), date
        assert _dga().generate(date, variant="b") == reference.generate(date, "b"), date


def test_a_day_has_42_blocks_and_the_moment_inside_it() -> None:
    date = dt.date(2024, 2, 29)
    day = _dga().generate(date)
    assert len(day) == 42 * 432 == _dga().info.per_day
    midnight = calendar.timegm(date.timetuple())
    moment = set(qsnatch.domains_at(midnight + 13 * 3600 + 1234))
    assert moment <= set(day)
    assert not moment <= set(_dga().generate(date + dt.timedelta(days=1)))


def test_unknown_variant() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(dt.date(2019, 11, 11), variant="c")
