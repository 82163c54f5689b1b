"""kraken-v1: the published list, date independence, both seed sets and the suffixes."""

from __future__ import annotations

import datetime as dt

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import kraken_v1 as reference


def _dga() -> BaseDga:
    dga = families.get("kraken-v1").dga
    assert dga is not None
    return dga


def test_channels_dga_only() -> None:
    assert [c.kind for c in families.get("kraken-v1").channels] == ["dga"]


def test_published_list_seed_set_a() -> None:
    # baderj/domain_generation_algorithms kraken/v1/example_domains.txt: seed set "a",
    # 2000 names, no date input (tests/data/README.md).
    sample = read_sample("kraken-v1_seed-a.txt")
    assert len(sample) == 2000
    assert _dga().generate(dt.date(2008, 4, 1)) == sample
    assert reference.generate(dt.date(2008, 4, 1)) == sample


@pytest.mark.parametrize("seed_set", ["a", "b"])
def test_matches_reference_on_any_day(seed_set: str) -> None:
    expected = reference.generate(dt.date(2007, 7, 1), seed_set)
    for date in (dt.date(2007, 7, 1), dt.date(2024, 2, 29)):
        assert _dga().period_start(date) == TIMELESS
        assert _dga().generate(date, seed_set=seed_set) == expected


def test_seed_sets_differ_and_suffixes_rotate() -> None:
    a = _dga().generate(TIMELESS, seed_set="a")
    b = _dga().generate(TIMELESS, seed_set="b")
    assert not set(a[:200]) & set(b[:200])
    # number 1000015 % 4 == 3: mooo.com first, then dyndns.org, yi.org, dynserv.com
    suffixes = [d.split(".", 1)[1] for d in a[:8:2]]
    assert suffixes == ["mooo.com", "dyndns.org", "yi.org", "dynserv.com"]
    assert all(6 <= len(d.split(".")[0]) <= 11 for d in a)


def test_shares_the_suffixes_with_kraken_v2() -> None:
    v2 = families.get("kraken-v2").dga
    assert v2 is not None
    v2_suffixes = {d.split(".", 1)[1] for d in v2.generate(dt.date(2015, 12, 22), tld_set=2)}
    assert {d.split(".", 1)[1] for d in _dga().generate(TIMELESS)} == v2_suffixes


def test_bad_seed_set() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(TIMELESS, seed_set="c")
