"""dircrypt: the DirCrypt DGA against the published list and the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import dircrypt as reference


def dga() -> BaseDga:
    found = families.get("dircrypt").dga
    assert found is not None
    return found


def test_published_example_list() -> None:
    # baderj/domain_generation_algorithms dircrypt/example_domains.txt: the 30
    # domains of the seed 0xF2113C2A analysed in https://bin.re/blog/the-dga-of-dircrypt/
    sample = read_sample("dircrypt_seed-0xf2113c2a.txt")
    assert len(sample) == 30
    assert dga().generate(dt.date(2014, 8, 27)) == sample


def test_time_independent() -> None:
    d = dga()
    assert d.period_start(dt.date(2014, 1, 1)) == TIMELESS
    assert d.generate(dt.date(2014, 1, 1)) == d.generate(dt.date(2030, 12, 31))


def test_matches_reference_for_random_seeds() -> None:
    rng = random.Random(0xF2113C2A)
    date = dt.date(2014, 8, 27)
    for _ in range(50):
        seed = rng.randrange(1 << 32)
        assert dga().generate(date, seed=seed, count=200) == reference.generate(
            date, seed=seed, count=200
        )
    for seed in (0, 1, 127773, 0x7FFFFFFF, 0xFFFFFFFF):
        assert dga().generate(date, seed=seed, count=50) == reference.generate(
            date, seed=seed, count=50
        )


def test_shape() -> None:
    got = dga().generate(dt.date(2014, 8, 27), count=2000)
    assert all(8 <= len(d) - 4 <= 20 and d.endswith(".com") for d in got)


def test_seed_parses_from_hex_string() -> None:
    date = dt.date(2014, 8, 27)
    assert dga().generate(date, seed="0xF2113C2A") == dga().generate(date)


@pytest.mark.parametrize(
    "params",
    [{"seed": -1}, {"seed": 1 << 32}, {"seed": "zz"}, {"count": 0}, {"count": "x"}, {"key": 1}],
)
def test_bad_params_are_dga_errors(params: dict[str, object]) -> None:
    with pytest.raises(DgaError):
        dga().generate(dt.date(2014, 8, 27), **params)  # type: ignore[arg-type]
