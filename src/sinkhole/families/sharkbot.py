"""sharkbot: the SharkBot Android banking trojan and its weekly DGA (versions 0.0-2.8).

SharkBot is an Android banking trojan found by Cleafy in October 2021 and
spread through fake apps on Google Play in 2022 (NCC Group / Fox-IT,
"SharkBot: a 'new' generation Android banking Trojan being distributed on
Google Play Store", March 2022). Bots reach their C&C through hard-coded
servers in the configuration and, as a fallback, through a domain generation
algorithm that changes every week; only the DGA is modelled here (the
hard-coded servers vary per build and are not published as a list).

Algorithm (J. Bader, baderj/domain_generation_algorithms ``sharkbot/``,
May-July 2022, versions named after the bot versions that use them): one
name per TLD, seeded by the week of the year ``w`` and the year ``y``.
Versions 2.1 and 2.8 walk ``.xyz .live .com .store .info .top .net``; the
label is the first 16 hex digits of an MD5: of ``<.tld><w><y>`` (2.8) or of
``<.tld><w>`` (2.1: the year is appended after the digest and so never
reaches the label). Versions 0.0 and 1.63 walk ``.top .xyz .cc .info .com
.ru .net`` and use one label for all TLDs: the first 19 characters, lowered,
of the Base64 of ``<w>pojBI9LHGFdfgegjjsJ99hvVGHVOjhksdf`` (0.0) or of the
same text with ``w + y`` in front (1.63). The bot takes the week from the
phone's calendar, which depends on its locale; the model uses ISO weeks
(Monday first) with the calendar year, so a list runs from Monday to Sunday
and is cut at 1 January.

Active years: 2021-2022. Cleafy's discovery (October 2021) and the NCC
Group / Fox-IT reports on the Play-store campaigns (2022), with Bader's
published samples (ISO week 22 of 2022), are the dated public record we use.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_NEW_TLDS = ("xyz", "live", "com", "store", "info", "top", "net")
_OLD_TLDS = ("top", "xyz", "cc", "info", "com", "ru", "net")
_PHRASE = "pojBI9LHGFdfgegjjsJ99hvVGHVOjhksdf"
VERSIONS = ("0.0", "1.63", "2.1", "2.8")


def week_key(date: dt.date) -> dt.date:
    """The first day of the date's list: its ISO week's Monday, or 1 January."""
    monday = date - dt.timedelta(days=date.weekday())
    return max(monday, date.replace(month=1, day=1))


def _base64_label(text: str) -> str:
    return base64.b64encode(text.encode("ascii"))[:19].decode("ascii").lower()


class SharkbotDga(BaseDga):
    """SharkBot: one name per TLD a week, MD5 (2.x) or Base64 (0.0, 1.63) labels."""

    name = "sharkbot"
    info = DgaInfo(
        period="weekly",
        per_period=len(_NEW_TLDS),
        tlds=tuple(sorted(set(_NEW_TLDS) | set(_OLD_TLDS))),
        seeding="time-dependent",
        active_years=(2021, 2022),
        params=(
            DgaParam(
                "version",
                "2.8",
                "bot version of the DGA: 0.0, 1.63, 2.1 or 2.8 (the published default)",
                choices=VERSIONS,
            ),
        ),
        reference="baderj/domain_generation_algorithms sharkbot/ (J. Bader, 2022)",
        notes="ISO weeks with the calendar year: a list runs Monday-Sunday and is cut at "
        "1 January; the bot's own week numbering follows the phone's locale",
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The Monday of the date's ISO week, or 1 January if that comes later."""
        return week_key(date)

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The week's seven names, in the bot's TLD order."""
        version = str(params["version"])
        week, year = key.isocalendar()[1], key.year
        if version == "2.8":
            return [
                hashlib.md5(f".{tld}{week}{year}".encode("ascii")).hexdigest()[:16] + "." + tld
                for tld in _NEW_TLDS
            ]
        if version == "2.1":
            return [
                hashlib.md5(f".{tld}{week}".encode("ascii")).hexdigest()[:16] + "." + tld
                for tld in _NEW_TLDS
            ]
        counter = week + year if version == "1.63" else week
        label = _base64_label(f"{counter}{_PHRASE}")
        return [f"{label}.{tld}" for tld in _OLD_TLDS]


FAMILY = Family(
    name="sharkbot",
    summary="Android banking trojan: hard-coded C&C, then one DGA name per TLD a week",
    channels=(
        Channel(
            "static-ips",
            note="C&C servers in each build's configuration; not published as a list, supply "
            "them in the operation file",
        ),
        Channel("dga", dga=SharkbotDga(), note="fallback: seven names a week (version param)"),
    ),
    references=(
        "Cleafy, 'SharkBot: a new generation Android banking Trojan' (2021)",
        'NCC Group / Fox-IT, \'SharkBot: a "new" generation Android banking Trojan being '
        "distributed on Google Play Store' (March 2022)",
        "github.com/baderj/domain_generation_algorithms, sharkbot/ (published example domains "
        "for versions 0.0, 1.63, 2.1 and 2.8)",
    ),
)
