"""Ramdo: a click-fraud trojan's date-independent DGA of 16-letter ``.org`` names.

Ramdo (Win32/Ramdo) is a click-fraud trojan seen from 2013. Its bots find their
C&C through a domain generation algorithm that does not depend on the date:
each build carries a 32-bit seed, and name number ``n`` is a function of the
seed and ``n`` alone, so a bot walks the same list on every run. All names are
16 letters under ``org``.

Algorithm (reimplementations published in andrewaeva/DGA ``Ramdo.cpp``, Feb.
2015, with 100 000 names for seed 0xDEADBEEF, and in
baderj/domain_generation_algorithms ``ramdo/``, 2017, seed 0xD5FFF): with
``s = 2 seed (n + 1)`` and the state ``r = s XOR 26 seed n`` (all modulo
2^32), each of the 16 letters is ``'a' + r % 26``, after which ``r`` grows by
``r XOR 26 s i^2`` (``i`` the letter's position). The number of names a bot
tries is not published; we list the first ``count`` (1000 by default). Names
do not depend on each other, so the generator here computes them side by side
(numpy).

Active years: 2013-2016. Microsoft's encyclopedia describes Win32/Ramdo from
2013 and the first public reimplementation is from February 2015; the end is
not published, so we chose 2016. The list does not depend on the date, so these
years are metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_MASK = 0xFFFFFFFF
_LENGTH = 16
DEFAULT_SEED = 0xDEADBEEF
DEFAULT_COUNT = 1000
_MAX_COUNT = 100_000
_SQUARES = tuple(26 * i * i for i in range(_LENGTH))


def name(seed: int, number: int) -> str:
    """Name number `number` (from 0) of the build with `seed`, without the TLD."""
    return names(seed, number, 1)[0]


def names(seed: int, first: int, count: int) -> list[str]:
    """Names first .. first+count-1 of the build, without the TLD, computed side by side."""
    mask = np.uint64(_MASK)
    numbers = np.arange(first, first + count, dtype=np.uint64)
    seed64 = np.uint64(seed)
    # uint64 arithmetic wraps mod 2^64, which keeps the low 32 bits exact
    s = (np.uint64(2) * seed64 * (numbers + np.uint64(1))) & mask
    r = (s ^ (np.uint64(26) * seed64 * numbers)) & mask
    letters = np.empty((count, _LENGTH), dtype=np.uint8)
    for i, square in enumerate(_SQUARES):
        letters[:, i] = r % np.uint64(26) + np.uint64(97)
        r = (r + (r ^ (s * np.uint64(square)))) & mask
    text = letters.tobytes().decode()
    return [text[k : k + _LENGTH] for k in range(0, count * _LENGTH, _LENGTH)]


class RamdoDga(BaseDga):
    """Ramdo: date-independent 16-letter .org names, each a function of the seed and its number."""

    name = "ramdo"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("org",),
        seeding="time-independent",
        active_years=(2013, 2016),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "32-bit build seed (0xDEADBEEF in the published list; 0xD5FFF in "
                "baderj/domain_generation_algorithms)",
                minimum=0,
                maximum=_MASK,
            ),
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "how many names to list (the bot's own count is not published)",
                minimum=1,
                maximum=_MAX_COUNT,
            ),
        ),
        reference="andrewaeva/DGA Ramdo.cpp (2015); baderj/domain_generation_algorithms ramdo/",
        notes="the same names on every day; name n depends only on the seed and n",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """Names 0 .. count-1 of the build."""
        seed, count = int(params["seed"]), params["count"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise DgaError(f"ramdo: count={count!r} is not a positive integer")
        return [label + ".org" for label in names(seed, 0, count)]


FAMILY = Family(
    name="ramdo",
    summary="Ramdo click-fraud trojan: date-independent 16-letter .org DGA names per seed",
    channels=(
        Channel(
            "dga",
            dga=RamdoDga(),
            note="the described C&C rendezvous; set the build's seed with --param seed=",
        ),
    ),
    references=(
        "andrewaeva/DGA, dga_algorithms/Ramdo.cpp and dga_wordlists/ramdo.txt (2015)",
        "github.com/baderj/domain_generation_algorithms, ramdo/ (2017)",
        "Microsoft Malware Protection Center, Win32/Ramdo",
    ),
)
