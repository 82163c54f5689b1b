"""ngioweb: the Ngioweb proxy botnet (Windows, then Linux/IoT) and its wordlist DGA.

Ngioweb turns infected machines into proxies: first a Windows module of the
Ramnit ecosystem, then Linux and IoT builds (360 Netlab, "An Analysis of
Linux.Ngioweb Botnet", August 2019, and "Quick update on the Linux.Ngioweb
botnet, now it is going after IoT devices", 2020). Lumen's Black Lotus Labs
tied it to the NSOCKS residential-proxy service in November 2024. Its bots
find their C&C through a domain generation algorithm seeded per build, the
only channel modelled here.

Algorithm (Netlab; J. Bader, baderj/domain_generation_algorithms
``ngioweb/``, 2023): a linear congruential generator ``r = 1103515245 r +
12345 (mod 2**32)``, seeded with the build seed, runs through the whole list;
each draw ``rand(n)`` is the new ``r mod n``. A name has ``rand(3) + 1``
parts joined by ``-``; a part is a prefix word (30 words), then
``rand(3) + 4`` letters that alternate between vowels (``aeiou``) and
consonants (``bcdfghklmnprstvxz``), starting with a vowel when the text so
far ends in a consonant, then a suffix word: one of 35 when the text ends in
a consonant, one of 16 otherwise. The TLD is drawn from ``.net .info .com
.biz .org .name``. The word lists ship in ``sinkhole/data/dga/ngioweb``.
Known seeds (the ``seed`` parameter): 0x56EDC15 (Bader's sample, the
published list of 1024 names, the default), 0x5397FB1 (Netlab, 2019),
0x1275C63, 0x4BC65BC and 0x375D5A (Netlab, 2020).

Active years: 2019-2024. Netlab's reports (2019, 2020) and Black Lotus Labs'
(November 2024) span the public record we use; the list does not depend on
the date, so this is metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole import wordlists
from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_SEED = 0x56EDC15
KNOWN_SEEDS = (0x56EDC15, 0x5397FB1, 0x1275C63, 0x4BC65BC, 0x375D5A)
DEFAULT_COUNT = 1024
_MAX_COUNT = 100_000
_TLDS = ("net", "info", "com", "biz", "org", "name")
_VOWELS = "aeiou"
_CONSONANTS = "bcdfghklmnprstvxz"
_M32 = 0xFFFFFFFF


@lru_cache(maxsize=16)
def names(seed: int, count: int) -> tuple[str, ...]:
    """The first `count` names of a build seed."""
    prefixes = wordlists.load("ngioweb", "prefixes")
    after_consonant = wordlists.load("ngioweb", "after_consonant")
    after_vowel = wordlists.load("ngioweb", "after_vowel")
    suffixes = tuple("." + tld for tld in _TLDS)
    vowels, consonants = _VOWELS, _CONSONANTS
    r = seed

    def draw(modulus: int) -> int:
        nonlocal r
        r = (1103515245 * r + 12345) & _M32
        return r % modulus

    out = []
    for _ in range(count):
        parts = []
        for _ in range(draw(3) + 1):
            part = prefixes[draw(len(prefixes))]
            vowel = part[-1] not in vowels
            letters = [part]
            for _ in range(draw(3) + 4):
                alphabet = vowels if vowel else consonants
                letters.append(alphabet[draw(len(alphabet))])
                vowel = not vowel
            # the letters alternate, so the last one decides the suffix list
            words = after_consonant if letters[-1] not in vowels else after_vowel
            letters.append(words[draw(len(words))])
            parts.append("".join(letters))
        out.append("-".join(parts) + suffixes[draw(len(suffixes))])
    return tuple(out)


class NgiowebDga(BaseDga):
    """Ngioweb: one to three pronounceable parts from word lists, per build seed."""

    name = "ngioweb"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=_TLDS,
        seeding="time-independent",
        active_years=(2019, 2024),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "32-bit build seed (known: 0x56EDC15, 0x5397FB1, 0x1275C63, 0x4BC65BC, 0x375D5A)",
                minimum=0,
                maximum=_M32,
            ),
            DgaParam(
                "count", DEFAULT_COUNT, "how many names to list", minimum=1, maximum=_MAX_COUNT
            ),
        ),
        reference="360 Netlab, Linux.Ngioweb (2019, 2020); baderj/domain_generation_algorithms "
        "ngioweb/",
        notes="word lists in sinkhole/data/dga/ngioweb",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's names."""
        seed, count = params["seed"], params["count"]
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= _M32:
            raise DgaError(f"ngioweb: seed={seed!r} is not a 32-bit value")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
            raise DgaError(f"ngioweb: count={count!r} is not an integer in 1..{_MAX_COUNT}")
        return list(names(seed, count))


FAMILY = Family(
    name="ngioweb",
    summary="Proxy botnet (Windows, Linux, IoT): wordlist DGA seeded per build",
    channels=(Channel("dga", dga=NgiowebDga(), note="the build seed differs per sample (seed)"),),
    references=(
        "360 Netlab, 'An Analysis of Linux.Ngioweb Botnet' (August 2019), "
        "https://blog.netlab.360.com/an-analysis-of-linux-ngioweb-botnet-en/",
        "360 Netlab, 'Quick update on the Linux.Ngioweb botnet, now it is going after IoT "
        "devices' (2020), https://blog.netlab.360.com/linux-ngioweb-v2-going-after-iot-devices-en/",
        "Lumen Black Lotus Labs, Ngioweb and NSOCKS (November 2024)",
        "github.com/baderj/domain_generation_algorithms, ngioweb/ (published example domains)",
    ),
)
