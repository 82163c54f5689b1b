"""padcrypt: the published day, both versions and the reference over random dates."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import padcrypt as reference

SAMPLE_DATE = dt.date(2016, 3, 6)


def _dga() -> BaseDga:
    dga = families.get("padcrypt").dga
    assert dga is not None
    return dga


def test_published_sample_2016_03_06() -> None:
    # baderj/domain_generation_algorithms padcrypt/example_domains.txt: version 2.2.86.1,
    # 24 names of 2016-03-06 (recovered by date search; tests/data/README.md).
    sample = read_sample("padcrypt_2016-03-06.txt")
    assert len(sample) == 24
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample


@pytest.mark.parametrize("version", ["2.2.86.1", "2.2.97.0", "11.37.0.0"])
def test_matches_reference_on_random_dates(version: str) -> None:
    rng = random.Random(version)
    for _ in range(40):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert _dga().generate(date, version=version) == reference.generate(date, version)


def test_version_2_2_97_0_has_72_other_names() -> None:
    newer = _dga().generate(SAMPLE_DATE, version="2.2.97.0")
    assert len(newer) == 72 and not set(newer) & set(_dga().generate(SAMPLE_DATE))
    suffixes = {d.split(".", 1)[1] for d in newer + _dga().generate(dt.date(2016, 3, 7))}
    assert "co.uk" in suffixes and suffixes <= set(reference.TLDS)


def test_version_11_37_0_0_appends_38_and_uses_tk_and_ga() -> None:
    newest = _dga().generate(SAMPLE_DATE, version="11.37.0.0")
    assert len(newest) == 72
    assert not set(newest) & set(_dga().generate(SAMPLE_DATE, version="2.2.97.0"))
    suffixes = set()
    for offset in range(10):
        day = SAMPLE_DATE + dt.timedelta(days=offset)
        suffixes |= {d.split(".", 1)[1] for d in _dga().generate(day, version="11.37.0.0")}
    assert {"tk", "ga"} <= suffixes and "eu" not in suffixes


def test_unknown_version() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(SAMPLE_DATE, version="2.3")
