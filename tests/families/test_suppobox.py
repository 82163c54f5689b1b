"""suppobox: the three published wordlist lists, the 512-second counter, the day list."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.suppobox import PER_DAY, domains_at
from tests.conftest import read_sample
from tests.reference_dga import suppobox as reference

# The moments that reproduce the published lists (tests/data/README.md): the
# counters 2823415 and 2832705 (Unix time / 512), found by search; the lists
# repeat every 2**15 counters, and these are the ones within an hour of the
# publication commits (2015-10-23 and 2015-12-17).
OCT_2015 = 2823415 * 512
DEC_2015 = 2832705 * 512


def _dga() -> BaseDga:
    dga = families.get("suppobox").dga
    assert dga is not None
    return dga


@pytest.mark.parametrize(
    ("wordlist", "moment", "sample"),
    [
        (1, OCT_2015, "suppobox_words1_2015-10-23T08-21-20.txt"),
        (2, OCT_2015, "suppobox_words2_2015-10-23T08-21-20.txt"),
        (3, DEC_2015, "suppobox_words3_2015-12-17T09-36-00.txt"),
    ],
)
def test_published_lists(wordlist: int, moment: int, sample: str) -> None:
    expected = read_sample(sample)
    assert len(expected) == 85
    assert domains_at(moment, wordlist) == expected
    assert domains_at(moment + 511, wordlist) == expected  # same 512-second step
    assert domains_at(moment + 512, wordlist)[:84] == expected[1:]
    assert reference.at_time(moment, wordlist) == expected
    # the day list holds every name of that moment, in order
    day = dt.datetime.fromtimestamp(moment, dt.UTC).date()
    listed = _dga().generate(day, wordlist=wordlist)
    start = listed.index(expected[0])
    assert listed[start : start + 85] == expected


def test_the_step_is_512_seconds() -> None:
    before = domains_at(OCT_2015 - 1)
    at = domains_at(OCT_2015)
    assert before[1:] == at[:84] and before != at


def test_names_repeat_every_2_to_the_15_steps() -> None:
    assert domains_at(OCT_2015 + (1 << 15) * 512) == domains_at(OCT_2015)
    assert domains_at(OCT_2015 + (1 << 14) * 512) != domains_at(OCT_2015)


def test_day_list_covers_every_moment_of_the_day() -> None:
    dga = _dga()
    rng = random.Random(17)
    for _ in range(20):
        day = dt.date(2014, 1, 1) + dt.timedelta(days=rng.randrange(1100))
        listed = dga.generate(day)
        assert len(listed) == PER_DAY == len(set(listed))
        midnight = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
        for second in (0, 1, rng.randrange(86400), 86399):
            assert set(domains_at(midnight + second)) <= set(listed)


@pytest.mark.parametrize("wordlist", [1, 2, 3])
def test_matches_reference_on_random_dates(wordlist: int) -> None:
    # the reference lists exactly the counters the day touches (253 or 254); ours always
    # lists 254, the one extra name being tried in the first minutes of the next day
    dga = _dga()
    rng = random.Random(wordlist)
    for _ in range(40):
        day = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(6000))
        ours = dga.generate(day, wordlist=wordlist)
        theirs = reference.generate(day, wordlist)
        assert ours[: len(theirs)] == theirs
        assert len(ours) - len(theirs) in (0, 1)
        if len(theirs) < len(ours):
            # tried from the second 512-second step after the next midnight
            assert ours[-1] in dga.generate(day + dt.timedelta(days=1), wordlist=wordlist)[:86]


@pytest.mark.parametrize("wordlist", [0, 4, "two"])
def test_unknown_wordlist_is_refused(wordlist: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(dt.date(2015, 10, 23), wordlist=wordlist)  # type: ignore[arg-type]


def test_alias() -> None:
    assert families.get("nivdort").name == "suppobox"
