"""MyDoom (Novarg, Mimail.R, Shimgapi): a worm's DGA seeded by year + month + day.

MyDoom is the mass-mailing worm of January 2004 whose variants kept spreading
for years. The variant reimplemented publicly derives 99 names a day from the
date with a linear congruential generator; the DGA is the only C&C-like
channel described for it here.

Algorithm (baderj/domain_generation_algorithms ``mydoom/``, April 2019):
the generator ``r = 1664525 r + 1013904223 (mod 2^32)`` starts from
``year + month + day + magic`` (magic 0xFA8 in the published sample). Each
name takes one output and writes its ten decimal digits, least significant
first, as letters of ``asnhreqwpm`` (digit ``d`` -> ``d``-th letter); the least
significant digit also picks the TLD from ``com biz us net org ws info``, or
``in`` when it is 7-9. Names 1-50 come from that generator; before name 51 the
bot restarts it from the magic alone, so names 51-99 are the same every day.
Because the date enters as the sum year + month + day, many dates share a list
(2019-04-18 and 2019-01-21 both sum to 2041, the published sample's). 360
Netlab's reimplementation (360netlab/DGA issue #49, ``code/mydoom``, which
stores the letters XOR-encoded as the bot does) lists 51 names: the same first
50 and the first magic-only one.

Active years: 2004-2020. MyDoom appeared in January 2004 and was still
spreading in 2019 (Palo Alto Networks Unit 42, "Mydoom still active in 2019",
July 2019); which variants carry this DGA is not published, so we cover the
whole span to 2020.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 99
#: names 1..50 are seeded by the date; from name 51 on by the magic alone
_DATED = 50
_MASK = 0xFFFFFFFF
_TLDS = ("com", "biz", "us", "net", "org", "ws", "info")
_DIGITS = str.maketrans("0123456789", "asnhreqwpm")
_SUFFIXES = tuple("." + (_TLDS[d] if d < len(_TLDS) else "in") for d in range(10))
DEFAULT_MAGIC = 0xFA8


def _names(r: int, count: int) -> list[str]:
    """`count` names from the generator state r, each from the next output."""
    out: list[str] = []
    for _ in range(count):
        r = (1664525 * r + 1013904223) & _MASK
        # ten digits, least significant first
        out.append(f"{r:010d}"[::-1].translate(_DIGITS) + _SUFFIXES[r % 10])
    return out


@functools.lru_cache(maxsize=16)
def _undated(magic: int) -> tuple[str, ...]:
    """Names 51-99: the generator restarted from the magic alone."""
    return tuple(_names(magic, _COUNT - _DATED))


class MydoomDga(BaseDga):
    """MyDoom: 99 names a day, 50 seeded by year + month + day and 49 by the magic alone."""

    name = "mydoom"
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=(*_TLDS, "in"),
        seeding="time-dependent",
        active_years=(2004, 2020),
        params=(
            DgaParam(
                "magic",
                DEFAULT_MAGIC,
                "the build's magic seed (0xFA8 in the published sample)",
                minimum=0,
                maximum=_MASK,
            ),
        ),
        reference="baderj/domain_generation_algorithms mydoom/ (2019)",
        notes=(
            "dates with the same year + month + day share a list; names 51-99 are the "
            "same on every day"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 99 names, in the bot's order."""
        magic = int(params["magic"])
        dated = _names((key.year + key.month + key.day + magic) & _MASK, _DATED)
        return dated + list(_undated(magic))


FAMILY = Family(
    name="mydoom",
    summary="MyDoom worm variant: 99 daily LCG names (year + month + day seed), eight TLDs",
    channels=(
        Channel(
            "dga",
            dga=MydoomDga(),
            note="the described rendezvous; 49 of the 99 names never change",
        ),
    ),
    references=(
        "github.com/baderj/domain_generation_algorithms, mydoom/ (published example domains)",
        "Palo Alto Networks Unit 42, 'Mydoom still active in 2019' (2019)",
    ),
    aliases=("novarg", "shimgapi"),
)
