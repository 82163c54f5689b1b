"""qakbot: the published sample, the thirds of a month, the seed and sandbox inputs."""

from __future__ import annotations

import datetime as dt
import random
import zlib

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.qakbot import _Draws, date_seed
from tests.conftest import read_sample
from tests.reference_dga import qakbot as reference

SAMPLE_DATE = dt.date(2016, 2, 21)


def _dga() -> BaseDga:
    dga = families.get("qakbot").dga
    assert dga is not None
    return dga


def test_channels_dga_only() -> None:
    family = families.get("qakbot")
    assert [c.kind for c in family.channels] == ["dga"]


def test_published_sample_2016_02_21() -> None:
    # baderj/domain_generation_algorithms qakbot/example_domains.txt: 2016-02-21, seed 0, no
    # sandbox flag, 5000 names (tests/data/dga_samples/README.md).
    sample = read_sample("qakbot_2016-02-21.txt")
    assert len(sample) == 5000
    assert _dga().generate(SAMPLE_DATE) == sample
    assert _dga().generate(SAMPLE_DATE, seed=0, sandbox=False) == sample
    assert reference.generate(SAMPLE_DATE) == sample


def test_sample_covers_21_to_29_february() -> None:
    dga = _dga()
    sample = read_sample("qakbot_2016-02-21.txt")
    assert dga.generate(dt.date(2016, 2, 29)) == sample  # leap day, same third
    assert dga.generate(dt.date(2016, 2, 20)) != sample
    assert dga.generate(dt.date(2016, 3, 1)) != sample


def test_date_string() -> None:
    assert date_seed(SAMPLE_DATE, 0) == zlib.crc32(b"2.feb.2016.00000000")
    assert date_seed(dt.date(2019, 5, 10), 0xABC) == zlib.crc32(b"0.may.2019.00000abc")
    assert date_seed(dt.date(2019, 12, 11), 1) == zlib.crc32(b"1.dec.2019.00000001")


def test_bulk_draws_equal_mt19937() -> None:
    # CPython's C Mersenne Twister, seeded through setstate, must give MT19937's words
    for seed in (0, 1, 5489, 0xFFFFFFFF):
        draws = _Draws(seed)
        draws.refill()
        draws.refill()
        plain = reference.MersenneTwister(seed)
        assert list(draws.words[:3000]) == [plain.next_u32() for _ in range(3000)]


def test_matches_reference_on_random_dates() -> None:
    # the pure-Python Mersenne Twister reference needs ~0.1 s a period: 30 dates
    dga = _dga()
    rng = random.Random(20160221)
    for _ in range(30):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga.generate(date) == reference.generate(date), date


@pytest.mark.parametrize(
    ("seed", "sandbox"), [(1, False), (0, True), (1, True), (0xFFFFFFFF, True)]
)
def test_seed_and_sandbox_match_reference(seed: int, sandbox: bool) -> None:
    dga = _dga()
    date = dt.date(2023, 7, 14)
    domains = dga.generate(date, seed=seed, sandbox=sandbox)
    assert domains == reference.generate(date, seed=seed, sandbox=sandbox)
    assert not set(domains) & set(dga.generate(date))


def test_period_boundaries() -> None:
    dga = _dga()
    for year, month, last in ((2025, 1, 31), (2025, 2, 28), (2024, 2, 29), (2025, 4, 30)):
        lists = {day: dga.generate(dt.date(year, month, day)) for day in (1, 10, 11, 20, 21, last)}
        assert lists[1] == lists[10] != lists[11]
        assert lists[11] == lists[20] != lists[21]
        assert lists[21] == lists[last]
        assert dga.period_start(dt.date(year, month, last)) == dt.date(year, month, 21)
    assert dga.generate(dt.date(2025, 1, 31)) != dga.generate(dt.date(2025, 2, 1))
    for day in range(1, 32):
        date = dt.date(2025, 3, day)
        start = dga.period_start(date)
        assert start.day in (1, 11, 21) and start <= date and (date - start).days <= 10


@pytest.mark.parametrize(
    ("name", "value"), [("seed", -1), ("seed", 2**32), ("seed", "zero"), ("sandbox", "maybe")]
)
def test_bad_params_are_refused(name: str, value: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, **{name: value})  # type: ignore[arg-type]
