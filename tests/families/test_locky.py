"""locky: the published version 2 list, day halving, version 3 and the known seeds."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.locky import V2_SEEDS, V3_SEEDS
from tests.conftest import read_sample
from tests.reference_dga import locky as reference

SAMPLE_DATE = dt.date(2016, 2, 28)


def _dga() -> BaseDga:
    dga = families.get("locky").dga
    assert dga is not None
    return dga


def test_published_version_2_list() -> None:
    # baderj/domain_generation_algorithms locky/example_domains.txt: version 2, config 1
    # (seed 62, shift 7); 2016-02-28 found by date search (the DGA halves the day: 28-29)
    expected = read_sample("locky_v2_seed62_2016-02-28.txt")
    assert len(expected) == 8
    assert _dga().generate(SAMPLE_DATE) == expected
    assert _dga().generate(dt.date(2016, 2, 29)) == expected
    assert _dga().generate(dt.date(2016, 2, 27)) != expected
    assert reference.generate(SAMPLE_DATE) == expected


def test_names_never_use_z() -> None:
    names = _dga().generate(SAMPLE_DATE, version=3, seed=7077)
    assert len(names) == 12
    assert not any("z" in n.split(".")[0] for n in names)


def test_matches_reference_on_random_dates_and_known_seeds() -> None:
    dga = _dga()
    rng = random.Random(2016)
    for _ in range(150):
        day = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(7000))
        seed = rng.choice(V2_SEEDS)
        shift = 5 if seed == 0 else 7
        assert dga.generate(day, seed=seed, shift=shift) == reference.generate(
            day, 2, seed, shift
        ), (day, seed)
        seed = rng.choice(V3_SEEDS)
        assert dga.generate(day, version=3, seed=seed) == reference.generate(day, 3, seed)


@pytest.mark.parametrize(
    "params", [{"version": 4}, {"seed": -1}, {"seed": 2**32}, {"version": 3, "shift": 5}]
)
def test_bad_params_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, **params)  # type: ignore[arg-type]
