"""gozi: the published Luther list, the per-wordlist periods and TLDs, the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import gozi as reference

SAMPLE_DATE = dt.date(2016, 3, 28)


def _dga() -> BaseDga:
    dga = families.get("gozi").dga
    assert dga is not None
    return dga


def test_channels_config_then_dga() -> None:
    assert [c.kind for c in families.get("gozi").channels] == ["static-domains", "dga"]


def test_published_luther_list() -> None:
    # baderj/domain_generation_algorithms gozi/example_domains.txt: the luther wordlist;
    # 2016-03-28 found by date search (period 113 of 4 days from 2015-01-01: 28-31 March)
    expected = read_sample("gozi_luther_2016-03-28.txt")
    assert len(expected) == 12
    for day in range(28, 32):
        assert _dga().generate(dt.date(2016, 3, day)) == expected
    assert _dga().generate(dt.date(2016, 3, 27)) != expected
    assert _dga().generate(dt.date(2016, 4, 1)) != expected
    assert reference.generate(SAMPLE_DATE) == expected


@pytest.mark.parametrize(
    ("wordlist", "period"), [("luther", 4), ("rfc4343", 3), ("nasa", 5), ("gpl", 5)]
)
def test_periods(wordlist: str, period: int) -> None:
    dga = _dga()
    start = dt.date(2015, 1, 1) + dt.timedelta(days=period * 100)
    lists = [
        dga.generate(start + dt.timedelta(days=k), wordlist=wordlist) for k in range(period + 1)
    ]
    assert all(lst == lists[0] for lst in lists[:period])
    assert lists[period] != lists[0]


def test_gpl_names_are_under_ru() -> None:
    names = _dga().generate(SAMPLE_DATE, wordlist="gpl")
    assert all(n.endswith(".ru") for n in names)
    assert all(len(n.split(".")[0]) <= 24 for n in names)


@pytest.mark.parametrize("wordlist", ["luther", "rfc4343", "nasa", "gpl"])
def test_matches_reference_on_random_dates(wordlist: str) -> None:
    dga = _dga()
    rng = random.Random(wordlist)
    for _ in range(60):
        day = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(9000))  # before 2015 too
        assert dga.generate(day, wordlist=wordlist) == reference.generate(day, wordlist), day


def test_unknown_wordlist_is_refused() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(SAMPLE_DATE, wordlist="bible")
