"""gozi: the Gozi/ISFB banking trojan's wordlist DGA (2015-2016 builds).

Gozi ISFB builds of 2015-2016 carry a text (Luther's 95 theses in Latin, the
GPL, a NASA document, RFC 4343) and make C&C names by gluing its words
together (J. Bader, "The DGA of Gozi/ISFB" notes and
baderj/domain_generation_algorithms ``gozi/``). Those builds also carry static
C&C names in their configuration, tried before the DGA; they differ per
campaign, so this module lists none (an operation adds them as
``static-domains``).

The algorithm in words: the days since 2015-01-01, divided (floor) by a
per-wordlist period of 3, 4 or 5 days, plus 65536 and minus 306607824 (mod
2**32), seed the linear congruential generator ``r = 1664525*r + 1013904223
mod 2**32``. For each of 12 names: one draw is discarded, the next gives the
target length ``12 + r mod 12``; then, until the label reaches that length,
one draw picks a word (``r mod len(words)``), one more halves it (floor) when
``r mod 3 == 0``, and the (half) word is appended only if the label stays at
most 24 characters. The wordlists ship in ``sinkhole/data/dga/gozi``.

Known configurations (the ``wordlist`` parameter): ``luther`` 4-day period,
``.com`` (the published example); ``rfc4343`` 3 days, ``.com``; ``nasa`` 5
days, ``.com``; ``gpl`` 5 days, ``.ru``. The list is keyed per day here (the
period depends on the parameter), so consecutive days of one period repeat
the same 12 names.

Active years: 2015-2016. The seed counts from 2015-01-01 and Bader published
the wordlist DGA in March 2016 from current samples; later ISFB versions
(v3, 2017 on) moved to other C&C schemes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole import wordlists
from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: wordlist -> (period in days, TLD)
CONFIGS: dict[str, tuple[int, str]] = {
    "luther": (4, "com"),
    "rfc4343": (3, "com"),
    "nasa": (5, "com"),
    "gpl": (5, "ru"),
}
_COUNT = 12
_EPOCH = dt.date(2015, 1, 1).toordinal()
_MASK = 0xFFFFFFFF


def _names(periods: int, words: tuple[str, ...], tld: str) -> list[str]:
    r = ((1 << 16) + periods - 306607824) & _MASK
    n = len(words)
    suffix = "." + tld
    out: list[str] = []
    for _ in range(_COUNT):
        r = (1664525 * r + 1013904223) & _MASK
        r = (1664525 * r + 1013904223) & _MASK
        length = r % 12 + 12
        label = ""
        while len(label) < length:
            r = (1664525 * r + 1013904223) & _MASK
            word = words[r % n]
            r = (1664525 * r + 1013904223) & _MASK
            if r % 3 == 0:
                word = word[: len(word) >> 1]
            if len(label) + len(word) <= 24:
                label += word
        out.append(label + suffix)
    return out


class GoziDga(BaseDga):
    """Gozi/ISFB 2015-2016: 12 names glued from the words of a shipped text."""

    name = "gozi"
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=("com", "ru"),
        seeding="time-dependent",
        active_years=(2015, 2016),
        params=(
            DgaParam(
                "wordlist",
                "luther",
                "the text the build carries (sets the period and TLD)",
                choices=tuple(CONFIGS),
            ),
        ),
        reference="J. Bader, baderj/domain_generation_algorithms gozi/",
        notes="the list changes every 4 days (luther), 3 (rfc4343) or 5 (nasa, gpl), "
        "counted from 2015-01-01; gpl names are under .ru",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The 12 names of the period that contains `key`."""
        wordlist = str(params["wordlist"])
        period, tld = CONFIGS[wordlist]
        periods = (key.toordinal() - _EPOCH) // period
        return _names(periods, wordlists.load("gozi", wordlist), tld)


FAMILY = Family(
    name="gozi",
    summary="Gozi/ISFB banking trojan (2015-2016 builds): names glued from words of a text",
    channels=(
        Channel(
            "static-domains",
            note="builds carry campaign C&C names in their configuration; none are "
            "public for the modelled builds (add them to the operation)",
        ),
        Channel("dga", dga=GoziDga(), note="fallback when the configured names fail"),
    ),
    references=(
        "J. Bader, baderj/domain_generation_algorithms, gozi/ (algorithm, wordlists, example list)",
        "DGArchive (Fraunhofer FKIE), family gozi",
    ),
    aliases=("isfb",),
)
