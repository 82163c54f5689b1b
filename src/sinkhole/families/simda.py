"""simda: the Simda (Shiz) backdoor botnet and its date-independent DGA.

Simda, also known as Shiz, was a backdoor botnet of some 770,000 machines
taken down in April 2015 by INTERPOL with Microsoft, Kaspersky Lab, Trend
Micro and the Cyber Defense Institute. Besides its C&C servers it uses a
domain generation algorithm that does not depend on the date; only the DGA is
modelled here.

Algorithm (J. Bader, "The DGA of Simda/Shiz", johannesbader.ch, March 2015):
a step ``t`` is the sum of the character codes of a build key
(``1676d5775e05c50b46baa5579d4fc7`` in the published sample) and a base
number starts at a build value (0x45AE94B2). For each name the base grows by
``t``; the name has seven letters: letter ``i`` takes ``v = base // (3 +
2 i)`` and is ``"qwrtpsdfghjklzxcvbnm"[v mod 20]`` at even ``i``,
``"eyuioa"[v mod 6]`` at odd ``i``; then ``.com``. The published list has
1000 names.

Active years: 2014-2015. The INTERPOL-led takedown (9 April 2015) ended the
botnet, which its reports describe as spreading for years before; the year
before it is our choice, and the list does not depend on the date, so this
is metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_KEY = "1676d5775e05c50b46baa5579d4fc7"
DEFAULT_BASE = 0x45AE94B2
DEFAULT_COUNT = 1000
_MAX_COUNT = 100_000
_CONSONANTS = "qwrtpsdfghjklzxcvbnm"
_VOWELS = "eyuioa"
#: letter position -> (divisor, alphabet)
_POSITIONS = tuple((3 + 2 * i, _CONSONANTS if i % 2 == 0 else _VOWELS) for i in range(7))


@lru_cache(maxsize=16)
def names(key: str, base: int, count: int) -> tuple[str, ...]:
    """The first `count` names of a build key and base."""
    step = sum(key.encode("ascii"))
    out = []
    for _ in range(count):
        base += step
        out.append(
            "".join(alphabet[(base // div) % len(alphabet)] for div, alphabet in _POSITIONS)
            + ".com"
        )
    return tuple(out)


class SimdaDga(BaseDga):
    """Simda: seven-letter ``.com`` names from a build key and base, independent of the date."""

    name = "simda"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("com",),
        seeding="time-independent",
        active_years=(2014, 2015),
        params=(
            DgaParam("key", DEFAULT_KEY, "build key; its character codes sum to the step"),
            DgaParam("base", DEFAULT_BASE, "build start value of the base", minimum=0),
            DgaParam(
                "count", DEFAULT_COUNT, "how many names to list", minimum=1, maximum=_MAX_COUNT
            ),
        ),
        reference="J. Bader, 'The DGA of Simda/Shiz' (johannesbader.ch, 2015)",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's names."""
        build_key, base, count = params["key"], params["base"], params["count"]
        if not isinstance(build_key, str) or not build_key or not build_key.isascii():
            raise DgaError(f"simda: key={build_key!r} is not a non-empty ASCII string")
        if not isinstance(base, int) or isinstance(base, bool) or base < 0:
            raise DgaError(f"simda: base={base!r} is not a non-negative integer")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
            raise DgaError(f"simda: count={count!r} is not an integer in 1..{_MAX_COUNT}")
        return list(names(build_key, base, count))


FAMILY = Family(
    name="simda",
    summary="Backdoor botnet (Shiz), taken down in 2015: date-independent seven-letter .com DGA",
    channels=(
        Channel(
            "dga", dga=SimdaDga(), note="the key and base differ between builds (set the params)"
        ),
    ),
    references=(
        "J. Bader, 'The DGA of Simda/Shiz' (March 2015), "
        "http://johannesbader.ch/2015/03/the-dga-of-simda-shiz/",
        "github.com/baderj/domain_generation_algorithms, simda/ (published example domains)",
        "INTERPOL, 'INTERPOL coordinates global operation to take down Simda botnet' (April 2015)",
    ),
    aliases=("shiz",),
)
