"""fobber: both published builds, date independence and the version parameter."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import fobber as reference


def _dga() -> BaseDga:
    dga = families.get("fobber").dga
    assert dga is not None
    return dga


def test_channels_dga_only() -> None:
    assert [c.kind for c in families.get("fobber").channels] == ["dga"]


@pytest.mark.parametrize("version", [1, 2])
def test_published_builds(version: int) -> None:
    # baderj/domain_generation_algorithms fobber/domains_1.txt and domains_2.txt: 300 names
    # each, no date input (tests/data/README.md).
    sample = read_sample(f"fobber_v{version}.txt")
    assert len(sample) == 300
    assert _dga().generate(dt.date(2015, 9, 11), version=version) == sample
    assert reference.generate(dt.date(2015, 9, 11), version) == sample


def test_default_is_version_1() -> None:
    assert _dga().generate(dt.date(2016, 1, 1)) == read_sample("fobber_v1.txt")


def test_date_independent_and_matches_reference() -> None:
    dga = _dga()
    assert dga.info.seeding == "time-independent"
    rng = random.Random(2015)
    for _ in range(5):
        date = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(365 * 20))
        assert dga.period_start(date) == TIMELESS
        for version in (1, 2):
            assert dga.generate(date, version=version) == reference.generate(date, version)


def test_builds_differ_in_length_and_tld() -> None:
    one = _dga().generate(TIMELESS, version=1)
    two = _dga().generate(TIMELESS, version="2")  # the CLI passes text
    assert {len(d) for d in one} == {len("x" * 17 + ".net")}
    assert {len(d) for d in two} == {len("x" * 10 + ".com")}
    assert len(set(one)) == 300 and not set(one) & set(two)


@pytest.mark.parametrize("version", [0, 3, "v1"])
def test_unknown_version_is_refused(version: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(TIMELESS, version=version)  # type: ignore[arg-type]
