"""murofet-v1: the published sample, the day // 7 buckets and the TLD rule."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import murofet_v1 as reference

SAMPLE_DATE = dt.date(2015, 9, 1)


def _dga() -> BaseDga:
    dga = families.get("murofet-v1").dga
    assert dga is not None
    return dga


def test_channels_dga_only() -> None:
    family = families.get("murofet-v1")
    assert [c.kind for c in family.channels] == ["dga"]
    assert not family.synthetic


def test_published_sample_2015_09_01() -> None:
    # baderj/domain_generation_algorithms murofet/v1/example_domains.txt: the first 1000 of
    # the 1020 names for 2015-09-01 (tests/data/dga_samples/README.md).
    sample = read_sample("murofet-v1_2015-09-01_first1000.txt")
    assert len(sample) == 1000
    domains = _dga().generate(SAMPLE_DATE)
    assert len(domains) == 1020
    assert domains[:1000] == sample
    assert reference.generate(SAMPLE_DATE)[:1000] == sample


def test_whole_first_bucket_gives_the_sample() -> None:
    # day // 7 * 7 == 0 for days 1-6: all of 1-6 September 2015 use the sample's list
    dga = _dga()
    sample = read_sample("murofet-v1_2015-09-01_first1000.txt")
    for day in range(1, 7):
        assert dga.generate(dt.date(2015, 9, day))[:1000] == sample
    assert dga.generate(dt.date(2015, 9, 7))[:1000] != sample
    assert dga.generate(dt.date(2015, 8, 31))[:1000] != sample


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(20150901)
    for _ in range(50):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga.generate(date) == reference.generate(date), date


def test_matches_reference_every_day_across_bucket_and_month_ends() -> None:
    # late Feb to early Mar of a leap year, and the year-byte wrap ((2000 & 0xFF) + 0x30 = 0x100)
    dga = _dga()
    for start, length in ((dt.date(2024, 2, 19), 20), (dt.date(1999, 12, 26), 10)):
        for offset in range(length):
            date = start + dt.timedelta(days=offset)
            assert dga.generate(date) == reference.generate(date), date


def test_period_start_is_the_first_day_of_the_bucket() -> None:
    dga = _dga()
    starts = {1: 1, 6: 1, 7: 7, 13: 7, 14: 14, 20: 14, 21: 21, 27: 21, 28: 28, 31: 28}
    for day, start in starts.items():
        assert dga.period_start(dt.date(2021, 1, day)) == dt.date(2021, 1, start)
    assert dga.period_start(dt.date(2021, 2, 28)) == dt.date(2021, 2, 28)


def test_bucket_boundaries() -> None:
    dga = _dga()
    month = [dga.generate(dt.date(2026, 3, day)) for day in range(1, 32)]
    buckets = ((1, 6), (7, 13), (14, 20), (21, 27), (28, 31))
    for first, last in buckets:
        for day in range(first, last + 1):
            assert month[day - 1] == month[first - 1], day
    for _, last in buckets[:-1]:
        assert month[last - 1] != month[last]  # last day of a bucket vs first of the next
    assert dga.generate(dt.date(2026, 4, 1)) != month[30]


def test_tld_rule_and_labels() -> None:
    domains = _dga().generate(dt.date(2030, 6, 15))
    # the first TLD (ru biz info org net com) whose position from the end divides the index
    expected = ["ru", "com", "net", "org", "info", "biz", "ru", "com", "info"]
    assert [d.rsplit(".", 1)[1] for d in domains[:9]] == expected
    assert all(d.split(".")[0].isalpha() and d.split(".")[0].islower() for d in domains)


def test_has_no_parameters() -> None:
    with pytest.raises(DgaError, match="no parameter 'key'"):
        _dga().generate(SAMPLE_DATE, key=1)
