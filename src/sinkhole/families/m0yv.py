"""m0yv: the m0yv malware and its 128-name ``.biz`` DGA (formerly taken for Expiro).

m0yv (Malpedia ``win.m0yv``) is a Windows malware family whose C&C names come
from a domain generation algorithm; J. Bader described it in 2022, noting
that its samples had been mis-classified as Expiro, and sinkholed it (video
"Sinkholing the Domain Generation Algorithm of m0yv"). The DGA is the only
channel modelled here.

Algorithm (baderj/domain_generation_algorithms ``m0yv/``, 2022): for ``i``
in 0..127 the bot seeds the Microsoft C runtime's ``rand`` (``r = 214013 r +
2531011 mod 2**32``, output bits 16-30) with ``seed ^ i``; the first output
``k`` gives the length ``5 + k mod 5``, each further output a letter
``'a' + v mod 26``; then ``.biz``. The build seed is 0x02484A18 in the
published sample; 0x00128A0E and 0x7178AF3F are other known seeds (the
``seed`` parameter). A time-dependent variant, which first mixes the year
and a week-like count into the seed, is described in the same collection
without a published sample; it is not modelled.

Active years: 2022-2022. Bader's 2022 analysis is the dated public record we
know of; the list does not depend on the date, so this is metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_SEED = 0x02484A18
KNOWN_SEEDS = (0x02484A18, 0x00128A0E, 0x7178AF3F)
_COUNT = 128
_M32 = 0xFFFFFFFF


@lru_cache(maxsize=16)
def names(seed: int) -> tuple[str, ...]:
    """The 128 names of a build seed."""
    out = []
    for i in range(_COUNT):
        r = (214013 * (seed ^ i) + 2531011) & _M32
        length = 5 + ((r >> 16) & 0x7FFF) % 5
        label = bytearray()
        for _ in range(length):
            r = (214013 * r + 2531011) & _M32
            label.append(97 + ((r >> 16) & 0x7FFF) % 26)
        out.append(label.decode("ascii") + ".biz")
    return tuple(out)


class M0yvDga(BaseDga):
    """m0yv: 128 ``.biz`` names, each from the C runtime's rand seeded by ``seed ^ i``."""

    name = "m0yv"
    info = DgaInfo(
        period="none",
        per_period=_COUNT,
        tlds=("biz",),
        seeding="time-independent",
        active_years=(2022, 2022),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "32-bit build seed (known: 0x02484A18, 0x00128A0E, 0x7178AF3F)",
                minimum=0,
                maximum=_M32,
            ),
        ),
        reference="J. Bader, baderj/domain_generation_algorithms m0yv/ (2022)",
        notes="the time-dependent variant (no published sample) is not modelled",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's 128 names."""
        return list(names(int(params["seed"])))


FAMILY = Family(
    name="m0yv",
    summary="Windows malware once taken for Expiro: 128 fixed .biz DGA names per build seed",
    channels=(Channel("dga", dga=M0yvDga(), note="128 names per build seed"),),
    references=(
        "Malpedia, win.m0yv, https://malpedia.caad.fkie.fraunhofer.de/details/win.m0yv",
        "J. Bader, 'Sinkholing the Domain Generation Algorithm of m0yv' (video, 2022)",
        "github.com/baderj/domain_generation_algorithms, m0yv/ (published example domains)",
    ),
)
