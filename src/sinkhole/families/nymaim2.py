"""nymaim2: Nymaim's second DGA (2017-2018), MD5 chains over a two-wordlist dictionary.

Nymaim (a downloader, later a banking trojan that merged with Gozi ISFB code)
switched in 2017 to a DGA that builds names like ``surfaces-drawing.com`` from
two English wordlists (J. Bader, "The new domain generation algorithm of
Nymaim", 2018-04, https://johannesbader.ch/2018/04/the-new-domain-generation-algorithm-of-nymaim/).
Its builds also carry static C&C names in their configuration, tried first;
none are public for the analysed build, so this module lists none.

The algorithm in words: for day offset ``k`` = 0..10 (today, then up to ten
days back) the bot hashes ``md5hex(seed) + str(year mod 100) + str(yday - k)``
(``yday`` counted from 0; the subtraction does not wrap into the previous
year, so early January gives negative numbers). The hex digest is a state;
each draw takes its first 8 hex digits as a number and replaces the state by
the MD5 hex of the state without its first 7 characters. A name takes four
draws: first word (of 2450), separator (``-`` or none), second word (of
4387), TLD (of 74 entries, ``.com`` four times and ``.net`` four times), each
``draw mod len(list)``; 64 names per offset, 704 a day. The lists ship in
``sinkhole/data/dga/nymaim2``; the build seed is the string
``3138C81ED54AD5F8E905555A6623C9C9`` in the analysed sample.

The day list is the bot's own order (offset 0 first); each offset's 64 names
are computed once (a small cache) and shared by the 11 days that try them.

Active years: 2017-2019. Bader analysed the DGA in April 2018; DGArchive's
nymaim2 feed starts in 2017; Nymaim campaigns faded in 2019.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from functools import lru_cache

from sinkhole import wordlists
from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_SEED = "3138C81ED54AD5F8E905555A6623C9C9"
_BACK = 11
_PER_OFFSET = 64
_SEPARATORS = ("-", "")


@lru_cache(maxsize=1)
def _tables() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    tlds = tuple("." + t for t in wordlists.load("nymaim2", "tld"))
    return wordlists.load("nymaim2", "firstword"), wordlists.load("nymaim2", "secondword"), tlds


def _check_seed(params: Mapping[str, ParamValue]) -> str:
    seed = params["seed"]
    if not isinstance(seed, str) or not seed.isascii() or not seed:
        raise DgaError(f"nymaim2: seed={seed!r} is not a non-empty ASCII string")
    return seed


@lru_cache(maxsize=32)
def _offset_names(seed_hash: str, year: int, yday: int) -> tuple[str, ...]:
    """The 64 names seeded by (two-digit year, day number); a day reuses ten of yesterday's."""
    firsts, seconds, tlds = _tables()
    n1, n3, n4 = len(firsts), len(seconds), len(tlds)
    md5 = hashlib.md5
    state = md5(f"{seed_hash}{year}{yday}".encode()).hexdigest()
    out: list[str] = []
    for _ in range(_PER_OFFSET):
        a = int(state[:8], 16)
        state = md5(state[7:].encode()).hexdigest()
        b = int(state[:8], 16)
        state = md5(state[7:].encode()).hexdigest()
        c = int(state[:8], 16)
        state = md5(state[7:].encode()).hexdigest()
        d = int(state[:8], 16)
        state = md5(state[7:].encode()).hexdigest()
        out.append(firsts[a % n1] + _SEPARATORS[b & 1] + seconds[c % n3] + tlds[d % n4])
    return tuple(out)


def _day_parts(day: dt.date) -> tuple[int, int]:
    return day.year % 100, day.timetuple().tm_yday - 1


class Nymaim2Dga(BaseDga):
    """Nymaim v2: 64 word-pair names per day number, tried for today and ten days back."""

    name = "nymaim2"
    info = DgaInfo(
        period="daily",
        per_period=_BACK * _PER_OFFSET,
        tlds=tuple(sorted({t.lstrip(".") for t in _tables()[2]})),
        seeding="time-dependent",
        active_years=(2017, 2019),
        params=(DgaParam("seed", DEFAULT_SEED, "the build's seed string (hashed with MD5)"),),
        reference="https://johannesbader.ch/2018/04/the-new-domain-generation-algorithm-of-nymaim/",
        notes="704 names a day: 64 for the day and for each of the ten days before "
        "(day numbers do not wrap at New Year)",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The 704 names a bot tries on `key`, today's 64 first."""
        seed_hash = hashlib.md5(_check_seed(params).encode("ascii")).hexdigest()
        year, yday = _day_parts(key)
        names: list[str] = []
        for back in range(_BACK):
            names.extend(_offset_names(seed_hash, year, yday - back))
        return names


FAMILY = Family(
    name="nymaim2",
    summary="Nymaim's 2017-2018 DGA: word-pair names from two dictionaries, 704 a day",
    channels=(
        Channel(
            "static-domains",
            note="builds carry configured C&C names, tried first; none are public for "
            "the analysed build (add them to the operation)",
        ),
        Channel("dga", dga=Nymaim2Dga(), note="fallback when the configured names fail"),
    ),
    references=(
        "J. Bader, 'The new domain generation algorithm of Nymaim' (2018), "
        "https://johannesbader.ch/2018/04/the-new-domain-generation-algorithm-of-nymaim/",
        "baderj/domain_generation_algorithms, nymaim2/ (wordlists, example list)",
        "DGArchive (Fraunhofer FKIE), family nymaim2",
    ),
)
