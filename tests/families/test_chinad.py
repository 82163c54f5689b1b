"""chinad: the published day, daily periods and the reference over random dates."""

from __future__ import annotations

import datetime as dt
import random

from sinkhole import families
from sinkhole.dga import BaseDga
from tests.conftest import read_sample
from tests.reference_dga import chinad as reference

SAMPLE_DATE = dt.date(2017, 1, 13)


def _dga() -> BaseDga:
    dga = families.get("chinad").dga
    assert dga is not None
    return dga


def test_published_sample_2017_01_13() -> None:
    # baderj/domain_generation_algorithms chinad/example_domains.txt: 256 names of
    # 2017-01-13 (recovered by date search; tests/data/README.md).
    sample = read_sample("chinad_2017-01-13.txt")
    assert len(sample) == 256
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample
    assert _dga().generate(SAMPLE_DATE + dt.timedelta(days=1)) != sample
    # the year enters modulo 100: a century later gives the same list
    assert _dga().generate(dt.date(2117, 1, 13)) == sample


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2017)
    for _ in range(40):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga.period_start(date) == date
        assert dga.generate(date) == reference.generate(date), date


def test_names_are_16_alphanumerics_under_seven_tlds() -> None:
    domains = _dga().generate(dt.date(2026, 12, 7))
    labels = [d.split(".")[0] for d in domains]
    assert all(len(label) == 16 and label.isalnum() and label.islower() for label in labels)
    assert {d.split(".")[1] for d in domains} == {"com", "org", "net", "biz", "info", "ru", "cn"}
    assert len(set(domains)) == 256
