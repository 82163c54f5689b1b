"""ramdo: the published list's head and tail, date independence and the seed parameter."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import ramdo as reference


def _dga() -> BaseDga:
    dga = families.get("ramdo").dga
    assert dga is not None
    return dga


def test_published_list_first_200() -> None:
    # andrewaeva/DGA dga_wordlists/ramdo.txt (seed 0xDEADBEEF, 100000 names): its first
    # 200 lines (tests/data/README.md).
    sample = read_sample("ramdo_seed-0xdeadbeef_first200.txt")
    assert len(sample) == 200
    assert _dga().generate(dt.date(2015, 2, 1))[:200] == sample
    assert reference.generate(dt.date(2015, 2, 1), count=200) == sample


def test_published_list_last_5() -> None:
    # the last five lines (names 99995-99999) of the same published file
    tail = ["yacoouemkmmeaqiu", "yaucyikacowiogem", "iumgkaoasgoyiccy", "aemosuaokkwmqqmq"]
    tail.append("eimgukowkqeckykg")
    got = _dga().generate(TIMELESS, count=100_000)
    assert got[-5:] == [t + ".org" for t in tail]


@pytest.mark.parametrize("seed", [0xDEADBEEF, 0xD5FFF, 1, 0xFFFFFFFF])
def test_matches_reference_for_seeds(seed: int) -> None:
    rng = random.Random(seed)
    date = dt.date(2013, 1, 1) + dt.timedelta(days=rng.randrange(365 * 10))
    assert _dga().period_start(date) == TIMELESS
    assert _dga().generate(date, seed=seed, count=500) == reference.generate(date, seed, 500)


def test_names_depend_on_seed_and_number_only() -> None:
    first = _dga().generate(TIMELESS, seed=0xD5FFF, count=300)
    assert first[:100] == _dga().generate(dt.date(2031, 5, 5), seed=0xD5FFF, count=100)
    assert not set(first) & set(_dga().generate(TIMELESS, count=300))
    assert all(len(d) == len("x" * 16 + ".org") and d[:16].isalpha() for d in first)


@pytest.mark.parametrize("params", [{"count": 0}, {"count": 100_001}, {"seed": -1}])
def test_bad_parameters(params: dict[str, int]) -> None:
    with pytest.raises(DgaError):
        _dga().generate(TIMELESS, **params)
