"""qadars: the published week, Monday-to-Sunday periods and the seed and TLD parameters."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import qadars as reference

SAMPLE_WEEK = dt.date(2016, 3, 28)
SEEDS = {
    0x89F5: "com-org-net",
    0xE1F1: "com-org-net",
    0xE1F2: "com-org-net",
    0xE1F5: "com-org-net",
    0x4449: "net-org-top",
    0xE08A: "net-org-top",
}


def _dga() -> BaseDga:
    dga = families.get("qadars").dga
    assert dga is not None
    return dga


def test_published_sample_week_of_2016_03_28() -> None:
    # baderj/domain_generation_algorithms qadars/example_domains.txt: seed 0x89F5, com org
    # net, 200 names of the week starting Monday 2016-03-28 (tests/data/README.md).
    sample = read_sample("qadars_2016-03-28.txt")
    assert len(sample) == 200
    for offset in range(7):
        assert _dga().generate(SAMPLE_WEEK + dt.timedelta(days=offset)) == sample
    assert _dga().generate(SAMPLE_WEEK - dt.timedelta(days=1)) != sample
    assert _dga().generate(SAMPLE_WEEK + dt.timedelta(days=7)) != sample
    assert reference.generate(SAMPLE_WEEK) == sample


@pytest.mark.parametrize(("seed", "tld_set"), sorted(SEEDS.items()))
def test_known_seeds_match_reference(seed: int, tld_set: str) -> None:
    rng = random.Random(seed)
    for _ in range(8):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        got = _dga().generate(date, seed=seed, tld_set=tld_set)
        assert got == reference.generate(date, seed, tld_set), date
        assert {d.split(".")[1] for d in got} <= set(tld_set.split("-"))


def test_weeks_start_on_monday() -> None:
    dga = _dga()
    for offset in range(30):
        day = dt.date(2026, 12, 1) + dt.timedelta(days=offset)
        assert dga.period_start(day).weekday() == 0
        assert 0 <= (day - dga.period_start(day)).days < 7


def test_bad_parameters() -> None:
    with pytest.raises(DgaError, match="out of range"):
        _dga().generate(SAMPLE_WEEK, seed=0x10000)
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(SAMPLE_WEEK, tld_set="com")
