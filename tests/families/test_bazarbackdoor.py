"""bazarbackdoor: every published monthly list (beta, v2-v7), the month key, .bazar."""

from __future__ import annotations

import datetime as dt
import gzip
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import DATA
from tests.reference_dga import bazarbackdoor as reference

SAMPLE_MONTH = dt.date(2021, 12, 1)
SIZES = {"beta": 2160, "v2": 12996, "v3": 31768, "v4": 31768, "v5": 5776, "v6": 5776, "v7": 5776}


def _dga() -> BaseDga:
    dga = families.get("bazarbackdoor").dga
    assert dga is not None
    return dga


def _published(version: str) -> list[str]:
    # baderj/domain_generation_algorithms bazarbackdoor/example_domains_<version>.txt,
    # gzip-compressed here, content unchanged (v2-v7 start with the seed line "122021")
    path = DATA / "dga_samples" / f"bazarbackdoor_{version}_2021-12.txt.gz"
    lines = [line.strip() for line in gzip.decompress(path.read_bytes()).decode().splitlines()]
    if version != "beta":
        assert lines[0] == "122021"
        lines = lines[1:]
    return [line for line in lines if line]


@pytest.mark.parametrize("version", list(SIZES))
def test_published_lists_december_2021(version: str) -> None:
    expected = _published(version)
    assert len(expected) == SIZES[version]
    for day in (1, 17, 31):
        assert _dga().generate(dt.date(2021, 12, day), version=version) == expected


def test_default_is_v2() -> None:
    assert _dga().generate(SAMPLE_MONTH) == _published("v2")


def test_monthly_key() -> None:
    dga = _dga()
    assert dga.period_start(dt.date(2021, 12, 31)) == SAMPLE_MONTH
    assert dga.generate(dt.date(2021, 11, 30)) != dga.generate(SAMPLE_MONTH)


@pytest.mark.parametrize("version", ["v2", "v3", "v4", "v5", "v6", "v7"])
def test_matches_reference_on_random_months(version: str) -> None:
    dga = _dga()
    rng = random.Random(version)
    for _ in range(4):
        day = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2500))
        assert dga.generate(day, version=version) == reference.generate(day, version), day


def test_every_name_is_under_bazar() -> None:
    # EmerDNS's .bazar: no registry can seize these (the plan's unseizable findings)
    assert {n.rsplit(".", 1)[1] for n in _dga().generate(SAMPLE_MONTH, version="v3")} == {"bazar"}


def test_unknown_version_is_refused() -> None:
    with pytest.raises(DgaError, match="not one of"):
        _dga().generate(SAMPLE_MONTH, version="v8")
