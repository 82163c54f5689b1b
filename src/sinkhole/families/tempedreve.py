"""tempedreve: the Tempedreve trojan and its one-name-a-day DGA that walks back in time.

Tempedreve is a Windows trojan described by AnubisNetworks, whose report
covers a time-independent DGA; J. Bader analysed a time-dependent build in
May 2017 (sample MD5 a1310a8d9a6a51be4a6600a2be7ddab2;
baderj/domain_generation_algorithms ``tempedreve/``). Its C&C names come
from that DGA, the only channel modelled here.

Algorithm: for a day ``d`` (days since 1970-01-01) the seed is
``s = 1664525 d + 1013904223 (mod 2**32)``; the generator step is
``r -> 16843009 r + 65805 (mod 2**32)``. The alphabet ``a``..``z`` is shuffled
by swapping position ``j`` (0..25) with position ``r mod 26``, ``r`` starting
at ``s`` and stepping after each swap. The label has ``s mod 5 + 7`` letters:
the shuffled alphabet's letter ``r mod 26``, ``r`` again starting at ``s``
and stepping after each letter. The TLD is ``.com .net .org .info`` by
``s & 3``. On day D the bot tries D's name, then D-1's, and so on back to
2015-03-23, a start date fixed in the sample. That list grows every day
(1746 names on 2020-01-01); the model keeps the newest 365 (D back to
D-364, newest first), so a name is planned and found for a year after its
day. Older names stay reachable to a bot; extend a plan by hand if an
operation needs them.

Active years: 2015-2017. The sample's fixed start date (2015-03-23) and
Bader's analysis of a build seen in May 2017 are the dated public record we
use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_TLDS = ("com", "net", "org", "info")
_SUFFIXES = tuple("." + tld for tld in _TLDS)
_EPOCH = dt.date(1970, 1, 1).toordinal()
_KEPT = 365
_M32 = 0xFFFFFFFF
#: The first day the published build generates for (it walks back to here).
START = dt.date(2015, 3, 23)


@lru_cache(maxsize=4096)
def name_of_day(day: dt.date) -> str:
    """The one name seeded by `day` (cached: a bot date reuses the previous 364 days' names)."""
    seed = (1664525 * (day.toordinal() - _EPOCH) + 1013904223) & _M32
    # the shuffle and the label both walk the generator from the seed: one walk serves both
    steps = [seed]
    r = seed
    for _ in range(25):
        r = (16843009 * r + 65805) & _M32
        steps.append(r)
    letters = bytearray(b"abcdefghijklmnopqrstuvwxyz")
    for j, value in enumerate(steps):
        i = value % 26
        letters[j], letters[i] = letters[i], letters[j]
    label = bytes(letters[value % 26] for value in steps[: seed % 5 + 7])
    return label.decode("ascii") + _SUFFIXES[seed & 3]


class TempedreveDga(BaseDga):
    """Tempedreve: one name a day; a bot walks back day by day (kept: 365 days)."""

    name = "tempedreve"
    info = DgaInfo(
        period="daily",
        per_period=1,
        tlds=_TLDS,
        seeding="time-dependent",
        lookaround=(-(_KEPT - 1), 0),
        active_years=(2015, 2017),
        reference="J. Bader, baderj/domain_generation_algorithms tempedreve/ (2017); "
        "AnubisNetworks Tempedreve report",
        notes="the bot walks back to 2015-03-23 (all days since); the model keeps 365 days, "
        "newest first",
    )

    def keys_for_day(self, date: dt.date) -> list[dt.date]:
        """Days D, D-1, .., D-364: newest first, as the bot walks them."""
        return [date - dt.timedelta(days=back) for back in range(_KEPT)]

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The one name of the day `key`."""
        return [name_of_day(key)]


FAMILY = Family(
    name="tempedreve",
    summary="Windows trojan: one DGA name a day, bots walk back day by day since 2015-03-23",
    channels=(
        Channel(
            "dga",
            dga=TempedreveDga(),
            note="a bot tries every day's name back to 2015-03-23; planned: the newest 365",
        ),
    ),
    references=(
        "J. Bader, time-dependent DGA of Tempedreve (2017), "
        "github.com/baderj/domain_generation_algorithms, tempedreve/ (published example domains)",
        "AnubisNetworks, Tempedreve botnet report",
    ),
)
