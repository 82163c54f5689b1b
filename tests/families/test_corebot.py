"""corebot: the published day, the seed parameter and the year-plus-day collisions."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import corebot as reference

SAMPLE_DATE = dt.date(2015, 9, 8)


def _dga() -> BaseDga:
    dga = families.get("corebot").dga
    assert dga is not None
    return dga


def test_published_sample_2015_09_08() -> None:
    # baderj/domain_generation_algorithms corebot/example_domains.txt: 40 names, seed
    # 0x1DB98930, 2015-09-08 (tests/data/README.md).
    sample = read_sample("corebot_2015-09-08.txt")
    assert len(sample) == 40
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample
    assert _dga().generate(SAMPLE_DATE, seed=0x1DBA8930) != sample


def test_year_and_day_are_added() -> None:
    sample = read_sample("corebot_2015-09-08.txt")
    assert _dga().generate(dt.date(2016, 9, 7)) == sample
    assert _dga().generate(dt.date(2015, 9, 9)) != sample
    assert _dga().generate(dt.date(2015, 10, 8)) != sample


@pytest.mark.parametrize("seed", [0x1DB98930, 0x1DBA8930, 0, 0xFFFFFFFF])
def test_matches_reference_on_random_dates(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(15):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert _dga().generate(date, seed=seed) == reference.generate(date, seed), date


def test_charset_lacks_z_and_9() -> None:
    text = "".join(_dga().generate(dt.date(2026, 3, 1)))
    assert "z" not in text.replace(".ddns.net", "") and "9" not in text
    labels = [d.split(".")[0] for d in _dga().generate(dt.date(2026, 3, 1))]
    assert all(12 <= len(label) <= 23 for label in labels)


@pytest.mark.parametrize("seed", [-1, 2**32, "seed"])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, seed=seed)  # type: ignore[arg-type]
