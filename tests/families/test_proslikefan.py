"""proslikefan: the published day, the magic parameter and the reference over random dates."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from tests.conftest import read_sample
from tests.reference_dga import proslikefan as reference

SAMPLE_DATE = dt.date(2016, 6, 17)


def _dga() -> BaseDga:
    dga = families.get("proslikefan").dga
    assert dga is not None
    return dga


def test_published_sample_2016_06_17() -> None:
    # baderj/domain_generation_algorithms proslikefan/example_domains.txt: magic "prospect",
    # 100 names of 2016-06-17 (recovered by date search; tests/data/README.md).
    sample = read_sample("proslikefan_2016-06-17.txt")
    assert len(sample) == 100
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample
    assert _dga().generate(SAMPLE_DATE, magic="OK") != sample


@pytest.mark.parametrize("magic", ["prospect", "OK"])
def test_matches_reference_on_random_dates(magic: str) -> None:
    rng = random.Random(magic)
    for _ in range(25):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert _dga().generate(date, magic=magic) == reference.generate(date, magic), date


def test_round_by_round_tld_by_tld() -> None:
    domains = _dga().generate(dt.date(2027, 2, 3))
    tlds = [d.split(".")[1] for d in domains]
    assert tlds == reference.TLDS * 10
    assert all(6 <= len(d.split(".")[0]) <= 12 for d in domains)
