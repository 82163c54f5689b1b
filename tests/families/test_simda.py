"""simda: the published 1000 names and other builds against the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import simda as reference

DAY = dt.date(2015, 3, 1)


def _dga() -> BaseDga:
    dga = families.get("simda").dga
    assert dga is not None
    return dga


def test_published_sample() -> None:
    # baderj/domain_generation_algorithms simda/example_domains.txt (1000 names)
    sample = read_sample("simda_key-1676d577.txt")
    assert len(sample) == 1000
    assert _dga().generate(DAY) == sample
    assert _dga().generate(dt.date(2030, 1, 1)) == sample


def test_matches_reference_for_random_builds() -> None:
    dga = _dga()
    rng = random.Random(2015)
    for _ in range(20):
        key = "".join(rng.choice("0123456789abcdef") for _ in range(rng.randrange(1, 40)))
        base = rng.getrandbits(32)
        assert dga.generate(DAY, key=key, base=base) == reference.generate(DAY, key=key, base=base)


@pytest.mark.parametrize(("name", "value"), [("key", ""), ("key", "ü"), ("base", -1)])
def test_bad_params_are_refused(name: str, value: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(DAY, **{name: value})  # type: ignore[arg-type]
