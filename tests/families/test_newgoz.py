"""newgoz: the newGOZ DGA against published values and the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import newgoz as reference


def dga() -> BaseDga:
    found = families.get("newgoz").dga
    assert found is not None
    return found


def test_published_first_domain_2014_07_11() -> None:
    # Published newGOZ fact (2014-07-11, first domain of the day; Arbor/Malcovery
    # reporting, reproduced by J. Bader, https://bin.re/blog/the-dga-of-newgoz/).
    assert dga().generate(dt.date(2014, 7, 11))[0] == "1du8u2eq5y1iyt43878a8awbt.com"


def test_published_example_list_2015_08_31() -> None:
    # baderj/domain_generation_algorithms newgoz/example_domains.txt: its first
    # 200 lines; the date (2015-08-31, default key) was recovered by date search.
    sample = read_sample("newgoz_2015-08-31_first200.txt")
    assert len(sample) == 200
    assert dga().generate(dt.date(2015, 8, 31))[:200] == sample


def test_only_channel_is_the_dga() -> None:
    # newGOZ dropped GameOver Zeus's P2P layer (Arbor, OpenDNS 2014).
    family = families.get("newgoz")
    assert [c.kind for c in family.channels] == ["dga"]
    assert all(c.seizable for c in family.channels)


def test_matches_reference_on_random_dates() -> None:
    rng = random.Random(20140711)
    start = dt.date(2012, 1, 1)
    for _ in range(50):
        date = start + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga().generate(date) == reference.generate(date)


def test_matches_reference_across_a_year_boundary() -> None:
    for offset in range(-3, 4):
        date = dt.date(2025, 1, 1) + dt.timedelta(days=offset)
        assert dga().generate(date) == reference.generate(date)


def test_matches_reference_with_the_second_build() -> None:
    # Arbor: a second build uses 0x52E645 and 10 000 domains a day.
    date = dt.date(2014, 7, 20)
    got = dga().generate(date, key=0x52E645, count=10000)
    assert len(got) == 10000
    assert got == reference.generate(date, key=0x52E645, count=10000)
    assert not set(got[:1000]) & set(dga().generate(date))


def test_params_parse_from_strings() -> None:
    date = dt.date(2014, 7, 20)
    assert dga().generate(date, key="0x52e645", count="5") == reference.generate(
        date, key=0x52E645, count=5
    )


def test_every_value_spelled_in_base36() -> None:
    # a word below 36**4 takes the slow, leading-zero-aware path; hit it on purpose
    date = dt.date(2014, 7, 11)
    got = dga().generate(date, count=20000)
    assert got == reference.generate(date, count=20000)
    assert min(len(d.split(".")[0]) for d in got) < 24


def test_period_boundaries() -> None:
    day = dt.date(2014, 7, 31)
    assert dga().period_start(day) == day
    assert dga().generate(day) != dga().generate(day + dt.timedelta(days=1))
    assert dga().generate(day) == dga().domains_for(day, dga().params())


def test_tld_cycle() -> None:
    got = dga().generate(dt.date(2014, 7, 11))
    tlds = [d.rsplit(".", 1)[1] for d in got[:12]]
    assert tlds == [
        "com",
        "net",
        "biz",
        "org",
        "com",
        "net",
        "org",
        "net",
        "com",
        "org",
        "biz",
        "net",
    ]


@pytest.mark.parametrize(
    "params",
    [{"key": -1}, {"key": 1 << 32}, {"key": "nope"}, {"count": 0}, {"count": "x"}, {"seed": 1}],
)
def test_bad_params_are_dga_errors(params: dict[str, object]) -> None:
    with pytest.raises(DgaError):
        dga().generate(dt.date(2014, 7, 11), **params)  # type: ignore[arg-type]
