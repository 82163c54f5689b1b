"""shiotob: the published chain, other seeds against the reference, bad seeds."""

from __future__ import annotations

import datetime as dt

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import shiotob as reference

DAY = dt.date(2015, 1, 20)


def _dga() -> BaseDga:
    dga = families.get("shiotob").dga
    assert dga is not None
    return dga


def test_published_sample_from_wtipubctwiekhir_net() -> None:
    # baderj/domain_generation_algorithms shiotob/example_domains.txt (seed and 2000 more)
    sample = read_sample("shiotob_wtipubctwiekhir.txt")
    assert len(sample) == 2001
    assert _dga().generate(DAY) == sample
    assert _dga().generate(dt.date(2031, 5, 5)) == sample


@pytest.mark.parametrize("seed", ["4ypv1eehphg3a.com", "abc.net", "zzzzzzzzzzzzzzzzzzzz.com"])
def test_matches_reference_for_other_seeds(seed: str) -> None:
    got = _dga().generate(DAY, seed=seed, count=150)
    assert got == reference.generate(DAY, seed=seed, count=150)
    assert [name.rsplit(".", 1)[1] for name in got[:4]] == (
        ["com", "net", "com", "net"] if seed.endswith(".com") else ["net", "com", "net", "com"]
    )


@pytest.mark.parametrize("seed", ["abc.org", "ABC.com", "a.b.com", ".com"])
def test_bad_seed_is_refused(seed: str) -> None:
    with pytest.raises(DgaError, match="seed"):
        _dga().generate(DAY, seed=seed)
