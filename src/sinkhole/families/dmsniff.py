"""dmsniff: the DMSniff point-of-sale malware and its 50-name DGA.

DMSniff is point-of-sale malware that steals card data from small and
medium-sized businesses; Flashpoint described it in March 2019 as in use
since at least 2016 and as one of the few POS families with a domain
generation algorithm. The DGA is the only channel modelled here.

Algorithm (baderj/domain_generation_algorithms ``dmsniff/``, 2023, from two
samples): with ``h(n)`` halving ``n`` (integer division) until it is at most
24, name ``k`` (1..50) is a two-letter build prefix followed by the letters
``chr(97 + h(p k))`` for six multipliers ``p``, and the TLD
``[.com .org .net .ru .in][h(k) // 5]``. The ``sn`` build uses the
multipliers 1, 7, 3, 5, 11, 13 and the ``al`` build 1, 3, 5, 7, 11, 13 (the
``prefix`` parameter). The list does not depend on the date.

Active years: 2016-2019. Flashpoint (March 2019) dates its use from at least
2016; the list does not depend on the date, so this is metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 50
_TLDS = ("com", "org", "net", "ru", "in")
#: build prefix -> its six multipliers
BUILDS: dict[str, tuple[int, ...]] = {"sn": (1, 7, 3, 5, 11, 13), "al": (1, 3, 5, 7, 11, 13)}


def halve(number: int) -> int:
    """`number` halved (rounding down) until it is at most 24."""
    while number > 24:
        number >>= 1
    return number


def _names(prefix: str) -> tuple[str, ...]:
    multipliers = BUILDS[prefix]
    return tuple(
        prefix + "".join(chr(97 + halve(p * k)) for p in multipliers) + "." + _TLDS[halve(k) // 5]
        for k in range(1, _COUNT + 1)
    )


_LISTS = {prefix: _names(prefix) for prefix in BUILDS}


class DmsniffDga(BaseDga):
    """DMSniff: 50 fixed names per build, a two-letter prefix and six letters each."""

    name = "dmsniff"
    info = DgaInfo(
        period="none",
        per_period=_COUNT,
        tlds=_TLDS,
        seeding="time-independent",
        active_years=(2016, 2019),
        params=(DgaParam("prefix", "sn", "build: sn (default) or al", choices=tuple(BUILDS)),),
        reference="baderj/domain_generation_algorithms dmsniff/ (2023); Flashpoint (2019)",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's 50 names."""
        return list(_LISTS[str(params["prefix"])])


FAMILY = Family(
    name="dmsniff",
    summary="Point-of-sale card stealer: 50 fixed DGA names per build (prefix sn or al)",
    channels=(
        Channel("dga", dga=DmsniffDga(), note="50 names per build, independent of the date"),
    ),
    references=(
        "Flashpoint, 'DMSniff: POS Malware Actively Leveraged to Target Medium-Sized "
        "Businesses' (March 2019)",
        "github.com/baderj/domain_generation_algorithms, dmsniff/ (published example domains "
        "of the sn and al builds)",
    ),
)
