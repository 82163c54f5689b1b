"""vawtrak: Vawtrak (Neverquest) banking trojan's seeded, date-independent DGAs (2016).

Vawtrak builds carry C&C names and addresses in their configuration and, in
the 2016 builds J. Bader analysed, fall back to names generated from a 32-bit
seed stored in the build; the date is not an input (J. Bader, "The DGA of
Vawtrak", 2016, and the follow-up on the second and third variants, 2016-12
and 2017-01; baderj/domain_generation_algorithms ``vawtrak/``).

The algorithm in words: the C library's LCG ``r = 1103515245*r + 12345 mod
2**31``.

* ``version=1``: per name, length ``7 + r mod 5``, then that many letters
  ``'a' + r mod 26``, one step each; ``.top``.
* ``version=2`` and ``version=3``: per name, one step gives the length ``7 + r
  mod 5``, one more a flag ``p = r mod 2``; per letter, ``r`` is first
  increased by 2 (version 2) or 0x1895120F (version 3) and stepped; if ``p``
  is set the letter is a consonant of ``cdfghlmnrstw`` (``r mod 12``) and
  ``p`` counts down, else a vowel of ``aeiou`` (``r mod 5``) and one more step
  sets ``p = 1 + r mod 2``; ``.com``. Seeds: version 2 0x5884C3C4 (the
  published list, 100 names) and 0x5542B2; version 3 0x874C49 and 0x3CDCA1.

Active years: 2015-2017. The seeded DGA builds are from 2016 (Bader's posts of
2016-10 to 2017-01); we chose one year either side. The list does not depend
on the date, so these years are metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_SEED = 0x5884C3C4
DEFAULT_COUNT = 100
_M31 = 0x7FFFFFFF
_STEP = {2: 2, 3: 0x1895120F}
_CONSONANTS = "cdfghlmnrstw"
_VOWELS = "aeiou"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=32)
def _names(version: int, seed: int, count: int) -> tuple[str, ...]:
    r = seed & _M31
    out = []
    if version == 1:
        for _ in range(count):
            r = (1103515245 * r + 12345) & _M31
            label = []
            for _ in range(7 + r % 5):
                r = (1103515245 * r + 12345) & _M31
                label.append(_LETTERS[r % 26])
            out.append("".join(label) + ".top")
        return tuple(out)
    step = _STEP[version]
    for _ in range(count):
        r = (1103515245 * r + 12345) & _M31
        length = 7 + r % 5
        r = (1103515245 * r + 12345) & _M31
        p = r % 2
        label = []
        for _ in range(length):
            r = (1103515245 * (r + step) + 12345) & _M31
            if p:
                label.append(_CONSONANTS[r % 12])
                p -= 1
            else:
                label.append(_VOWELS[r % 5])
                r = (1103515245 * r + 12345) & _M31
                p = 1 + r % 2
        out.append("".join(label) + ".com")
    return tuple(out)


class VawtrakDga(BaseDga):
    """Vawtrak 2016: names from a build seed and the C library's LCG, no date."""

    name = "vawtrak"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("com", "top"),
        seeding="time-independent",
        active_years=(2015, 2017),
        params=(
            DgaParam("version", 2, "DGA variant (1: .top, 2 and 3: .com)", choices=(1, 2, 3)),
            DgaParam("seed", DEFAULT_SEED, "the build's 32-bit seed", minimum=0, maximum=2**32 - 1),
            DgaParam("count", DEFAULT_COUNT, "names generated", minimum=1, maximum=1 << 16),
        ),
        reference="J. Bader, 'The DGA of Vawtrak' (2016); baderj/domain_generation_algorithms",
        notes="version 1 and 3 have no published list here; version 3's seeds are 0x874C49, "
        "0x3CDCA1",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's names (the same on every day)."""
        version, seed, count = int(params["version"]), int(params["seed"]), int(params["count"])
        if version not in (1, 2, 3):  # pragma: no cover - DgaParam choices refuse it first
            raise DgaError(f"vawtrak: unknown version {version}")
        return list(_names(version, seed, count))


FAMILY = Family(
    name="vawtrak",
    summary="Vawtrak/Neverquest banking trojan (2016 builds): seeded names, no date",
    channels=(
        Channel(
            "static-domains",
            note="builds carry configured C&C names and addresses; none listed here",
        ),
        Channel("dga", dga=VawtrakDga(), note="fallback; the seed differs between builds"),
    ),
    references=(
        "J. Bader, 'The DGA of Vawtrak' (2016), johannesbader.ch",
        "baderj/domain_generation_algorithms, vawtrak/ (seeds, example list)",
    ),
    aliases=("neverquest",),
)
