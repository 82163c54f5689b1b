"""tufik: the published 1020 names, the shared labels and the magic constant."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import tufik as reference

SAMPLE_DATE = dt.date(2022, 5, 9)


def _dga() -> BaseDga:
    dga = families.get("tufik").dga
    assert dga is not None
    return dga


def test_published_sample_2022_05_09() -> None:
    # baderj/domain_generation_algorithms tufik/example_domains.txt, magic 0x997722ED
    sample = read_sample("tufik_2022-05-09.txt")
    assert len(sample) == 1020
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample
    assert _dga().generate(SAMPLE_DATE + dt.timedelta(days=1)) != sample


def test_pairs_share_a_label() -> None:
    names = _dga().generate(SAMPLE_DATE)
    for even in range(0, 1020, 2):
        assert names[even].split(".")[0] == names[even + 1].split(".")[0]
    assert [n.split(".")[1] for n in names[:6]] == ["biz", "com", "net", "org", "info", "biz"]


def test_matches_reference_on_random_dates_and_magics() -> None:
    dga = _dga()
    rng = random.Random(2022)
    for _ in range(20):
        date = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(365 * 40))
        magic = rng.getrandbits(32)
        assert dga.generate(date) == reference.generate(date), date
        assert dga.generate(date, magic=magic) == reference.generate(date, magic=magic), date


@pytest.mark.parametrize("magic", [-1, 2**32, "abc"])
def test_bad_magic_is_refused(magic: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, magic=magic)  # type: ignore[arg-type]
