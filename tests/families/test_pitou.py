"""pitou: the published list (with its candidate groups), the month-ahead seed, the reference."""

from __future__ import annotations

import datetime as dt
import random

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.families.pitou import month_ahead_days
from tests.conftest import read_sample
from tests.reference_dga import pitou as reference

SAMPLE_DATE = dt.date(2019, 4, 10)


def _dga() -> BaseDga:
    dga = families.get("pitou").dga
    assert dga is not None
    return dga


def _published() -> list[str]:
    # the file groups the candidates of a nine-letter name between "----+" lines and marks
    # them with "|" and "+--one of these"; the names are the first word of the other lines
    lines = read_sample("pitou_2019-04-10.txt")
    return [line.split()[0] for line in lines if not line.startswith("-")]


def test_published_list() -> None:
    # baderj/domain_generation_algorithms pitou/example_domains.txt: magic 0xDAFE02C,
    # 2019-04-10 (date search; the day the DGA was published)
    expected = _published()
    assert len(expected) == 280
    assert _dga().generate(SAMPLE_DATE) == expected
    assert reference.generate(SAMPLE_DATE) == expected


def test_nine_letter_names_list_every_candidate() -> None:
    names = _dga().generate(SAMPLE_DATE)
    stems: dict[str, list[str]] = {}
    for name in names:
        label, tld = name.split(".", 1)
        if len(label) == 9:
            stems.setdefault(label[:8] + "." + tld, []).append(label[8])
    assert stems
    for letters in stems.values():
        assert "".join(letters) in ("aeiou", "bcdfghjklmnpqrstvwxyz")
    assert all(len(n.split(".")[0]) in (8, 9) for n in names)


def test_month_ahead_rolls_over() -> None:
    epoch = dt.date(1970, 1, 1)
    assert month_ahead_days(dt.date(2019, 4, 10)) == (dt.date(2019, 5, 10) - epoch).days
    assert month_ahead_days(dt.date(2019, 12, 31)) == (dt.date(2020, 1, 31) - epoch).days
    # 31 January: February has 28 days, so the day rolls into March
    assert month_ahead_days(dt.date(2019, 1, 31)) == (dt.date(2019, 3, 3) - epoch).days
    assert month_ahead_days(dt.date(2020, 1, 31)) == (dt.date(2020, 3, 2) - epoch).days


def test_matches_reference_on_random_dates_and_magics() -> None:
    dga = _dga()
    rng = random.Random(2019)
    for _ in range(150):
        day = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(10000))
        magic = rng.choice((0xDAFE02C, 0xDAFE02D, rng.getrandbits(32)))
        assert dga.generate(day, magic=magic) == reference.generate(day, magic), (day, magic)
