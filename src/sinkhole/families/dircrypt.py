"""dircrypt: the DirCrypt ransomware (2014) and its seeded, date-independent DGA.

DirCrypt (2014; Check Point, "Hacking the Hacker", 2014-08-27) is ransomware whose only described
C&C channel is a callback to generated ``.com`` domains. The generator does not
use the date: every build carries a 32-bit seed in its resource section
(resource id 0x7D; 0xF2113C2A in the sample J. Bader analysed), and the bot
generates 30 domains, tried by six callback threads that share the seed and a
countdown, until one answers.

The algorithm (J. Bader, "The DGA of DirCrypt", 2015,
https://bin.re/blog/the-dga-of-dircrypt/): a Park-Miller style step done
with Schrage's decomposition but without the correction for negative values,
``s = (16807 * (s mod 127773) - 2836 * (s div 127773)) mod 2**32``, and
``rand(n) = s mod n`` after each step. Each domain takes a length
``8 + rand(13)`` (8-20 letters), then that many letters ``'a' + rand(26)``,
then ``.com``. The list is the same on every day.

Active years: 2013-2014. Check Point's analysis (August 2014) and Bader's
(2015) describe samples of 2013-2014; we chose that span. The list does not
depend on the date, so these years are metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Seed of the sample analysed by J. Bader (resource 0x7D).
DEFAULT_SEED = 0xF2113C2A
DEFAULT_COUNT = 30
_MAX_COUNT = 1 << 20
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def check_params(params: Mapping[str, ParamValue]) -> tuple[int, int]:
    """The (seed, count) pair, or a DgaError naming the bad value."""
    seed = params["seed"]
    count = params["count"]
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 0xFFFFFFFF:
        raise DgaError(f"dircrypt: seed={seed!r} is not a 32-bit unsigned integer")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
        raise DgaError(f"dircrypt: count={count!r} is not an integer in 1..{_MAX_COUNT}")
    return seed, count


class DirCryptDga(BaseDga):
    """Date-independent DGA of DirCrypt: 30 .com domains from a build seed."""

    name = "dircrypt"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("com",),
        seeding="time-independent",
        active_years=(2013, 2014),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "32-bit seed from the build's resource 0x7D",
                minimum=0,
                maximum=0xFFFFFFFF,
            ),
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "domains generated (30 in the analysed build)",
                minimum=1,
                maximum=_MAX_COUNT,
            ),
        ),
        reference="https://bin.re/blog/the-dga-of-dircrypt/",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's domains in generation order (the same on every day, so cached)."""
        return list(_domains(*check_params(params)))


@lru_cache(maxsize=32)
def _domains(seed: int, count: int) -> tuple[str, ...]:
    # 16807*(s % 127773) - 2836*(s // 127773) == 16807*s - (2**31 - 1)*(s // 127773)
    s = seed
    mask = 0xFFFFFFFF
    letters = _LETTERS
    out: list[str] = []
    append = out.append
    for _ in range(count):
        s = (16807 * s - 2147483647 * (s // 127773)) & mask
        label = ""
        for _ in range(8 + s % 13):
            s = (16807 * s - 2147483647 * (s // 127773)) & mask
            label += letters[s % 26]
        append(label + ".com")
    return tuple(out)


FAMILY = Family(
    name="dircrypt",
    summary="DirCrypt ransomware (2014): 30 .com domains from a per-build seed, no date",
    channels=(
        Channel(
            "dga",
            dga=DirCryptDga(),
            note="the only described C&C channel; the seed differs between builds "
            "(set the 'seed' parameter from the sample's resource 0x7D)",
        ),
    ),
    references=(
        "J. Bader, 'The DGA of DirCrypt' (2015), https://bin.re/blog/the-dga-of-dircrypt/",
        "Check Point, 'Hacking the Hacker: How We Cracked the Code on DirCrypt Ransomware' "
        "(2014-08-27), https://blog.checkpoint.com/2014/08/27/hacking-the-hacker/",
        "baderj/domain_generation_algorithms, dircrypt/example_domains.txt",
    ),
)
