"""pushdo: the published .kz sample, the bot's day-number order and its calendar quirks."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.pushdo import bot_day_number
from tests.conftest import read_sample
from tests.reference_dga import pushdo as reference

SAMPLE_DATE = dt.date(2019, 12, 6)


def _dga() -> BaseDga:
    dga = families.get("pushdo").dga
    assert dga is not None
    return dga


def test_channels_static_hosts_then_dga() -> None:
    family = families.get("pushdo")
    assert [c.kind for c in family.channels] == ["static-domains", "dga"]
    assert not family.synthetic


def test_published_sample_2019_12_06() -> None:
    # baderj/domain_generation_algorithms pushdo/example_domains.txt (.kz variant), see
    # tests/data/dga_samples/README.md: 30 domains a day for day offsets -30..+14.
    sample = read_sample("pushdo_2019-12-06.txt")
    assert len(sample) == 1350
    assert _dga().generate(SAMPLE_DATE) == sample
    assert reference.generate(SAMPLE_DATE) == sample


def test_sample_order_is_today_then_back_then_ahead() -> None:
    # The bot tries day number n, then n-1 .. n-30, then n+1 .. n+14 (not ascending).
    dga = _dga()
    sample = read_sample("pushdo_2019-12-06.txt")
    params = dga.params()
    n = bot_day_number(SAMPLE_DATE)
    offsets = [*range(0, -31, -1), *range(1, 15)]
    for chunk, offset in enumerate(offsets):
        key = dt.date.fromordinal(n + offset - 381)
        assert sample[30 * chunk : 30 * chunk + 30] == dga.domains_for(key, params)
    key = dga.period_start(SAMPLE_DATE)
    assert dga.keys_for_day(SAMPLE_DATE)[:2] == [key, key - dt.timedelta(days=1)]
    assert dga.keys_for_day(SAMPLE_DATE)[31] == key + dt.timedelta(days=1)


def test_bot_day_number_matches_reference() -> None:
    day = dt.date(2011, 1, 1)
    while day < dt.date(2031, 1, 1):
        assert bot_day_number(day) == reference.days_since_zero(day)
        day += dt.timedelta(days=3)


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(20191206)
    for _ in range(50):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga.generate(date) == reference.generate(date), date


def test_matches_reference_across_month_and_year_ends() -> None:
    # every day from late January to early April 2024 (leap year) and around New Year 2027
    dga = _dga()
    for start, length in ((dt.date(2024, 1, 25), 72), (dt.date(2026, 12, 26), 12)):
        for offset in range(length):
            date = start + dt.timedelta(days=offset)
            assert dga.generate(date) == reference.generate(date), date


@pytest.mark.parametrize("variant", ["com-v1", "kz-v2"])
def test_other_variants_match_reference(variant: str) -> None:
    dga = _dga()
    rng = random.Random(variant)
    for _ in range(8):
        date = dt.date(2013, 1, 1) + dt.timedelta(days=rng.randrange(365 * 15))
        domains = dga.generate(date, variant=variant)
        assert domains == reference.generate(date, variant=variant)
        assert domains != dga.generate(date)
    tld = "com" if variant == "com-v1" else "kz"
    assert all(d.endswith("." + tld) for d in domains)


def test_consecutive_days_shift_by_one_day_number() -> None:
    dga = _dga()
    dec31, jan1 = dt.date(2019, 12, 31), dt.date(2020, 1, 1)
    assert dga.generate(dec31) != dga.generate(jan1)
    # Dec 31 -> Jan 1 of a leap year: the bot's count jumps by 2
    assert bot_day_number(jan1) - bot_day_number(dec31) == 2
    today, tomorrow = dga.generate(dt.date(2019, 12, 6)), dga.generate(dt.date(2019, 12, 7))
    # the 6th's blocks n and n-1 are the 7th's blocks n'-1 and n'-2
    assert today[:30] == tomorrow[30:60]
    assert today[30:60] == tomorrow[60:90]
    assert today[:30] != tomorrow[:30]


def test_month_end_quirks_of_the_bot_calendar() -> None:
    dga = _dga()
    # 31 March and 1 April share one day number, so the bot tries the same lists
    assert dga.generate(dt.date(2021, 3, 31)) == dga.generate(dt.date(2021, 4, 1))
    # 1 February goes back to the number of 29 January (non-leap year)
    assert dga.generate(dt.date(2021, 2, 1)) == dga.generate(dt.date(2021, 1, 29))
    assert dga.period_start(dt.date(2021, 2, 1)) < dga.period_start(dt.date(2021, 1, 31))


def test_keys_never_after_the_date() -> None:
    dga = _dga()
    day = dt.date(1901, 1, 1)
    while day <= dt.date(2099, 12, 31):
        lag = (day - dga.period_start(day)).days
        assert 0 <= lag <= 4, day
        day += dt.timedelta(days=5)


def test_unsupported_dates_and_bad_variant() -> None:
    dga = _dga()
    with pytest.raises(DgaError, match=r"bot dates 1901-01-01\.\.2099-12-31 only, not 2100-01-01"):
        dga.generate(dt.date(2100, 1, 1))
    with pytest.raises(DgaError, match="1901-2099"):
        dga.period_start(dt.date(1900, 12, 31))
    with pytest.raises(DgaError, match="not one of"):
        dga.generate(SAMPLE_DATE, variant="ru")
    with pytest.raises(DgaError, match="no parameter"):
        dga.generate(SAMPLE_DATE, seed=1)
