"""banjori: the seed-domain DGA against the published list and the reference."""

from __future__ import annotations

import datetime as dt

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import banjori as reference

SEED = "earnestnessbiophysicalohax.com"


def dga() -> BaseDga:
    found = families.get("banjori").dga
    assert found is not None
    return found


def test_published_example_list_first_200() -> None:
    # baderj/domain_generation_algorithms banjori/example_domains.txt (seed
    # earnestnessbiophysicalohax.com, 1000 domains): its first 200 lines.
    sample = read_sample("banjori_earnestnessbiophysicalohax_first200.txt")
    assert len(sample) == 200
    assert dga().generate(dt.date(2015, 2, 1))[:200] == sample


def test_published_example_list_last_10() -> None:
    # the last ten lines (domains 991-1000) of the same published file
    tail = ["zvfd", "vxse", "sycq", "bjvg", "aenj", "cwhy", "txsz", "lrvx", "bvos", "mosk"]
    got = dga().generate(dt.date(2015, 2, 1))
    assert len(got) == 1000
    assert got[-10:] == [p + "estnessbiophysicalohax.com" for p in tail]


def test_the_list_is_one_cycle_of_15372() -> None:
    got = dga().generate(dt.date(2015, 2, 1), count=15373)
    assert got[15372] == SEED
    assert len(set(got[:15372])) == 15372


def test_time_independent() -> None:
    d = dga()
    assert d.info.seeding == "time-independent"
    assert d.period_start(dt.date(2013, 5, 5)) == TIMELESS
    assert d.period_start(dt.date(2029, 1, 1)) == TIMELESS
    assert d.generate(dt.date(2013, 5, 5)) == d.generate(dt.date(2029, 1, 1))


@pytest.mark.parametrize(
    "seed",
    [SEED, "1234abc.net", "a-b-cdef.org", "zzzz.co.uk", "0000xyz.ru"],
)
def test_matches_reference_for_other_seeds(seed: str) -> None:
    date = dt.date(2015, 2, 1)
    assert dga().generate(date, seed=seed, count=2000) == reference.generate(
        date, seed=seed, count=2000
    )


def test_every_domain_keeps_the_seed_tail() -> None:
    got = dga().generate(dt.date(2015, 2, 1), seed="0a1bexample.net")
    assert got[0] == "0a1bexample.net"
    assert all(d.endswith("example.net") and d[:4].isalpha() for d in got[1:])


@pytest.mark.parametrize(
    "params",
    [
        {"seed": "abc.com"},
        {"seed": "Earnest.com"},
        {"seed": "earnestness"},
        {"seed": "-bcdef.com"},
        {"seed": "abcd..com"},
        {"count": 0},
        {"count": "many"},
        {"key": 1},
    ],
)
def test_bad_params_are_dga_errors(params: dict[str, object]) -> None:
    with pytest.raises(DgaError):
        dga().generate(dt.date(2015, 2, 1), **params)  # type: ignore[arg-type]


def test_family_aliases() -> None:
    assert families.get("multibanker").name == "banjori"
