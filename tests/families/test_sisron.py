"""sisron: the published 40 names, the ten-day walk back and the reference."""

from __future__ import annotations

import datetime as dt
import random

from sinkhole import families
from sinkhole.dga import BaseDga
from tests.conftest import read_sample
from tests.reference_dga import sisron as reference

SAMPLE_DATE = dt.date(2016, 6, 2)


def _dga() -> BaseDga:
    dga = families.get("sisron").dga
    assert dga is not None
    return dga


def test_published_sample_2016_06_02() -> None:
    # baderj/domain_generation_algorithms sisron/example_domains.txt (40 names)
    sample = read_sample("sisron_2016-06-02.txt")
    assert len(sample) == 40
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample


def test_a_date_is_tried_for_ten_days() -> None:
    dga = _dga()
    names = set(dga.domains_for(SAMPLE_DATE, dga.params()))
    assert names == {"mdiwnjiwmtya." + tld for tld in ("com", "org", "net", "info")}
    for back in range(10):
        assert names <= set(dga.generate(SAMPLE_DATE + dt.timedelta(days=back)))
    assert not names & set(dga.generate(SAMPLE_DATE + dt.timedelta(days=10)))
    spans = dga.key_spans(SAMPLE_DATE, SAMPLE_DATE + dt.timedelta(days=20))
    assert spans[SAMPLE_DATE] == (SAMPLE_DATE, SAMPLE_DATE + dt.timedelta(days=9))


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2016)
    for _ in range(300):
        date = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
        assert dga.generate(date) == reference.generate(date), date
