"""ngioweb: the published 1024 names, the known seeds against the reference, the shipped lists."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families, wordlists
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.ngioweb import KNOWN_SEEDS
from tests.conftest import read_sample
from tests.reference_dga import ngioweb as reference

DAY = dt.date(2019, 8, 1)


def _dga() -> BaseDga:
    dga = families.get("ngioweb").dga
    assert dga is not None
    return dga


def test_published_sample_seed_0x56edc15() -> None:
    # baderj/domain_generation_algorithms ngioweb/example_domains.txt (1024 names)
    sample = read_sample("ngioweb_seed-0x56edc15.txt")
    assert len(sample) == 1024
    assert _dga().generate(DAY) == sample
    assert _dga().generate(dt.date(2024, 11, 1)) == sample


def test_shipped_lists_match_the_reference_copy() -> None:
    assert wordlists.load("ngioweb", "prefixes") == tuple(reference.PREFIXES)
    assert wordlists.load("ngioweb", "after_consonant") == tuple(reference.AFTER_CONSONANT)
    assert wordlists.load("ngioweb", "after_vowel") == tuple(reference.AFTER_VOWEL)


def test_known_and_random_seeds_match_reference() -> None:
    rng = random.Random(2019)
    for seed in (*KNOWN_SEEDS, *(rng.getrandbits(32) for _ in range(5))):
        got = _dga().generate(DAY, seed=seed, count=300)
        assert got == reference.generate(DAY, seed=seed, count=300), hex(seed)


@pytest.mark.parametrize(("name", "value"), [("seed", -1), ("seed", 2**32), ("count", 0)])
def test_bad_params_are_refused(name: str, value: int) -> None:
    with pytest.raises(DgaError):
        _dga().generate(DAY, **{name: value})
