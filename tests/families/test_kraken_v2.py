"""kraken-v2: the published weekly sample, the Tuesday-to-Monday weeks and the parameters."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from tests.conftest import read_sample
from tests.reference_dga import kraken_v2 as reference

SAMPLE_DATE = dt.date(2015, 12, 22)


def _dga() -> BaseDga:
    dga = families.get("kraken-v2").dga
    assert dga is not None
    return dga


def test_channels_dga_only() -> None:
    family = families.get("kraken-v2")
    assert [c.kind for c in family.channels] == ["dga"]


def test_published_sample_2015_12_22() -> None:
    # baderj/domain_generation_algorithms kraken/v2/example_domains.txt: weekly, seed set "a",
    # TLD set 1; 2000 domains with repeats (tests/data/dga_samples/README.md).
    sample = read_sample("kraken-v2_2015-12-22.txt")
    domains = _dga().generate(SAMPLE_DATE)
    assert len(sample) == 2000
    assert domains == sample
    assert len(set(domains)) < len(domains)  # the published list repeats names
    assert reference.generate(SAMPLE_DATE) == sample


def test_whole_sample_week_gives_the_sample() -> None:
    dga = _dga()
    sample = read_sample("kraken-v2_2015-12-22.txt")
    for offset in range(7):  # Tue 22 .. Mon 28 December 2015
        assert dga.generate(SAMPLE_DATE + dt.timedelta(days=offset)) == sample
    assert dga.generate(SAMPLE_DATE - dt.timedelta(days=1)) != sample
    assert dga.generate(SAMPLE_DATE + dt.timedelta(days=7)) != sample


def test_matches_reference_domain_by_domain_on_random_dates() -> None:
    # The reference replays every discard one step at a time (~1 s a week), so the random
    # dates compare a spread of domain numbers, including every i % 9 class.
    dga = _dga()
    rng = random.Random(2015)
    numbers = [*range(18), *rng.sample(range(18, 1000), 12)]
    for _ in range(50):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        domains = dga.generate(date)
        for number in numbers:
            for temp_file in (False, True):
                expected = reference.domain(number, date, "a", temp_file, 1)
                assert domains[2 * number + temp_file] == expected, (date, number)


@pytest.mark.parametrize(
    ("date", "seed_set", "tld_set"),
    [
        (dt.date(2014, 7, 1), "a", 1),
        (dt.date(2019, 3, 11), "b", 1),
        (dt.date(2013, 5, 20), "b", 2),
        (dt.date(2030, 12, 31), "a", 2),
        (dt.date(2008, 3, 31), "a", 1),  # the week before the epoch of the week count
        (dt.date(2007, 7, 1), "b", 1),  # before 2008: no discards at all
    ],
)
def test_full_lists_match_reference(date: dt.date, seed_set: str, tld_set: int) -> None:
    assert _dga().generate(date, seed_set=seed_set, tld_set=tld_set) == reference.generate(
        date, seed_set=seed_set, tld_set=tld_set
    )


def test_weeks_run_tuesday_to_monday() -> None:
    dga = _dga()
    day = dt.date(2012, 1, 1)
    while day < dt.date(2031, 1, 1):
        key = dga.period_start(day)
        assert key.weekday() == 1 and 0 <= (day - key).days < 7, day  # a Tuesday
        day += dt.timedelta(days=1)
    monday, tuesday = dt.date(2024, 2, 26), dt.date(2024, 2, 27)
    assert dga.generate(monday) != dga.generate(tuesday)
    assert dga.generate(tuesday) == dga.generate(dt.date(2024, 3, 4))  # the next Monday


def test_every_ninth_domain_is_time_independent() -> None:
    dga = _dga()
    this_week = dga.generate(dt.date(2016, 1, 5))
    next_year = dga.generate(dt.date(2017, 1, 3))
    for number in range(8, 1000, 9):
        assert this_week[2 * number : 2 * number + 2] == next_year[2 * number : 2 * number + 2]
    assert this_week[:16] != next_year[:16]


def test_tld_sets_and_info() -> None:
    dga = _dga()
    domains = dga.generate(SAMPLE_DATE, tld_set=2)
    suffixes = {d.split(".", 1)[1] for d in domains}
    assert suffixes == {"dyndns.org", "yi.org", "dynserv.com", "mooo.com"}
    assert {"com", "net", "tv", "cc", "org"} | suffixes <= set(dga.info.tlds)
    assert dga.generate(SAMPLE_DATE, tld_set="2") == domains  # CLI strings are converted


def test_bad_parameters() -> None:
    dga = _dga()
    with pytest.raises(DgaError, match="not one of"):
        dga.generate(SAMPLE_DATE, seed_set="c")
    with pytest.raises(DgaError, match="not one of"):
        dga.generate(SAMPLE_DATE, tld_set=3)
    with pytest.raises(DgaError, match="not an integer"):
        dga.generate(SAMPLE_DATE, tld_set="one")
