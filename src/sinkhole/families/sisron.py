"""sisron: Sisron (TOMB, Win32/Agent.WRQ, Trojan.Scar) and its Base64-of-the-date DGA.

Sisron is a Windows trojan whose only C&C channel described in public is a
domain generation algorithm over the last ten days' dates.

Algorithm (J. Bader, "The DGA of Sisron", johannesbader.ch, June 2016;
reimplemented in baderj/domain_generation_algorithms ``sisron/``): a day's
label is the Base64 encoding of the text ``DDMMYYYY``, lowercased, with the
padding ``=`` replaced by ``a`` (12 characters). On day D the bot walks the
TLDs ``.com``, ``.org``, ``.net``, ``.info`` and, for each, the dates D, D-1,
.., D-9: 40 names, TLD by TLD. Each date's four names are one period here
(key: the date); a bot date uses the ten keys D..D-9, newest first.

Active years: 2016-2016. Bader's analysis and published sample (dated
2016-06-02) are the dated public record we know of; look further with
``--around``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_TLDS = ("com", "org", "net", "info")
_BACK = 9


def label(date: dt.date) -> str:
    """The 12-character label of one date."""
    text = f"{date.day:02d}{date.month:02d}{date.year:04d}".encode("ascii")
    return base64.b64encode(text).decode("ascii").lower().replace("=", "a")


class SisronDga(BaseDga):
    """Sisron: Base64 of each of the last ten dates, under four TLDs."""

    name = "sisron"
    info = DgaInfo(
        period="daily",
        per_period=len(_TLDS),
        tlds=_TLDS,
        seeding="time-dependent",
        lookaround=(-_BACK, 0),
        active_years=(2016, 2016),
        reference="J. Bader, 'The DGA of Sisron' (johannesbader.ch, 2016)",
        notes="order on day D: for each TLD (com, org, net, info), dates D, D-1, .., D-9",
    )

    def keys_for_day(self, date: dt.date) -> list[dt.date]:
        """Dates D, D-1, .., D-9: newest first, as the bot walks them."""
        return [date - dt.timedelta(days=back) for back in range(_BACK + 1)]

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The date's label under each of the four TLDs."""
        name = label(key)
        return [f"{name}.{tld}" for tld in _TLDS]

    def generate(self, date: dt.date, **params: ParamValue) -> list[str]:
        """The day's 40 names in the bot's order: TLD by TLD, dates newest first."""
        per_key = super().generate(date, **params)
        width = len(_TLDS)
        return [per_key[k * width + t] for t in range(width) for k in range(_BACK + 1)]


FAMILY = Family(
    name="sisron",
    summary="Windows trojan (TOMB): Base64 of the last ten dates under .com/.org/.net/.info",
    channels=(
        Channel("dga", dga=SisronDga(), note="40 names a day: the last ten dates, four TLDs"),
    ),
    references=(
        "J. Bader, 'The DGA of Sisron' (johannesbader.ch, June 2016)",
        "github.com/baderj/domain_generation_algorithms, sisron/ (published example domains)",
    ),
    aliases=("tomb",),
)
