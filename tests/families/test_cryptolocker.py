"""cryptolocker: the CryptoLocker DGA against published values and the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import cryptolocker as reference


def dga() -> BaseDga:
    found = families.get("cryptolocker").dga
    assert found is not None
    return found


def test_published_domains_2013_12_19() -> None:
    # Published CryptoLocker domains for 2013-12-19 (listed e.g. in the tests
    # of pchaigno/dga-collection, after Fortinet's 2014 write-up). They are
    # indices 252-255 of the day's list, in this order (252 % 7 == 0: .com).
    got = dga().generate(dt.date(2013, 12, 19))
    assert got[252:256] == [
        "vxagtvsyqxtrfcm.com",
        "wxphewjnfhlyyjj.net",
        "xckjffnjivafxen.biz",
        "sljjjupfgagolpg.ru",
    ]


def test_published_first_label_2017_01_01() -> None:
    # An independent reimplementation's unit test gives 'acnlxxtaiildmku' as
    # the first label for day 1, month 1, year 2017.
    assert dga().generate(dt.date(2017, 1, 1))[0] == "acnlxxtaiildmku.com"


def test_published_list_2014_10_07() -> None:
    # andrewaeva/DGA cryptolocker.txt (output of its Cryptolocker.pl): its first
    # 200 lines; the date (2014-10-07) was recovered by date search.
    sample = read_sample("cryptolocker_2014-10-07_first200.txt")
    assert len(sample) == 200
    assert dga().generate(dt.date(2014, 10, 7))[:200] == sample


def test_shape_of_a_day() -> None:
    got = dga().generate(dt.date(2014, 1, 1))
    assert len(got) == 1000
    suffixes = ["com", "net", "biz", "ru", "org", "co.uk", "info"]
    for z, domain in enumerate(got):
        label, _, suffix = domain.partition(".")
        assert suffix == suffixes[z % 7]
        assert 12 <= len(label) <= 15
        assert "z" not in label
    assert {d.rsplit(".", 1)[1] for d in got} <= set(dga().info.tlds)
    assert "co.uk" in dga().info.tlds


def test_matches_reference_on_random_dates() -> None:
    rng = random.Random(20131219)
    start = dt.date(2012, 1, 1)
    for _ in range(50):
        date = start + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga().generate(date) == reference.generate(date)


def test_matches_reference_across_month_and_year_boundaries() -> None:
    for start in (dt.date(2013, 12, 29), dt.date(2024, 2, 27)):
        for offset in range(5):
            date = start + dt.timedelta(days=offset)
            assert dga().generate(date) == reference.generate(date)


def test_period_boundaries() -> None:
    day = dt.date(2013, 12, 31)
    assert dga().period_start(day) == day
    nxt = day + dt.timedelta(days=1)
    assert dga().generate(day) != dga().generate(nxt)
    assert dga().generate(day) == dga().domains_for(day, dga().params())


def test_has_no_params() -> None:
    assert dga().params() == {}
    with pytest.raises(DgaError, match="no parameter"):
        dga().generate(dt.date(2014, 1, 1), seed=1)
