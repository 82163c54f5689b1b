"""zloader: the published lists for four RC4 keys, the seed, the reference."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.zloader import KNOWN_KEYS, day_seed, keystream_word
from tests.conftest import read_sample
from tests.reference_dga import zloader as reference


def _dga() -> BaseDga:
    dga = families.get("zloader").dga
    assert dga is not None
    return dga


@pytest.mark.parametrize(
    ("key", "sample", "days"),
    [
        ("q23Cud3xsNf3", "zloader_q23Cud3xsNf3_first100days.txt", 100),
        (
            "41997b4a729e1a0175208305170752dd",
            "zloader_41997b4a729e1a0175208305170752dd_first10days.txt",
            10,
        ),
        ("kZieCw23gffpe43Sd", "zloader_kZieCw23gffpe43Sd_first10days.txt", 10),
        ("Ts72YjsjO5TghE6m", "zloader_Ts72YjsjO5TghE6m_first10days.txt", 10),
    ],
)
def test_published_lists(key: str, sample: str, days: int) -> None:
    # baderj/domain_generation_algorithms zloader/domains_<key>.txt: a date line, then
    # that day's 32 names, from 2020-01-01; the first `days` days are kept here
    lines = read_sample(sample)
    assert len(lines) == days * 33
    dga = _dga()
    for block in range(days):
        date_line, *names = lines[block * 33 : (block + 1) * 33]
        day = dt.date.fromisoformat(date_line)
        assert day == dt.date(2020, 1, 1) + dt.timedelta(days=block)
        assert dga.generate(day, key=key) == names
    assert reference.generate(dt.date(2020, 1, 1), key) == lines[1:33]


def test_keystream_is_rc4() -> None:
    # RFC 6229 test vector: key 0x0102030405, keystream b2 39 63 05 ...
    assert keystream_word("\x01\x02\x03\x04\x05") == 0x056339B2
    assert day_seed(dt.date(1970, 1, 1), "\x01\x02\x03\x04\x05") == 0x056339B2


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2020)
    for _ in range(60):
        day = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(5000))
        key = rng.choice(KNOWN_KEYS)
        assert dga.generate(day, key=key) == reference.generate(day, key), (day, key)


@pytest.mark.parametrize("key", ["", "schlüssel", "k" * 257])
def test_bad_key_is_refused(key: str) -> None:
    with pytest.raises(DgaError, match="RC4 key"):
        _dga().generate(dt.date(2020, 1, 1), key=key)
