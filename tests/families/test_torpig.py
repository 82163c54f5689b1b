"""torpig: the daily domain of Stone-Gross et al. (CCS 2009), three TLDs a day."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.torpig import SUFFIXES
from tests.reference_dga import torpig as reference

# the paper's label shape: c1 'h' c2 c3 'x' c4 + month suffix (c1, c3 in a-y, c2 in a-j)
LABEL = re.compile(r"^[a-y]h[a-j][a-y]x[a-y5-9](anj|ebf|arm|pra|aym|unj|ulj|uag|esp|kot|onv|edc)$")


def _dga() -> BaseDga:
    dga = families.get("torpig").dga
    assert dga is not None
    return dga


def test_channels_follow_the_paper() -> None:
    # weekly then daily domain (dga), then the configuration file's domains
    family = families.get("torpig")
    assert [c.kind for c in family.channels] == ["dga", "static-domains"]
    assert families.get("sinowal") is family


def test_three_domains_a_day_com_net_biz() -> None:
    # Stone-Gross et al. 2009, section 4: the domain is tried with .com, .net and .biz, in order.
    dga = _dga()
    assert dga.info.per_day == 3
    for date in (dt.date(2009, 1, 25), dt.date(2009, 2, 4), dt.date(2024, 2, 29)):
        domains = dga.generate(date)
        labels = {d.rsplit(".", 1)[0] for d in domains}
        assert [d.rsplit(".", 1)[1] for d in domains] == ["com", "net", "biz"]
        assert len(labels) == 1
        assert LABEL.match(labels.pop())


def test_published_example_domain() -> None:
    # github.com/pchaigno/dga-collection test/test_torpig.py lists dhidxguag.biz as a Torpig
    # name; the listing yields it for 3 August 2015.
    assert "dhidxguag.biz" in _dga().generate(dt.date(2015, 8, 3))


def test_month_suffix_and_digit_days() -> None:
    dga = _dga()
    for month in range(1, 13):
        label = dga.generate(dt.date(2009, month, 10))[0].split(".")[0]
        assert label.endswith(SUFFIXES[month - 1])
    # 2*day is an ASCII digit code ('0'..'9') only on days 24-28: then c4 = day % 10 + 1
    for day in range(1, 32):
        c4 = dga.generate(dt.date(2009, 1, day))[0][5]
        assert c4 == (str(day % 10 + 1) if 24 <= day <= 28 else chr(97 + (2 * day) % 25))


def test_matches_reference() -> None:
    dga = _dga()
    rng = random.Random(2009)
    dates = [dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19)) for _ in range(50)]
    dates += [dt.date(2008, 1, 1) + dt.timedelta(days=k) for k in range(731)]  # 2008-2009
    for date in dates:
        assert dga.generate(date) == reference.generate(date), date


def test_years_before_2007_count_as_2007() -> None:
    dga = _dga()
    assert dga.generate(dt.date(2005, 6, 15)) == dga.generate(dt.date(2007, 6, 15))
    assert dga.generate(dt.date(2006, 6, 15)) == reference.generate(dt.date(2006, 6, 15))


def test_each_day_has_its_own_list() -> None:
    dga = _dga()
    day = dt.date(2009, 1, 1)
    previous = dga.generate(day - dt.timedelta(days=1))
    for _ in range(365 * 3):
        current = dga.generate(day)
        assert current != previous, day
        assert dga.period_start(day) == day
        previous = current
        day += dt.timedelta(days=1)


def test_no_parameters() -> None:
    with pytest.raises(DgaError, match="no parameter"):
        _dga().generate(dt.date(2009, 1, 25), seed=1)
