"""Fobber (a Tinba offshoot, "Tinba v3"): a time-independent DGA of 300 names per build.

Fobber is a banking trojan first described in 2015 as a descendant of Tinba
(Tiny Banker). Its bots find their C&C only through a domain generation
algorithm that does not depend on the date: every build carries a 32-bit
start value, a 32-bit additive constant, a label length and one TLD, and the
bot walks the same list of 300 names on every run.

Algorithm (Johannes Bader, "The DGA of Fobber", johannesbader.ch, Sept. 2015;
DGArchive; reimplemented in baderj/domain_generation_algorithms ``fobber/``):
for every letter the state becomes ``ror32(321167 * r + c mod 2^32, 16)`` and
spells ``'a' + (r & 0x17FF) % 26``; a name is ``length`` such letters and the
TLD, and the state carries on into the next name. Two builds are published:
version 1 (start 0xC87C8A78, c = -1719405398, 17 letters, ``.net``) and
version 2 (start 0x851A3E59, c = -1916503263, 10 letters, ``.com``).

Active years: 2015-2016. Fobber was described in 2015 (Bader, Sept. 2015,
with both builds taken from samples of that year); the end is not published,
so we cover the following year too. The list does not depend on the
date, so these years are metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 300
_MUL = 321167
_MASK = 0xFFFFFFFF


#: version -> (start state, additive constant mod 2^32, label length, TLD)
BUILDS = {
    1: (0xC87C8A78, -1719405398 & _MASK, 17, "net"),
    2: (0x851A3E59, -1916503263 & _MASK, 10, "com"),
}
#: the 13 bits (r & 0x17FF) of a state -> its letter, by those bits' value
_LETTERS = bytes(97 + v % 26 for v in range(0x1800))


class FobberDga(BaseDga):
    """Fobber: 300 date-independent names; each letter is one multiply-add and a rotation."""

    name = "fobber"
    info = DgaInfo(
        period="none",
        per_period=_COUNT,
        tlds=("net", "com"),
        seeding="time-independent",
        active_years=(2015, 2016),
        params=(
            DgaParam(
                "version",
                1,
                "published build: 1 (17 letters, .net) or 2 (10 letters, .com)",
                choices=(1, 2),
            ),
        ),
        reference="Johannes Bader, 'The DGA of Fobber' (johannesbader.ch, 2015); DGArchive",
        notes="the same 300 names on every day; the state runs on from one name to the next",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's 300 names, in the bot's order."""
        r, add, length, tld = BUILDS[int(params["version"])]
        suffix = "." + tld
        letters = _LETTERS
        out: list[str] = []
        for _ in range(_COUNT):
            label = bytearray(length)
            for i in range(length):
                r = (_MUL * r + add) & _MASK
                r = (r >> 16) | ((r & 0xFFFF) << 16)
                label[i] = letters[r & 0x17FF]
            out.append(label.decode() + suffix)
        return out


FAMILY = Family(
    name="fobber",
    summary="Fobber banking trojan (Tinba offshoot): 300 date-independent DGA names per build",
    channels=(
        Channel(
            "dga",
            dga=FobberDga(),
            note="the only described C&C rendezvous; the start value, constant, length and "
            "TLD differ between builds (two published: --param version=1|2)",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGA of Fobber' (johannesbader.ch, 2015)",
        "github.com/baderj/domain_generation_algorithms, fobber/ (published example domains)",
        "DGArchive (Fraunhofer FKIE), fobber_v1 and fobber_v2",
    ),
)
