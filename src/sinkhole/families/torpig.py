"""Torpig (Sinowal, Anserin; installed by the Mebroot rootkit): date-based "domain flux".

Stone-Gross et al., "Your Botnet is My Botnet: Analysis of a Botnet Takeover"
(UCSB, ACM CCS 2009), describe how the Torpig bots of early 2009 found their
C&C, in this fallback order:

1. a *weekly* domain ``dw`` computed from the current week and year, tried as
   ``dw.com``, ``dw.net``, ``dw.biz``;
2. a *daily* domain ``dd`` computed from the current date, tried with the same
   three TLDs;
3. the domains hard-coded in the bot's configuration file.

The UCSB team took the botnet over for ten days by registering the names
before the botmasters did. The paper publishes the daily algorithm (its
Listing 1, "generate_daily_domain"), which this module implements: from the
day, month and year (years before 2007 count as 2007) it derives four letters
and builds ``<c1>h<c2><c3>x<c4><month suffix>``, a 9-letter label, tried as
``.com``, ``.net``, ``.biz``: 3 domains a day. The condition that picks the
fourth character tests whether ``2 * day`` is the ASCII code of a digit
(``'0'`` <= 2*day <= ``'9'``, i.e. days 24-28), in which case it is the digit
``day % 10 + 1``; otherwise a letter. The weekly algorithm is NOT published,
so the weekly names are not generated here (see the DGA's `notes`).

The bot reads the local clock (GetLocalTime); dates here are taken as the
bot's local date.

Active years: 2008-2009, the period of the UCSB study and takeover (January
2009; Stone-Gross et al. 2009).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: One 3-letter suffix per month (January first), from the paper's listing.
SUFFIXES = ("anj", "ebf", "arm", "pra", "aym", "unj", "ulj", "uag", "esp", "kot", "onv", "edc")
TLDS = ("com", "net", "biz")
_P = 8  # the scramble multiplier of the daily domain
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: day -> the fourth character: a digit when 2*day is an ASCII digit code, else a letter
_FOURTH = tuple(
    chr(d % 10 + ord("1")) if ord("0") <= 2 * d <= ord("9") else _LETTERS[(2 * d) % 25]
    for d in range(32)
)


def daily_label(date: dt.date) -> str:
    """The daily domain's label for `date` (Listing 1 of the Torpig paper)."""
    year = max(date.year, 2007)
    month, day = date.month, date.day
    s = ((month ^ day) + day) * _P + day + year
    letters = _LETTERS
    return (
        letters[(((year >> 2) & 0x3FC0) + s) % 25]
        + "h"
        + letters[(month + s) % 10]
        + letters[((year & 0xFF) + s) % 25]
        + "x"
        + _FOURTH[day]
        + SUFFIXES[month - 1]
    )


def _month_days(leap: bool) -> tuple[tuple[int, int, str], ...]:
    """Per day of a year: the (month, day) part of the scramble, month + that, the tail."""
    lengths = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return tuple(
        (part, month + part, "x" + _FOURTH[day] + SUFFIXES[month - 1])
        for month in range(1, 13)
        for day in range(1, lengths[month - 1] + 1)
        for part in (((month ^ day) + day) * _P + day,)
    )


_YEAR_DAYS = {False: _month_days(False), True: _month_days(True)}


@functools.lru_cache(maxsize=128)
def _year_domains(year: int) -> tuple[int, tuple[tuple[str, str, str], ...]]:
    """The ordinal of 1 January and every day's three domains, for one year."""
    first = dt.date(year, 1, 1).toordinal()
    leap = calendar.isleap(year)  # not via 1 January of year + 1: 9999 has no next year
    y = max(year, 2007)
    c1_base = ((y >> 2) & 0x3FC0) + y
    c3_base = (y & 0xFF) + y
    letters = _LETTERS
    table = []
    for part, month_part, tail in _YEAR_DAYS[leap]:
        label = (
            letters[(c1_base + part) % 25]
            + "h"
            + letters[(month_part + y) % 10]
            + letters[(c3_base + part) % 25]
            + tail
        )
        table.append((label + ".com", label + ".net", label + ".biz"))
    return first, tuple(table)


class TorpigDga(BaseDga):
    """Torpig's published daily domain, tried with .com, .net and .biz."""

    name = "torpig"
    info = DgaInfo(
        period="daily",
        per_period=3,
        tlds=TLDS,
        seeding="time-dependent",
        active_years=(2008, 2009),
        reference="Stone-Gross et al., Your Botnet is My Botnet (CCS 2009), Listing 1",
        notes=(
            "daily domain only: the weekly domain the bot tries first (.com .net .biz) is "
            "computed by an algorithm the paper does not publish; add those names as static "
            "domains in the operation file when known"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's label with .com, .net, .biz, in that order (from a per-year table)."""
        first, table = _year_domains(key.year)
        return list(table[key.toordinal() - first])

    def generate(self, date: dt.date, **params: ParamValue) -> list[str]:
        """As `BaseDga.generate`; without parameters, skips the per-call key machinery.

        With a one-day period and no lookaround the key is the date itself, and
        for three names a day that machinery would cost more than the names.
        """
        if params:
            return super().generate(date, **params)
        return self.domains_for(date, {})


FAMILY = Family(
    name="torpig",
    summary="Torpig/Sinowal banking trojan: weekly then daily date-based domain (.com .net .biz)",
    channels=(
        Channel(
            "dga",
            dga=TorpigDga(),
            note="weekly domain (algorithm unpublished, not generated), then the daily domain",
        ),
        Channel(
            "static-domains",
            note="last resort: domains from the bot's configuration file; supply them in "
            "the operation file",
        ),
    ),
    references=(
        "B. Stone-Gross, M. Cova, L. Cavallaro, B. Gilbert, M. Szydlowski, R. Kemmerer, "
        "C. Kruegel, G. Vigna, 'Your Botnet is My Botnet: Analysis of a Botnet Takeover', "
        "ACM CCS 2009 (UCSB), section 4 and Listing 1",
        "github.com/pchaigno/dga-collection, Torpig (reimplementation and example domain)",
    ),
    aliases=("sinowal",),
)
