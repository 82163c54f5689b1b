"""DNSChanger (Alureon, Ghost Click): five beacon names from the C runtime's rand().

DNSChanger malware changed infected machines' DNS settings to rogue resolvers
run by Rove Digital (the FBI's Operation Ghost Click, November 2011, after
which court-ordered replacement resolvers ran until July 2012). Some samples
then query five pseudo-random ``.com`` names: the names are never meant to
be registered; a query reaching the rogue resolvers tells them of a new
victim, and failing queries tell the malware that the DNS change did not take.
So the channel that matters for a takedown is the rogue resolvers (the
address ranges published by the FBI); these names are a beacon, and holding
them at a sinkhole counts victims whose DNS still works normally.

Algorithm (Johannes Bader, "The DGA in Alureon/DNSChanger", johannesbader.ch,
January 2016, sample uploaded 2014-10-21; reimplemented in
baderj/domain_generation_algorithms ``dnschanger/``): the Microsoft C
runtime's generator (``state = 214013 state + 2531011 mod 2^32``, output bits
16-30) is seeded with ``srand`` and each name is ten letters
``'a' + rand() % 26`` and ``.com``; the state runs on through five names. The
seed is a run-time value, not the date (the published five names come from
seed 87373, recovered here by exhaustive search), so the list is modelled per
seed and does not change with the date.

Active years: 2007-2012. DNSChanger spread from 2007 until Operation Ghost
Click (FBI, November 2011); the replacement resolvers were switched off on
9 July 2012. The list does not depend on the date, so these years are metadata
only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 5
_LENGTH = 10
_MASK = 0xFFFFFFFF
#: the seed of the published example (recovered by searching all 2^32 seeds)
DEFAULT_SEED = 87373


class DnschangerDga(BaseDga):
    """DNSChanger: five ten-letter .com beacon names from one srand() seed."""

    name = "dnschanger"
    info = DgaInfo(
        period="none",
        per_period=_COUNT,
        tlds=("com",),
        seeding="time-independent",
        active_years=(2007, 2012),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "the srand() seed of the run (87373 in the published example)",
                minimum=0,
                maximum=_MASK,
            ),
        ),
        reference="Johannes Bader, 'The DGA in Alureon/DNSChanger' (johannesbader.ch, 2016)",
        notes=(
            "beacon names, never registered; the seed is a run-time value, and seeds that "
            "differ only in bit 31 give the same names"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The five names of the seed, in the bot's order."""
        state = int(params["seed"])
        out: list[str] = []
        for _ in range(_COUNT):
            letters = bytearray(_LENGTH)
            for i in range(_LENGTH):
                state = (214013 * state + 2531011) & _MASK
                letters[i] = 97 + ((state >> 16) & 0x7FFF) % 26
            out.append(letters.decode() + ".com")
        return out


FAMILY = Family(
    name="dnschanger",
    summary="DNSChanger/Alureon: five rand()-spelled .com beacon names per run",
    channels=(
        Channel(
            "dga",
            dga=DnschangerDga(),
            note="a beacon, not a C&C: queried after the DNS settings were changed; the real "
            "channel is the rogue resolvers (FBI-published Rove Digital ranges)",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGA in Alureon/DNSChanger' (johannesbader.ch, 2016)",
        "github.com/baderj/domain_generation_algorithms, dnschanger/ (published example domains)",
        "FBI, Operation Ghost Click (November 2011)",
    ),
    aliases=("alureon",),
)
