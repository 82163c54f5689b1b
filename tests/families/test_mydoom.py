"""mydoom: the published list, the date sum, the fixed tail and the magic parameter."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import mydoom as reference

SAMPLE_DATE = dt.date(2019, 4, 18)


def _dga() -> BaseDga:
    dga = families.get("mydoom").dga
    assert dga is not None
    return dga


def test_published_sample() -> None:
    # baderj/domain_generation_algorithms mydoom/example_domains.txt: 99 names, magic 0xFA8,
    # any date with year + month + day == 2041 (tests/data/README.md).
    sample = read_sample("mydoom_2019-04-18.txt")
    assert len(sample) == 99
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample
    assert _dga().generate(dt.date(2019, 1, 21)) == sample  # 2019 + 1 + 21 = 2041 too
    assert _dga().generate(dt.date(2019, 4, 19)) != sample


def test_names_51_to_99_never_change() -> None:
    sample = read_sample("mydoom_2019-04-18.txt")
    other = _dga().generate(dt.date(2031, 11, 2))
    assert other[50:] == sample[50:]
    assert not set(other[:50]) & set(sample[:50])


@pytest.mark.parametrize("magic", [0xFA8, 0, 0xFFFFFFFF])
def test_matches_reference_on_random_dates(magic: int) -> None:
    rng = random.Random(magic)
    for _ in range(20):
        date = dt.date(2004, 1, 1) + dt.timedelta(days=rng.randrange(365 * 25))
        assert _dga().generate(date, magic=magic) == reference.generate(date, magic), date


def test_aliases_and_bad_magic() -> None:
    assert families.get("novarg").name == "mydoom"
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, magic=-5)
