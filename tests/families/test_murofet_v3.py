"""murofet-v3: the published names, the shared buckets and the reference over random dates."""

from __future__ import annotations

import datetime as dt
import random

from sinkhole import families
from sinkhole.dga import BaseDga
from tests.conftest import read_sample
from tests.reference_dga import murofet_v3 as reference

SAMPLE_DATE = dt.date(2015, 8, 28)


def _dga() -> BaseDga:
    dga = families.get("murofet-v3").dga
    assert dga is not None
    return dga


def test_published_names_2015_08_28() -> None:
    # baderj/domain_generation_algorithms README, murofet/v3 example domains: the first ten
    # names of the bucket of 2015-08-28 (days 28-31); the full example file is not in our
    # copy of the collection (tests/data/README.md).
    sample = read_sample("murofet-v3_2015-08-28_first10.txt")
    assert len(sample) == 10
    for day in (28, 29, 30, 31):
        assert _dga().generate(dt.date(2015, 8, day))[:10] == sample
    assert _dga().generate(dt.date(2015, 8, 27))[:10] != sample
    assert reference.generate(SAMPLE_DATE)[:10] == sample


def test_matches_reference_on_random_dates() -> None:
    rng = random.Random(20150828)
    for _ in range(25):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert _dga().generate(date) == reference.generate(date), date


def test_buckets_match_murofet_v1() -> None:
    v1 = families.get("murofet-v1").dga
    assert v1 is not None
    for day in range(1, 32):
        date = dt.date(2026, 3, day)
        assert _dga().period_start(date) == v1.period_start(date)


def test_labels_mix_letters_and_digits() -> None:
    domains = _dga().generate(dt.date(2030, 1, 9))
    assert len(domains) == 1000 and len(set(domains)) == 1000
    labels = [d.split(".")[0] for d in domains]
    assert all(32 <= len(label) <= 48 for label in labels)
    assert any(ch.isdigit() for ch in "".join(labels))
    assert [d.rsplit(".", 1)[1] for d in domains[:3]] == ["ru", "com", "net"]
