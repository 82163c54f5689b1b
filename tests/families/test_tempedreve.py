"""tempedreve: the published walk back to 2015-03-23, the kept year, the reference."""

from __future__ import annotations

import datetime as dt
import random

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.families.tempedreve import START
from tests.conftest import read_sample
from tests.reference_dga import tempedreve as reference

SAMPLE_DATE = dt.date(2020, 1, 1)


def _dga() -> BaseDga:
    dga = families.get("tempedreve").dga
    assert dga is not None
    return dga


def test_published_sample_2020_01_01() -> None:
    # baderj/domain_generation_algorithms tempedreve/example_domains.txt: on 2020-01-01 the
    # bot walks back to 2015-03-23, one name a day (1746 names, newest first)
    sample = read_sample("tempedreve_2020-01-01.txt")
    assert len(sample) == (SAMPLE_DATE - START).days + 1 == 1746
    dga = _dga()
    params = dga.params()
    walked = [
        name
        for back in range(len(sample))
        for name in dga.domains_for(SAMPLE_DATE - dt.timedelta(days=back), params)
    ]
    assert walked == sample
    # the model's list for the day: the newest 365 of them
    assert dga.generate(SAMPLE_DATE) == sample[:365]


def test_a_name_is_planned_for_a_year() -> None:
    dga = _dga()
    day = dt.date(2016, 5, 5)
    spans = dga.key_spans(day, day + dt.timedelta(days=400))
    assert spans[day] == (day, day + dt.timedelta(days=364))


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2017)
    for _ in range(10):
        date = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 70))
        assert dga.generate(date) == reference.generate(date), date
