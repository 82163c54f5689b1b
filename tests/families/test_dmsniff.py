"""dmsniff: both published builds and the reference."""

from __future__ import annotations

import datetime as dt

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import dmsniff as reference

DAY = dt.date(2019, 3, 1)


def _dga() -> BaseDga:
    dga = families.get("dmsniff").dga
    assert dga is not None
    return dga


@pytest.mark.parametrize("prefix", ["sn", "al"])
def test_published_samples(prefix: str) -> None:
    # baderj/domain_generation_algorithms dmsniff/domains_<prefix>.txt (50 names each)
    sample = read_sample(f"dmsniff_prefix-{prefix}.txt")
    assert len(sample) == 50
    assert _dga().generate(DAY, prefix=prefix) == sample
    assert reference.generate(DAY, prefix=prefix) == sample


def test_default_build_is_sn_and_date_blind() -> None:
    assert _dga().generate(DAY) == _dga().generate(dt.date(2016, 1, 1), prefix="sn")


def test_unknown_prefix_is_refused() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(DAY, prefix="xx")
