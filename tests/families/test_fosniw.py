"""fosniw: both published patterns, date independence and the pattern parameter."""

from __future__ import annotations

import datetime as dt

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import fosniw as reference


def _dga() -> BaseDga:
    dga = families.get("fosniw").dga
    assert dga is not None
    return dga


@pytest.mark.parametrize("pattern", ["winsoft", "koreasys"])
def test_published_patterns(pattern: str) -> None:
    # baderj/domain_generation_algorithms fosniw/domains_<pattern>.txt: 101 names each
    sample = read_sample(f"fosniw_{pattern}.txt")
    assert len(sample) == 101
    assert _dga().generate(dt.date(2020, 6, 25), pattern=pattern) == sample
    assert reference.generate(dt.date(2020, 6, 25), pattern) == sample


def test_default_pattern_is_winsoft_on_any_day() -> None:
    sample = read_sample("fosniw_winsoft.txt")
    for date in (dt.date(2018, 1, 1), dt.date(2031, 7, 9)):
        assert _dga().period_start(date) == TIMELESS
        assert _dga().generate(date) == sample
    assert sample[0] == "app2.winsoft0.com" and sample[-1] == "app2.winsoft100.com"


def test_unknown_pattern_is_refused() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(TIMELESS, pattern="winsoft2")
