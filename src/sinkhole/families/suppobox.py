"""suppobox: a wordlist DGA that names C&C by two English words every 512 seconds.

Suppobox (DGArchive's name; Trend Micro's Nivdort is the same malware family,
spread by the Bayrob group) finds its C&C only through a domain generation
algorithm, as Endgame described it ("Malware with a personal touch", 2014;
RSA Conference 2015, "End-to-end analysis of a domain generating algorithm
malware family"). No static names or peer-to-peer channel are described.

The algorithm in words: the Unix time divided by 512 is a counter ``c``.
Its 15 low bits are scattered over 15 positions by a fixed shuffle
(bit ``i`` of ``c`` goes to position 3, 9, 13, 6, 2, 4, 11, 7, 14, 1, 10, 5,
8, 12, 0 for i = 0..14); positions 0-6 read as a 7-bit number pick the
first word, positions 7-14 as an 8-bit number plus 128 pick the second word,
both from one 384-word list shipped in the build; the name is the two words
joined, under ``.net``. At one moment a bot tries the names of counters
``c .. c+84`` (85 names). Three wordlists are known (1 and 2 from Endgame's
samples, 3 provided to J. Bader by S. Nemes); they ship in
``sinkhole/data/dga/suppobox``. The names repeat every 2**15 counters (about
194 days), so there are at most 32 768 names per wordlist.

Our day list holds every counter a bot can try on a UTC day: from the counter
of midnight, 254 counters (168.75 512-second steps a day plus 84 ahead; on a
day with one step fewer, the last name is tried from just after the next
midnight). :func:`domains_at` gives the 85 names of one moment.

Active years: 2014-2016. Endgame published the DGA in 2014 from current
samples; Bader's example lists date from October and December 2015; the
Bayrob group behind Nivdort was arrested in September 2016 (US DoJ, 2016).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole import wordlists
from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Names a bot tries at one moment: counters c .. c+84.
PER_MOMENT = 85
#: Counters a UTC day touches: ceil(86400 / 512) + 84.
PER_DAY = 254
_CYCLE = 1 << 15
_SHUFFLE = (3, 9, 13, 6, 2, 4, 11, 7, 14, 1, 10, 5, 8, 12, 0)


def _word_indices(counter: int) -> tuple[int, int]:
    positions = [0] * 15
    for bit, position in enumerate(_SHUFFLE):
        positions[position] = (counter >> bit) & 1
    first = int("".join(map(str, positions[:7])), 2)
    second = int("".join(map(str, positions[7:])), 2) + 128
    return first, second


#: counter mod 2**15 -> the two word indices (the same for every wordlist)
_PAIRS = tuple(_word_indices(c) for c in range(_CYCLE))


@lru_cache(maxsize=4)
def _cycle(wordlist: int) -> tuple[str, ...]:
    """The 32 768 names of one wordlist, by counter mod 2**15, twice (for wrap-free slices)."""
    words = wordlists.load("suppobox", f"words{wordlist}")
    names = tuple(words[a] + words[b] + ".net" for a, b in _PAIRS)
    return names + names


def domains_at(timestamp: int, wordlist: int = 1) -> list[str]:
    """The 85 names a bot tries at one moment (Unix seconds)."""
    start = (timestamp >> 9) % _CYCLE
    return list(_cycle(wordlist)[start : start + PER_MOMENT])


class SuppoboxDga(BaseDga):
    """Suppobox: two words of a 384-word list per 512-second counter, 85 counters at a time."""

    name = "suppobox"
    #: the counter is Unix time / 512: nothing before 1970
    supported = (dt.date(1970, 1, 1), dt.date.max)
    info = DgaInfo(
        period="daily",
        per_period=PER_DAY,
        tlds=("net",),
        seeding="time-dependent",
        active_years=(2014, 2016),
        params=(
            DgaParam(
                "wordlist",
                1,
                "which known 384-word list the build carries (1, 2 or 3)",
                minimum=1,
                maximum=3,
            ),
        ),
        reference="Endgame, 'Malware with a personal touch' (2014); "
        "J. Bader, domain_generation_algorithms/suppobox",
        notes="the list moves every 512 seconds; a day's list is every name tried that UTC day",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """Every name tried on the UTC day `key`, by counter."""
        midnight = (key.toordinal() - 719163) * 86400
        start = (midnight >> 9) % _CYCLE
        return list(_cycle(int(params["wordlist"]))[start : start + PER_DAY])


FAMILY = Family(
    name="suppobox",
    summary="Nivdort/Bayrob-era wordlist DGA: two English words .net, moving every 512 s",
    channels=(
        Channel(
            "dga",
            dga=SuppoboxDga(),
            note="the only described C&C channel; the wordlist differs between builds",
        ),
    ),
    references=(
        "Endgame, 'Malware with a personal touch' (2014), "
        "https://www.endgame.com/blog/malware-with-a-personal-touch.html",
        "RSA Conference 2015, 'End-to-end analysis of a domain generating algorithm "
        "malware family' (br-r01)",
        "baderj/domain_generation_algorithms, suppobox/ (wordlists, example lists)",
    ),
    aliases=("nivdort",),
)
