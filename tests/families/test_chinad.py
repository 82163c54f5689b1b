"""chinad: both published days, daily periods and the reference over random dates."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from tests.conftest import read_sample
from tests.reference_dga import chinad as reference


def _dga() -> BaseDga:
    dga = families.get("chinad").dga
    assert dga is not None
    return dga


@pytest.mark.parametrize(
    ("sample_file", "date"),
    [
        # baderj/domain_generation_algorithms chinad/example_domains.txt (256 names)
        ("chinad_2017-01-13.txt", dt.date(2017, 1, 13)),
        # 360netlab/DGA code/chinad/examples.txt (first version), its first 256 lines
        ("chinad_2016-10-24_first256.txt", dt.date(2016, 10, 24)),
    ],
)
def test_published_samples(sample_file: str, date: dt.date) -> None:
    # Both lists were made with only the index's low byte, so they hold indices 0-255
    # (dates recovered by search; tests/data/README.md).
    sample = read_sample(sample_file)
    assert len(sample) == 256
    domains = _dga().generate(date)
    assert len(domains) == 1000 and len(set(domains)) == 1000
    assert domains[:256] == sample
    assert reference.generate(date)[:256] == sample
    assert not set(domains[256:]) & set(sample)
    assert _dga().generate(date + dt.timedelta(days=1))[:256] != sample


def test_year_byte_is_year_plus_0x30() -> None:
    # (year + 0x30) mod 256: 2017 and 2273 share a list; 2117 does not (year % 100 would)
    sample = read_sample("chinad_2017-01-13.txt")
    assert _dga().generate(dt.date(2273, 1, 13))[:256] == sample
    assert _dga().generate(dt.date(2117, 1, 13))[:256] != sample


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2017)
    for _ in range(15):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga.period_start(date) == date
        assert dga.generate(date) == reference.generate(date), date


def test_names_are_16_alphanumerics_under_seven_tlds() -> None:
    domains = _dga().generate(dt.date(2026, 12, 7))
    labels = [d.split(".")[0] for d in domains]
    assert all(len(label) == 16 and label.isalnum() and label.islower() for label in labels)
    assert {d.split(".")[1] for d in domains} == {"com", "org", "net", "biz", "info", "ru", "cn"}
