"""tinba: the published list of the blackfreeqazyio build, every build against the reference."""

from __future__ import annotations

import datetime as dt

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import tinba as reference

DAY = dt.date(2015, 4, 1)


def _dga() -> BaseDga:
    dga = families.get("tinba").dga
    assert dga is not None
    return dga


def test_published_sample_blackfreeqazyio() -> None:
    # baderj/domain_generation_algorithms tinba/example_domains.txt: the starting domain and
    # 100 rounds under .com .net .in .ru (401 names)
    sample = read_sample("tinba_blackfreeqazyio.txt")
    assert len(sample) == 401
    assert _dga().generate(DAY) == sample
    assert _dga().generate(DAY, variant="blackfreeqazyio", count=100) == sample


@pytest.mark.parametrize(
    ("variant", "count"),
    [
        ("ssrgwnrmgrxe", 1000),
        ("blackfreeqazyio", 300),
        ("watchthisnow", 100),
        ("j193hsne720uie8i", 100),
    ],
)
def test_every_build_matches_reference(variant: str, count: int) -> None:
    got = _dga().generate(DAY, variant=variant, count=count)
    assert got == reference.generate(DAY, variant=variant, count=count)
    assert got[0] == reference.BUILDS[variant][1]
    assert all(len(name.split(".")[0]) == 12 for name in got[1:])


def test_letters_are_b_to_y() -> None:
    labels = {name.split(".")[0] for name in _dga().generate(DAY, count=1000)[1:]}
    assert set("".join(labels)) <= set("bcdefghijklmnopqrstuvwxy")


@pytest.mark.parametrize(("name", "value"), [("variant", "other"), ("count", 0)])
def test_bad_params_are_refused(name: str, value: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(DAY, **{name: value})  # type: ignore[arg-type]
