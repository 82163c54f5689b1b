"""bumblebee: the published list (build string TEST_SEE), other builds against the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.bumblebee import _ROUNDS
from tests.conftest import read_sample
from tests.reference_dga import bumblebee as reference

DAY = dt.date(2023, 9, 15)


def _dga() -> BaseDga:
    dga = families.get("bumblebee").dga
    assert dga is not None
    return dga


def test_published_sample() -> None:
    # baderj/domain_generation_algorithms bumblebee/example_domains.txt (100 names)
    sample = read_sample("bumblebee_magic-TEST_SEE.txt")
    assert len(sample) == 100
    assert _dga().generate(DAY) == sample
    assert _dga().generate(dt.date(2030, 1, 1)) == sample


def test_byte_tables_equal_the_rounds() -> None:
    # the optimised step reads the 32 feedback rounds from four byte tables
    rng = random.Random(64)
    for _ in range(2000):
        r = rng.getrandbits(64)
        tabled = r >> 32
        for k, table in enumerate(_ROUNDS):
            tabled ^= table[(r >> (8 * k)) & 0xFF]
        plain = r
        for _ in range(32):
            plain = (plain >> 1) ^ 0xF5000000 if plain & 1 else plain >> 1
        assert tabled == plain


@pytest.mark.parametrize("magic", ["A", "PROD_KEY", "a much longer build string"])
def test_other_builds_match_reference(magic: str) -> None:
    assert _dga().generate(DAY, magic=magic) == reference.generate(DAY, magic=magic)


@pytest.mark.parametrize("magic", ["", "ÄÖ"])
def test_bad_magic_is_refused(magic: str) -> None:
    with pytest.raises(DgaError):
        _dga().generate(DAY, magic=magic)
