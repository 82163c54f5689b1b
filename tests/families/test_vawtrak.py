"""vawtrak: the published version 2 list, the other versions and seeds, no date."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import vawtrak as reference


def _dga() -> BaseDga:
    dga = families.get("vawtrak").dga
    assert dga is not None
    return dga


def test_published_version_2_list() -> None:
    # baderj/domain_generation_algorithms vawtrak/example_domains2.txt: version 2, seed
    # 0x5884C3C4 (the other known seed, 0x5542B2, does not give it); 100 names, no date
    expected = read_sample("vawtrak_v2_seed-5884c3c4.txt")
    assert len(expected) == 100
    assert _dga().generate(dt.date(2016, 12, 16)) == expected
    assert _dga().generate(dt.date(2030, 1, 1)) == expected
    assert _dga().period_start(dt.date(2016, 12, 16)) == TIMELESS
    assert reference.generate(dt.date(2016, 12, 16)) == expected


@pytest.mark.parametrize(
    ("version", "seed"),
    [(1, 0xDEADBEEF), (1, 0), (2, 0x5542B2), (2, 0xFFFFFFFF), (3, 0x874C49), (3, 0x3CDCA1)],
)
def test_matches_reference(version: int, seed: int) -> None:
    got = _dga().generate(dt.date(2016, 1, 1), version=version, seed=seed, count=400)
    assert got == reference.generate(dt.date(2016, 1, 1), version, seed, 400)
    suffix = ".top" if version == 1 else ".com"
    assert all(name.endswith(suffix) for name in got)


def test_version_2_alternates_consonants_and_vowels() -> None:
    # a vowel is followed by one or two consonants, never by a vowel
    for name in _dga().generate(dt.date(2016, 1, 1)):
        label = name.split(".")[0]
        assert not re.search("[aeiou]{2}|[cdfghlmnrstw]{3}", label), label


@pytest.mark.parametrize("params", [{"version": 4}, {"seed": -1}, {"count": 0}])
def test_bad_params_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(DgaError):
        _dga().generate(dt.date(2016, 1, 1), **params)  # type: ignore[arg-type]
