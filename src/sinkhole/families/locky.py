"""locky: the Locky ransomware's seeded DGAs (version 2, February 2016; version 3, mid 2016).

Locky (2016-2017) reaches its C&C first through IP addresses and names in its
configuration (they differ per affiliate and campaign; none are listed here)
and then through a DGA whose output depends on the date and a per-affiliate
seed (Forcepoint, "Locky's new DGA - seeding the new domains", 2016; J. Bader,
baderj/domain_generation_algorithms ``locky/``).

The algorithm in words, with ``f(x) = ror32(0xB11924E1 * x, shift)``:

* version 2 (``version=2``): ``t = f(year + 0x1BF5)``; with a non-zero seed
  ``t = f(t + seed + 0x27100001)``; then ``t = f(t + day/2 + 0x27100001)``
  (integer halving: days 2k and 2k+1 share a list) and ``t = f(t + month +
  0x2709A354)``. Name ``n`` (0..7) starts from ``r = f(rol32(n mod (shift+1),
  21) + t + rol32(seed, 17) + 0x27100001) + 0x27100001``; its length is ``5 +
  r mod 11``; each letter ``i`` is ``'a' + r mod 25`` after ``r =
  f(rol32(r, i)) + 0x27100001`` (so never ``z``); the TLD is ``(f(r) +
  0x27100001) mod 14`` into ``ru pw eu in yt pm us fr de it be uk nl tf``.
  Known seeds: 62 (the published example), 75, 9, 7, 0 (with shift 5), 660,
  555; shift 7 otherwise.
* version 3 (``version=3``): seven rounds over ``year + round`` mix the seed,
  day/2, month, ``rol32(seed, 17)`` and ``rol32(n, 21)``; length ``7 + k mod
  11``; letters as above; TLD from ``ru info biz click su work pl org pw
  xyz``; 12 names. Known seeds include 7077, 5566, 9106, 5579, 111, 9044,
  9099, 9047, 9133, 9199, 9190, 9088, 9998, 9992, 1511, 1513, 1517, 9056,
  7773, 7743.

Active years: 2016-2017. Locky appeared in February 2016 (the version 2
example is seeded 2016-02-28); its campaigns ended in late 2017.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

V2_TLDS = ("ru", "pw", "eu", "in", "yt", "pm", "us", "fr", "de", "it", "be", "uk", "nl", "tf")
V3_TLDS = ("ru", "info", "biz", "click", "su", "work", "pl", "org", "pw", "xyz")
V2_SEEDS = (62, 75, 9, 7, 0, 660, 555)
V3_SEEDS = (7077, 5566, 9106, 5579, 111, 9044, 9099, 9047, 9133, 9199, 9190, 9088, 9998,
            9992, 1511, 1513, 1517, 9056, 7773, 7743)  # fmt: skip
_MUL = 0xB11924E1
_ADD = 0x27100001
_M = 0xFFFFFFFF
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _f(x: int, shift: int) -> int:
    """ror32(0xB11924E1 * x, shift)."""
    v = (_MUL * x) & _M
    return ((v >> shift) | (v << (32 - shift))) & _M


def _rol(v: int, s: int) -> int:
    v &= _M
    return ((v << s) | (v >> (32 - s))) & _M


def _spell(r: int, length: int, shift: int, tlds: tuple[str, ...]) -> str:
    label = []
    for i in range(length):
        r = (_f(_rol(r, i), shift) + _ADD) & _M
        label.append(_LETTERS[r % 25])
    return "".join(label) + "." + tlds[((_f(r, shift) + _ADD) & _M) % len(tlds)]


def _v2(date: dt.date, seed: int, shift: int) -> list[str]:
    t = _f(date.year + 0x1BF5, shift)
    if seed:
        t = _f(t + seed + _ADD, shift)
    t = _f(t + date.day // 2 + _ADD, shift)
    t = _f(t + date.month + 0x2709A354, shift)
    base = t + _rol(seed, 17) + _ADD
    out = []
    for n in range(8):
        r = (_f(_rol(n % (shift + 1), 21) + base, shift) + _ADD) & _M
        out.append(_spell(r, 5 + r % 11, shift, V2_TLDS))
    return out


def _v3(date: dt.date, seed: int) -> list[str]:
    seed17 = _rol(seed, 17)
    out = []
    for n in range(12):
        k = 0
        extra = seed17 + _rol(n, 21)
        for year in range(date.year, date.year + 7):
            t1 = ((_f(year + k + 0x1BF5, 7) + _ADD) ^ k) & _M
            t3 = ((_f(t1 + seed, 7) + _ADD) ^ t1) & _M
            t5 = (0xD8EFFFFF - _f(date.day // 2 + t3, 7) + t3) & _M
            t7 = (t5 + _f(date.month + t5 - 0x65CAD, 7) + _ADD) & _M
            k = ((_f(t7 + extra, 7) + _ADD) ^ t7) & _M
        out.append(_spell(k, 7 + k % 11, 7, V3_TLDS))
    return out


class LockyDga(BaseDga):
    """Locky: 8 (version 2) or 12 (version 3) names a day from the date and an affiliate seed."""

    name = "locky"
    info = DgaInfo(
        period="daily",
        per_period=8,
        tlds=tuple(sorted(set(V2_TLDS) | set(V3_TLDS))),
        seeding="time-dependent",
        active_years=(2016, 2017),
        params=(
            DgaParam("version", 2, "DGA version: 2 (Feb 2016) or 3 (mid 2016)", choices=(2, 3)),
            DgaParam(
                "seed",
                62,
                "the affiliate seed from the build's configuration",
                minimum=0,
                maximum=_M,
            ),
            DgaParam(
                "shift", 7, "version 2's rotation (7; 5 in the seed-0 build)", minimum=1, maximum=31
            ),
        ),
        reference="Forcepoint, 'Locky's new DGA' (2016); baderj/domain_generation_algorithms",
        notes="days 2k and 2k+1 of a month share a list; version 3 gives 12 names a day",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The names of `key`, in the bot's order."""
        seed, shift = int(params["seed"]), int(params["shift"])
        if int(params["version"]) == 2:
            return _v2(key, seed, shift)
        if shift != 7:
            raise DgaError("locky: version 3 always rotates by 7 (leave shift at 7)")
        return _v3(key, seed)


FAMILY = Family(
    name="locky",
    summary="Locky ransomware (2016-2017): seeded daily DGA after configured C&C addresses",
    channels=(
        Channel(
            "static-ips",
            note="builds carry C&C addresses per affiliate/campaign; none listed here",
        ),
        Channel("dga", dga=LockyDga(), note="names seeded by date and the affiliate seed"),
    ),
    references=(
        "Forcepoint Security Labs, 'Locky's new DGA - seeding the new domains' (2016)",
        "baderj/domain_generation_algorithms, locky/ (configurations, example list)",
        "DGArchive (Fraunhofer FKIE), family locky",
    ),
)
