"""reconyc: the Reconyc trojan and its DGA seeded by the tick count (unpredictable).

Reconyc (Kaspersky's Trojan.Win32.Reconyc) is a Windows trojan whose C&C
names come from a domain generation algorithm seeded with ``GetTickCount``:
the milliseconds since the machine booted. Every infected machine therefore
walks its own list, and no one can compute in advance which names a given
bot will try. J. Bader published the algorithm anyway (baderj/
domain_generation_algorithms ``reconyc/``, July 2019, sample MD5
d7e3bbdc38aa18b214fed3518798b86b) as material for testing DGA detectors;
this module does the same. A takedown cannot pre-register these names: the
model lists the names of one seed (the published sample's by default), so
that a name seen in a feed can be matched against a seed from a memory image.

Algorithm: a Mersenne Twister (MT19937 constants and tempering) seeded with
the tick count, except that its twist leaves the last word of the state
alone (only words 0..622 are renewed). Each name is ten characters, each
``A[(62 y) >> 32]`` for the next output ``y`` and the 62-character alphabet
``A`` of the sample, followed by ``.com``; 100 names. The bot spells the
names in mixed case; DNS names are case-blind, so the model lists them in
lower case. The published list (100 names) comes from seed 434921 (found by
a search over one day of milliseconds).

Active years: 2019-2019. Bader's July 2019 publication is the dated public
record we know of; the list does not depend on the date, so this is
metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Tick count that reproduces the published sample.
DEFAULT_SEED = 434921
DEFAULT_COUNT = 100
_MAX_COUNT = 100_000
_ALPHABET = "iHRYg79zJXaGw1CF5K0d3vZobhAlx6StUBnjOIMpe2yVuPr4sL8DqmQTkEcWNf".lower()
_M32 = 0xFFFFFFFF


def _initial_state(seed: int) -> list[int]:
    state = [seed]
    for i in range(1, 624):
        previous = state[-1]
        state.append((1812433253 * (previous ^ (previous >> 30)) + i) & _M32)
    return state


def _twist(mt: list[int]) -> None:
    """Renew words 0..622 in place (the sample's twist never touches word 623)."""
    for i in range(623):
        x = (mt[i] & 0x80000000) | (mt[i + 1] & 0x7FFFFFFF)
        mt[i] = mt[(i + 397) % 624] ^ (x >> 1) ^ (0x9908B0DF if x & 1 else 0)


def _tempered(word: int) -> int:
    word ^= word >> 11
    word ^= (word << 7) & 0x9D2C5680
    word ^= (word << 15) & 0xEFC60000
    return word ^ (word >> 18)


@lru_cache(maxsize=16)
def names(seed: int, count: int) -> tuple[str, ...]:
    """The first `count` names of the tick-count seed `seed`."""
    mt = _initial_state(seed)
    letters: list[str] = []
    needed = 10 * count
    alphabet = _ALPHABET
    while len(letters) < needed:
        _twist(mt)
        letters.extend(alphabet[(62 * _tempered(word)) >> 32] for word in mt)
    text = "".join(letters)
    return tuple(text[i : i + 10] + ".com" for i in range(0, needed, 10))


class ReconycDga(BaseDga):
    """Reconyc: a tick-count-seeded twister spelling ten-character ``.com`` names."""

    name = "reconyc"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("com",),
        seeding="time-independent",
        active_years=(2019, 2019),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "the bot's tick count at start (ms since boot); 434921 gives the published list",
                minimum=0,
                maximum=_M32,
            ),
            DgaParam(
                "count", DEFAULT_COUNT, "how many names to list", minimum=1, maximum=_MAX_COUNT
            ),
        ),
        reference="baderj/domain_generation_algorithms reconyc/ (J. Bader, 2019)",
        notes="seeded by GetTickCount: each machine has its own list; names cannot be "
        "predicted, only matched against a known seed",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The first `count` names of the seed."""
        seed, count = params["seed"], params["count"]
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= _M32:
            raise DgaError(f"reconyc: seed={seed!r} is not a 32-bit tick count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
            raise DgaError(f"reconyc: count={count!r} is not an integer in 1..{_MAX_COUNT}")
        return list(names(seed, count))


FAMILY = Family(
    name="reconyc",
    summary="Windows trojan: DGA seeded by the tick count, a different list on every machine",
    channels=(
        Channel(
            "dga",
            dga=ReconycDga(),
            note="unpredictable: seeded by GetTickCount, so names cannot be planned ahead; the "
            "listed names are those of one seed",
        ),
    ),
    references=(
        "J. Bader, DGA of Reconyc (2019), github.com/baderj/domain_generation_algorithms, "
        "reconyc/ (published example domains)",
    ),
)
