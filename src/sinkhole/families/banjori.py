"""banjori: the MultiBanker 2 / BankPatch banking trojan and its seed-domain DGA.

Banjori (also MultiBanker 2, BankPatch(er)), seen from 2013, finds its C&C
only through a domain generation algorithm that does not depend on the date:
every build carries a seed domain, and each next domain is computed from the
previous one by rewriting its first four characters. The rest of the seed
(the tail of the first label and the TLD) never changes, so every domain of a
build ends in the same string (e.g. ``...estnessbiophysicalohax.com``).

The algorithm (J. Bader, "The DGA of Banjori", 2015,
https://bin.re/blog/the-dga-of-banjori/): with ``c0..c3`` the character codes
of the first four characters and ``f(x) = 'a' + (x - 'a') mod 26``, in order
``c0 = f(c0 + c3)``, ``c1 = f(c0 + 2*c1)``, ``c2 = f(c0 + c2 - 1)``,
``c3 = f(c1 + c2 + c3)`` (each step uses the values already updated). The seed
itself is the first domain tried. The step is a permutation of the four
letters, so the list is one cycle; for the published seed
``earnestnessbiophysicalohax.com`` it returns to the seed after 15 372
domains. We list the first ``count`` (1000, as in the published examples);
the list is the same on every day.

Active years: 2013-2015. Bader's samples and DGArchive's banjori feed date
from 2013 (the MultiBanker 2 campaigns) into 2015, when his analysis was
published. The list does not depend on the date, so these years are metadata
only: the reverse index holds one date-independent list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Seed domain of the sample analysed by J. Bader (2015).
DEFAULT_SEED = "earnestnessbiophysicalohax.com"
DEFAULT_COUNT = 1000
_MAX_COUNT = 1 << 20
_SEED = re.compile(r"[a-z0-9][a-z0-9-]{2,61}[a-z0-9](?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# the two-letter strings, by 26*first + second
_PAIR = tuple(a + b for a in _LETTERS for b in _LETTERS)


def check_params(params: Mapping[str, ParamValue]) -> tuple[str, int]:
    """The (seed, count) pair, or a DgaError naming the bad value."""
    seed = params["seed"]
    count = params["count"]
    if not isinstance(seed, str) or not _SEED.fullmatch(seed):
        raise DgaError(
            f"banjori: seed={seed!r} is not a lowercase domain whose first label has "
            "at least 4 characters"
        )
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
        raise DgaError(f"banjori: count={count!r} is not an integer in 1..{_MAX_COUNT}")
    return seed, count


class BanjoriDga(BaseDga):
    """Date-independent DGA of Banjori: each domain rewrites the previous one's first 4 letters."""

    name = "banjori"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("com",),
        seeding="time-independent",
        active_years=(2013, 2015),
        params=(
            DgaParam("seed", DEFAULT_SEED, "seed domain hard-coded in the build (first domain)"),
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "how many domains of the cycle to list",
                minimum=1,
                maximum=_MAX_COUNT,
            ),
        ),
        reference="https://bin.re/blog/the-dga-of-banjori/",
        notes="tlds are those of the default seed; another seed keeps its own TLD",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The seed, then each next domain, `count` in all."""
        seed, count = check_params(params)
        tail = seed[4:]
        # offsets from 'a'; the seed's own characters may be digits (negative offsets)
        a, b, c, d = (ord(ch) - 97 for ch in seed[:4])
        pair = _PAIR
        out = [seed]
        append = out.append
        for _ in range(count - 1):
            a = (a + d + 19) % 26  # 19 = 97 % 26
            b = (a + b + b + 12) % 26  # 12 = 2 * 97 % 26
            c = (a + c + 18) % 26  # 18 = (97 - 1) % 26
            d = (b + c + d + 12) % 26
            append(pair[a * 26 + b] + pair[c * 26 + d] + tail)
        return out


FAMILY = Family(
    name="banjori",
    summary="MultiBanker 2 / BankPatch banking trojan: date-independent seed-domain DGA",
    channels=(
        Channel(
            "dga",
            dga=BanjoriDga(),
            note="the only described C&C channel; the seed domain differs between builds "
            "(set the 'seed' parameter from the sample)",
        ),
    ),
    references=(
        "J. Bader, 'The DGA of Banjori' (2015), https://bin.re/blog/the-dga-of-banjori/",
        "baderj/domain_generation_algorithms, banjori/example_domains.txt",
    ),
    aliases=("multibanker", "bankpatch"),
)
