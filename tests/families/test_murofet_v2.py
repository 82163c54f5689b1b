"""murofet-v2: the published sample, label pairs, daily periods and the XOR key."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import murofet_v2 as reference

SAMPLE_DATE = dt.date(2015, 9, 3)
#: keys seen in samples (Bader, "Three Variants of Murofet's DGA", and baderj murofet/v2)
KNOWN_KEYS = (0xD6D7A4BE, 0xDEADC2DE, 0xD6D7A4B1)


def _dga() -> BaseDga:
    dga = families.get("murofet-v2").dga
    assert dga is not None
    return dga


def test_channels_dga_only() -> None:
    family = families.get("murofet-v2")
    assert [c.kind for c in family.channels] == ["dga"]


def test_published_sample_2015_09_03() -> None:
    # baderj/domain_generation_algorithms murofet/v2/example_domains.txt: 2015-09-03, no key,
    # 1020 names (tests/data/dga_samples/README.md).
    sample = read_sample("murofet-v2_2015-09-03.txt")
    assert len(sample) == 1020
    assert _dga().generate(SAMPLE_DATE) == sample
    assert _dga().generate(SAMPLE_DATE, key=0) == sample
    assert reference.generate(SAMPLE_DATE) == sample


def test_index_pairs_share_a_label() -> None:
    domains = _dga().generate(SAMPLE_DATE)
    labels = [d.split(".")[0] for d in domains]
    assert all(labels[i] == labels[i + 1] for i in range(0, 1020, 2))
    assert len(set(labels)) == 510
    # TLD: first of biz info org net com whose position from the end divides the index
    assert [d.rsplit(".", 1)[1] for d in domains[:6]] == ["biz", "com", "net", "org", "info", "biz"]


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(20150903)
    for _ in range(50):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga.generate(date) == reference.generate(date), date


@pytest.mark.parametrize("key", KNOWN_KEYS)
def test_keys_match_reference(key: int) -> None:
    dga = _dga()
    rng = random.Random(key)
    for _ in range(10):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        domains = dga.generate(date, key=key)
        assert domains == reference.generate(date, key=key)
        assert not set(domains) & set(dga.generate(date))
    # operation files and the CLI pass the key as text
    assert dga.generate(date, key=hex(key)) == domains


def test_daily_periods_across_month_and_year_ends() -> None:
    dga = _dga()
    start = dt.date(2027, 12, 28)
    previous = None
    for offset in range(8):
        date = start + dt.timedelta(days=offset)
        assert dga.period_start(date) == date
        domains = dga.generate(date)
        assert domains == reference.generate(date), date
        assert domains != previous
        previous = domains


@pytest.mark.parametrize("key", [-1, 2**32, "zz", True])
def test_bad_key_is_refused(key: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, key=key)  # type: ignore[arg-type]
