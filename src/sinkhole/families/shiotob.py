"""shiotob: Shiotob (URLZone, Bebloh) and its seed-domain chain DGA.

Shiotob, also known as URLZone and Bebloh, is a banking trojan long used
against German and Japanese banks. The builds Bader analysed fall back to a
domain generation algorithm that does not depend on the date: each build
carries a seed domain, and every next name is computed from the previous one.
It is the only channel modelled here; hard-coded C&C hosts, if a build has
them, are not published as a list.

Algorithm (J. Bader, "The DGA of Shiotob", johannesbader.ch, January 2015):
with the previous name's characters as bytes ``c`` (padded with zero bytes),
its host length ``L`` (the name's length minus four: the TLD is ``.com`` or
``.net``) and ``s`` the sum of its characters without the last three, the
bot runs ``c[i+j] = (L c[j]) ^ c[i+j] ^ s`` (mod 256) for every ``i, j`` in
0..65 with ``i + j < 65``, in that order. The new host length is
``((L c[2]) ^ c[0]) mod 256 // 16``, or ``L`` if that is below 10; the host
letters are ``"qwertyuiopasdfghjklzxcvbnm123945678"[c[i] // 8]``; the TLD
alternates, ``.com`` after a ``.net`` name and ``.net`` otherwise. The seed
itself is tried first. The published list is 2001 names from the seed
``wtipubctwiekhir.net``.

Active years: 2015-2015. Bader's analysis (January 2015) is the dated public
record we use; the list does not depend on the date, so this is metadata
only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_SEED = "wtipubctwiekhir.net"
DEFAULT_COUNT = 2001
_MAX_COUNT = 100_000
_SEED = re.compile(r"[a-z0-9]{1,60}\.(?:com|net)")
_LETTERS = b"qwertyuiopasdfghjklzxcvbnm123945678"


def next_name(name: str) -> str:
    """The name the bot computes from `name`."""
    raw = name.encode("ascii")
    length = len(raw) - 4
    total = sum(raw[:-3]) & 0xFF
    codes = bytearray(raw) + bytes(100)
    # (length * c) ^ s depends on c only: one table per step
    mix = [((length * c) ^ total) & 0xFF for c in range(256)]
    for i in range(65):
        for j in range(65 - i):
            codes[i + j] ^= mix[codes[j]]
    host_length = ((codes[2] * length) ^ codes[0]) & 0xFF
    host_length = host_length // 16 if host_length >= 160 else length
    host = bytes(_LETTERS[c >> 3] for c in codes[:host_length]).decode("ascii")
    return host + (".com" if name.endswith(".net") else ".net")


@lru_cache(maxsize=16)
def chain(seed: str, count: int) -> tuple[str, ...]:
    """The seed and the names after it, `count` in all."""
    out = [seed]
    for _ in range(count - 1):
        out.append(next_name(out[-1]))
    return tuple(out)


class ShiotobDga(BaseDga):
    """Shiotob: each name computed from the previous one, from a seed domain."""

    name = "shiotob"
    info = DgaInfo(
        period="none",
        per_period=DEFAULT_COUNT,
        tlds=("com", "net"),
        seeding="time-independent",
        active_years=(2015, 2015),
        params=(
            DgaParam("seed", DEFAULT_SEED, "seed domain of the build (.com or .net; tried first)"),
            DgaParam(
                "count", DEFAULT_COUNT, "how many names to list", minimum=1, maximum=_MAX_COUNT
            ),
        ),
        reference="J. Bader, 'The DGA of Shiotob' (johannesbader.ch, 2015)",
        notes="the TLD alternates between .com and .net; another known seed: 4ypv1eehphg3a.com",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The seed and the names after it."""
        seed, count = params["seed"], params["count"]
        if not isinstance(seed, str) or not _SEED.fullmatch(seed):
            raise DgaError(f"shiotob: seed={seed!r} is not a lowercase .com or .net domain")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
            raise DgaError(f"shiotob: count={count!r} is not an integer in 1..{_MAX_COUNT}")
        return list(chain(seed, count))


FAMILY = Family(
    name="shiotob",
    summary="Banking trojan (URLZone, Bebloh): date-independent chain of names from a seed domain",
    channels=(
        Channel(
            "dga",
            dga=ShiotobDga(),
            note="the seed domain differs between builds (set the 'seed' parameter)",
        ),
    ),
    references=(
        "J. Bader, 'The DGA of Shiotob' (January 2015), "
        "https://johannesbader.ch/2015/01/the-dga-of-shiotob/",
        "github.com/baderj/domain_generation_algorithms, shiotob/ (published example domains)",
    ),
    aliases=("urlzone", "bebloh"),
)
