"""pykspa-v2: MD6 test values, the published list, the stored seeds, the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.pykspa_v2 import _ACTIVE_SEEDS, md6_256, seed_of
from tests.conftest import read_sample
from tests.reference_dga import pykspa_v2 as reference

SAMPLE_DATE = dt.date(2015, 8, 13)


def _dga() -> BaseDga:
    dga = families.get("pykspa-v2").dga
    assert dga is not None
    return dga


def test_md6_published_values() -> None:
    # MD6-256 of "abc" (the MD6 submission's example) and of the pangram (as widely cited)
    assert md6_256(b"abc").hex() == (
        "230637d4e6845cf0d092b558e87625f03881dd53a7439da34cf3b94ed0d8b2c5"
    )
    fox = b"The quick brown fox jumps over the lazy dog"
    assert md6_256(fox).hex() == (
        "977592608c45c9923340338450fdcccc21a68888e1e6350e133c5186cd9736ee"
    )
    assert reference.md6_256(fox) == md6_256(fox)
    with pytest.raises(DgaError):
        md6_256(bytes(513))


def test_published_list() -> None:
    # baderj/domain_generation_algorithms pykspa/improved/example_domains.txt: the first 10
    # names of set 1 for period 833 of 20 days (2015-08-13 to 2015-09-01), found by search
    expected = read_sample("pykspa-v2_2015-08-13_first10.txt")
    assert len(expected) == 10
    assert _dga().generate(SAMPLE_DATE)[:10] == expected
    assert _dga().generate(dt.date(2015, 9, 1))[:10] == expected
    assert _dga().generate(dt.date(2015, 9, 2))[:10] != expected


def test_seeding_matches_reference() -> None:
    # the plain reference takes ~0.8 s a seed and ours ~0.4 s: one stored seed against the
    # reference, and our seeding against the stored seed of the published period
    number = random.Random(833).choice(sorted(_ACTIVE_SEEDS))
    assert reference.seeding(number) == _ACTIVE_SEEDS[number]
    seed_of.cache_clear()
    assert seed_of(833) == _ACTIVE_SEEDS[833]


def test_names_match_reference_on_random_periods() -> None:
    # names from the stored seeds (no seeding cost), both sets' keying
    dga = _dga()
    rng = random.Random(2015)
    for _ in range(8):
        day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(730))
        names = dga.generate(day, count=100)
        seed = _ACTIVE_SEEDS[(day - dt.date(1970, 1, 1)).days // 20]
        assert names == reference_names(seed, 100)
    assert dga.generate(SAMPLE_DATE, count=40) == reference.generate(SAMPLE_DATE, count=40)


def reference_names(seed: int, count: int) -> list[str]:
    """The reference's name loop from a given seed."""
    names = []
    for k in range(count):
        seed += seed % (k + 1) + 1
        tld = ["com", "net", "org", "info", "cc"][seed & 3]
        names.append(reference.label((seed + k) % 7 + 6, seed) + "." + tld)
    return names


def test_noise_set_is_seeded_by_the_day() -> None:
    day = dt.date(2015, 8, 20)
    noise = _dga().generate(day, set=2, count=20)
    assert noise == reference_names(seed_of((day - dt.date(1970, 1, 1)).days), 20)
    assert not set(noise) & set(_dga().generate(day, count=20))


def test_aliases() -> None:
    assert families.get("pykspa").name == "pykspa-v2"
    assert families.get("pykspa-improved").name == "pykspa-v2"
