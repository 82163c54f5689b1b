"""m0yv: the published 128 names and the other seeds against the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.m0yv import KNOWN_SEEDS
from tests.conftest import read_sample
from tests.reference_dga import m0yv as reference

DAY = dt.date(2022, 4, 29)


def _dga() -> BaseDga:
    dga = families.get("m0yv").dga
    assert dga is not None
    return dga


def test_published_sample_seed_0x02484a18() -> None:
    # baderj/domain_generation_algorithms m0yv/example_domains.txt (128 names)
    sample = read_sample("m0yv_seed-0x02484a18.txt")
    assert len(sample) == 128
    assert _dga().generate(DAY) == sample
    assert _dga().generate(dt.date(2012, 1, 1)) == sample


def test_known_and_random_seeds_match_reference() -> None:
    rng = random.Random(2022)
    for seed in (*KNOWN_SEEDS, *(rng.getrandbits(32) for _ in range(20))):
        assert _dga().generate(DAY, seed=seed) == reference.generate(DAY, seed=seed)


@pytest.mark.parametrize("seed", [-1, 2**32, "x"])
def test_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(DAY, seed=seed)  # type: ignore[arg-type]
