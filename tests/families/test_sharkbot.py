"""sharkbot: the published week-22 samples, the week boundaries and the versions."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import sharkbot as reference

SAMPLE_DATE = dt.date(2022, 5, 30)  # Monday of ISO week 22


def _dga() -> BaseDga:
    dga = families.get("sharkbot").dga
    assert dga is not None
    return dga


@pytest.mark.parametrize("version", ["2.8", "2.1"])
def test_published_samples_week_22_of_2022(version: str) -> None:
    # baderj/domain_generation_algorithms sharkbot/example_domains_v<version>.txt
    sample = read_sample(f"sharkbot-v{version}_2022-05-30.txt")
    assert len(sample) == 7
    assert _dga().generate(SAMPLE_DATE, version=version) == sample
    assert _dga().generate(SAMPLE_DATE + dt.timedelta(days=6), version=version) == sample
    assert _dga().generate(SAMPLE_DATE - dt.timedelta(days=1), version=version) != sample
    assert reference.generate(SAMPLE_DATE, version=version) == sample


def test_default_is_version_2_8() -> None:
    assert _dga().generate(SAMPLE_DATE) == read_sample("sharkbot-v2.8_2022-05-30.txt")


def test_published_version_0_0_label() -> None:
    # the v0.0 sample was published before its TLD set was corrected (upstream commit
    # 5356c0d, July 2022): the label is reproduced, the TLDs are those of the fixed set
    sample = read_sample("sharkbot-v0.0_2022-05-30.txt")
    got = _dga().generate(SAMPLE_DATE, version="0.0")
    assert {name.split(".")[0] for name in got} == {name.split(".")[0] for name in sample}
    assert [name.split(".")[1] for name in got] == ["top", "xyz", "cc", "info", "com", "ru", "net"]


def test_a_list_is_cut_at_new_year() -> None:
    dga = _dga()
    # 2024-12-30 (Monday) to 2025-01-05 is ISO week 1 of 2025, split by the calendar year
    assert dga.period_start(dt.date(2024, 12, 31)) == dt.date(2024, 12, 30)
    assert dga.period_start(dt.date(2025, 1, 3)) == dt.date(2025, 1, 1)
    assert dga.generate(dt.date(2024, 12, 31)) != dga.generate(dt.date(2025, 1, 1))
    # version 2.1 ignores the year: the same names on both sides
    assert dga.generate(dt.date(2024, 12, 31), version="2.1") == dga.generate(
        dt.date(2025, 1, 1), version="2.1"
    )


@pytest.mark.parametrize("version", ["0.0", "1.63", "2.1", "2.8"])
def test_matches_reference_on_random_dates(version: str) -> None:
    dga = _dga()
    rng = random.Random(version)
    for _ in range(200):
        date = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(365 * 40))
        assert dga.generate(date, version=version) == reference.generate(date, version=version)


def test_unknown_version_is_refused() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(SAMPLE_DATE, version="3.0")
