"""Ramnit (Nimnul): banking trojan with hard-coded C&C domains and a seeded, time-independent DGA.

Ramnit's bots carry a list of hard-coded C&C domains and, as a backup, a
domain generation algorithm whose only input is a 32-bit seed (and a domain
count and TLD list) stored in the sample: a given build generates the same
domains forever. Europol's 2015 takedown sinkholed the generated names of the
known seeds.

Algorithm (Johannes Bader, "The DGA of Ramnit", johannesbader.ch / bin.re,
21 Dec 2014; DGArchive): a Park-Miller-style step computed Schrage-fashion
and wrapped to 32 bits, ``x = 16807 (x mod 127773) - 2836 (x div 127773)
(mod 2^32)``, answers ``x % m``. For each domain: the label length is
``8 + rand(12)``, each letter ``'a' + rand(25)`` (so never ``z``); then the
state becomes ``(p + p div 2^32) mod 2^32`` for ``p`` the product of the states
before the length draw and after it. TLDs cycle through the sample's list
(``.com`` in most samples).

Active years: 2010-2015, from Ramnit's turn into a banking trojan (2010)
to Europol's takedown (February 2015). The list does not depend on the date,
so these years are metadata only.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Seeds published by Bader (2014) as observed in the wild.
KNOWN_SEEDS = (0xEF214BBF, 0x28488EEA, 0x4BFCBC6A, 0x79159C10)
#: Domains listed by default: the count is per sample and rarely published; 1000 covers it.
DEFAULT_COUNT = 1000
_MAX_COUNT = 1_000_000
_CACHE_COUNT = 100_000
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _tld_list(raw: str) -> list[str]:
    """'com' / 'click bid eu' / '.eu' -> ['com'] / ['click', 'bid', 'eu'] / ['eu']."""
    tlds = [t.strip().lstrip(".").lower() for t in raw.replace(",", " ").split()]
    if not tlds or not all(_LABEL.fullmatch(t) for t in tlds):
        raise DgaError(f"ramnit: bad tlds {raw!r}: expected TLDs separated by spaces")
    return tlds


class RamnitDga(BaseDga):
    """Ramnit's DGA: `count` domains from a 32-bit seed, the same every day."""

    name = "ramnit"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("com", "click", "bid", "eu"),
        seeding="time-independent",
        active_years=(2010, 2015),
        params=(
            DgaParam("seed", 0x79159C10, "32-bit seed of the sample (e.g. 0x79159C10)"),
            DgaParam(
                "count", DEFAULT_COUNT, "domains generated from the seed (a prefix of the cycle)"
            ),
            DgaParam("tlds", "com", "TLDs the sample cycles through, space-separated"),
        ),
        reference="Johannes Bader, The DGA of Ramnit (2014)",
        notes=(
            "seeds observed in the wild: 0xEF214BBF 0x28488EEA 0x4BFCBC6A 0x79159C10; "
            "most samples use .com, some 'click bid eu' or 'eu' (tlds lists the published ones)"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The seed's first `count` domains (`key` is TIMELESS and ignored)."""
        seed = int(params["seed"])
        count = int(params["count"])
        if not 0 <= seed <= 0xFFFFFFFF:
            raise DgaError(f"ramnit: seed {seed:#x} is not a 32-bit value")
        if not 0 <= count <= _MAX_COUNT:
            raise DgaError(f"ramnit: count {count} outside 0..{_MAX_COUNT}")
        tlds = tuple(_tld_list(str(params["tlds"])))
        if count <= _CACHE_COUNT:
            return list(_cached_domains(seed, count, tlds))
        return _domains(seed, count, tlds)


def _domains(seed: int, count: int, tlds: tuple[str, ...]) -> list[str]:
    """The generator itself: Schrage-style steps wrapped to 32 bits."""
    suffixes = ["." + t for t in tlds]
    ntlds = len(suffixes)
    letters = _LETTERS
    x = seed
    out = []
    for i in range(count):
        before = x
        x = (16807 * (x % 127773) - 2836 * (x // 127773)) & 0xFFFFFFFF
        after = x
        chars = []
        for _ in range(x % 12 + 8):
            x = (16807 * (x % 127773) - 2836 * (x // 127773)) & 0xFFFFFFFF
            chars.append(letters[x % 25])
        out.append("".join(chars) + suffixes[i % ntlds])
        product = before * after
        x = (product + (product >> 32)) & 0xFFFFFFFF
    return out


@functools.lru_cache(maxsize=16)
def _cached_domains(seed: int, count: int, tlds: tuple[str, ...]) -> tuple[str, ...]:
    """A seed's list never changes, so recent ones are kept (up to `_CACHE_COUNT` names)."""
    return tuple(_domains(seed, count, tlds))


FAMILY = Family(
    name="ramnit",
    summary="Ramnit/Nimnul banking trojan: hard-coded C&C domains, then a seeded DGA",
    channels=(
        Channel(
            "static-domains",
            note="C&C domains hard-coded per build; supply them in the operation file",
        ),
        Channel("dga", dga=RamnitDga(), note="seeded, time-independent: same list every day"),
    ),
    references=(
        "Johannes Bader, 'The DGA of Ramnit' (johannesbader.ch / bin.re, 2014)",
        "github.com/baderj/domain_generation_algorithms, ramnit/ (examples for seed 0x79159C10)",
        "DGArchive (Fraunhofer FKIE), ramnit",
        "Europol EC3, Ramnit botnet takedown (February 2015)",
    ),
    aliases=("nimnul",),
)
