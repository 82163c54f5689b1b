"""ranbyus: the Ranbyus banking trojan's daily DGAs (May 2015 and September 2015 variants).

Ranbyus (a banking trojan aimed at Russian and Ukrainian online banking,
2012-2016) reaches its C&C only through generated names in the analysed
builds (J. Bader, "The DGA of Ranbyus", 2015-05, and "Ranbyus's DGA,
Revisited", 2015-09, https://johannesbader.ch/2015/09/ranbyuss-dga-revisited/).
Both variants take the date and a 32-bit build seed and give 40 names a day.

The algorithm in words:

* ``variant=may``: four 32-bit registers start as day, month, year and the
  seed. For each of 14 letters: ``day = (day >> 15) ^ 16*((day & 0x1FFF) ^
  4*(seed ^ day))``, ``year = ((year & 0xFFFFFFF0) << 17) ^ ((year ^ 7*year)
  >> 11)``, ``month = 14*(month & 0xFFFFFFFE) ^ ((month ^ 4*month) >> 8)``,
  ``seed = (seed >> 6) ^ ((day + 8*seed) << 8) & 0x3FFFF00`` (all mod 2**32),
  letter ``'a' + (day ^ month ^ year) mod 25``; the registers run on between
  names. Name ``n`` gets TLD ``(day_of_month + n) mod 8`` of ``in me cc su tw
  net com pw`` (the table's ninth entry, ``org``, is never reached). Known
  seeds: C5F128F3, B6354BC3 (the published list), 65BA0743, 0478620C.
* ``variant=september``: ``x = (day*month*year) ^ seed`` feeds a 64-bit LCG
  (multiplier 0x5851F42D4C957F2D, increment 0x14057B7EF767814F) stepped three
  times per block; bits of the three states are shuffled into 16 bytes; two
  blocks per name, the first 17 bytes give letters ``'a' + byte mod 25``. TLD
  as above, from ``in me cc su tw net com pw`` (seed CE7F8514 uses ``in net
  org com me su tw cc``). Known seeds: 0F0D5BFA (the published list),
  F2C72B14, AE8714BE, CE7F8514, 572473BB, 17794CF1, C0E32524, 7CB7966E,
  9F90C9E7, 8FB8879B, E981684B.

Active years: 2014-2016. Both DGA variants were analysed in 2015 from current
samples, with new seeds published into July 2016; we add the year before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_TLDS = ("in", "me", "cc", "su", "tw", "net", "com", "pw")
_TLDS_CE7F8514 = ("in", "net", "org", "com", "me", "su", "tw", "cc")
MAY_SEEDS = (0xC5F128F3, 0xB6354BC3, 0x65BA0743, 0x0478620C)
SEPTEMBER_SEEDS = (0x0F0D5BFA, 0xF2C72B14, 0xAE8714BE, 0xCE7F8514, 0x572473BB, 0x17794CF1,
                   0xC0E32524, 0x7CB7966E, 0x9F90C9E7, 0x8FB8879B, 0xE981684B)  # fmt: skip
_COUNT = 40
_M = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_MUL = 0x5851F42D4C957F2D
_INC = 0x14057B7EF767814F
_LETTERS = "abcdefghijklmnopqrstuvwxy"


def _may(date: dt.date, seed: int) -> list[str]:
    day, month, year = date.day, date.month, date.year
    letters = _LETTERS
    out = []
    for n in range(_COUNT):
        label = []
        for _ in range(14):
            day = ((day >> 15) ^ (((day & 0x1FFF) ^ (seed ^ day) << 2) << 4)) & _M
            year = (((year & 0xFFFFFFF0) << 17) ^ ((year ^ (7 * year & _M)) >> 11)) & _M
            month = ((14 * (month & 0xFFFFFFFE)) ^ ((month ^ (month << 2 & _M)) >> 8)) & _M
            seed = ((seed >> 6) ^ (((day + 8 * seed) << 8) & 0x3FFFF00)) & _M
            label.append(letters[(day ^ month ^ year) % 25])
        out.append("".join(label) + "." + _TLDS[(date.day + n) % 8])
    return out


def _block(x: int) -> tuple[int, bytes]:
    """Three LCG steps from `x`: the new state and the 16 bytes the bot cuts from them."""
    s1 = (_MUL * x + _INC) & _M64
    s2 = (_MUL * s1 + _INC) & _M64
    s3 = (_MUL * s2 + _INC) & _M64
    mixed = ((s3 >> 24) & 0xFFFFFF00) | ((s3 & _M) >> 24)
    a = (((mixed ^ s2) & 0x000FFFFF) ^ s2) & _M
    b = s2 >> 32
    c = (s1 & 0xFFF00000) | (s3 >> 44)
    d = s1 >> 32
    return s3, (a | b << 32 | c << 64 | d << 96).to_bytes(16, "little")


def _september(date: dt.date, seed: int) -> list[str]:
    x = (date.day * date.month * date.year) ^ seed
    tlds = _TLDS_CE7F8514 if seed == 0xCE7F8514 else _TLDS
    letters = _LETTERS
    out = []
    for n in range(_COUNT):
        x, first = _block(x)
        x, second = _block(x)
        label = "".join(letters[b % 25] for b in first) + letters[second[0] % 25]
        out.append(label + "." + tlds[(date.day + n) % 8])
    return out


class RanbyusDga(BaseDga):
    """Ranbyus: 40 names a day from the date and a build seed (two variants of 2015)."""

    name = "ranbyus"
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=tuple(sorted(set(_TLDS) | set(_TLDS_CE7F8514))),
        seeding="time-dependent",
        active_years=(2014, 2016),
        params=(
            DgaParam(
                "variant",
                "september",
                "DGA variant: may (14 letters) or september 2015 (17 letters)",
                choices=("may", "september"),
            ),
            DgaParam("seed", 0x0F0D5BFA, "the build's 32-bit seed", minimum=0, maximum=_M),
        ),
        reference="https://johannesbader.ch/2015/09/ranbyuss-dga-revisited/",
        notes="the may variant's published list uses seed 0xB6354BC3 (set seed= with variant=may)",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The 40 names of `key`."""
        seed = int(params["seed"])
        if params["variant"] == "may":
            return _may(key, seed)
        if params["variant"] == "september":
            return _september(key, seed)
        raise DgaError(f"ranbyus: unknown variant {params['variant']!r}")  # pragma: no cover


FAMILY = Family(
    name="ranbyus",
    summary="Ranbyus banking trojan (2015 builds): 40 seeded names a day",
    channels=(Channel("dga", dga=RanbyusDga(), note="the C&C channel of the analysed builds"),),
    references=(
        "J. Bader, 'The DGA of Ranbyus' (2015) and 'Ranbyus's DGA, Revisited' (2015), "
        "https://johannesbader.ch/2015/09/ranbyuss-dga-revisited/",
        "baderj/domain_generation_algorithms, ranbyus/may and ranbyus/september (example lists)",
    ),
)
