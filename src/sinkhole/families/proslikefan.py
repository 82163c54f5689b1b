"""Proslikefan: a worm's daily DGA built on a 32-bit string hash, 100 names over ten TLDs.

Proslikefan is a Windows worm (it spreads over removable drives and network
shares) described by Johannes Bader in June 2016. Its bots derive C&C names
from the date and a build string ("magic"); the DGA is the only C&C channel
described publicly. Its TLDs include ``eu``, ``se``, ``ru`` and ``in``, whose
registries each need their own request.

Algorithm (Johannes Bader, "Proslikefan", johannesbader.ch, June 2016;
reimplemented in baderj/domain_generation_algorithms ``proslikefan/``): the
hash ``h = 31 h + c`` over a string's characters, kept as a signed 32-bit
value, and its absolute value. For ``i`` = 0..9 and each TLD of ``eu biz se
info com net org ru in name`` (in that order) the state starts as
``|hash("<magic>.<month>.<day>.<year>.<tld>")| + i``. Letters are added while
their count is below ``state % 7 + 6`` -- re-evaluated with the current state,
so the length moves as the name grows -- each one setting the state to
``|hash(name so far + decimal state)|`` and adding ``'a' + state % 26``. Known
magics are ``prospect`` (the published sample) and ``OK``.

Active years: 2016-2017. Bader analysed the samples in June 2016; the end is
not published, so we cover the following year too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_ROUNDS = 10
_TLDS = ("eu", "biz", "se", "info", "com", "net", "org", "ru", "in", "name")
_MASK = 0xFFFFFFFF


def _extend(h: int, text: str) -> int:
    """The unsigned 32-bit hash state after feeding `text` to state h."""
    for ch in text:
        h = (31 * h + ord(ch)) & _MASK
    return h


def _magnitude(h: int) -> int:
    """The absolute value of the state read as a signed 32-bit integer."""
    return (1 << 32) - h if h & 0x80000000 else h


class ProslikefanDga(BaseDga):
    """Proslikefan: 100 daily names, ten per TLD, from a 31-multiplier string hash."""

    name = "proslikefan"
    info = DgaInfo(
        period="daily",
        per_period=_ROUNDS * len(_TLDS),
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2016, 2017),
        params=(DgaParam("magic", "prospect", "the build's magic string (known: prospect, OK)"),),
        reference="Johannes Bader, 'Proslikefan' (johannesbader.ch, 2016)",
        notes="names are 6-12 letters; the order is round by round, TLD by TLD",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 100 names, in the bot's order."""
        magic = str(params["magic"])
        date_part = f"{magic}.{key.month}.{key.day}.{key.year}."
        seeds = [_magnitude(_extend(0, date_part + tld)) for tld in _TLDS]
        out: list[str] = []
        for i in range(_ROUNDS):
            for tld, seed in zip(_TLDS, seeds, strict=True):
                r = seed + i
                prefix = 0  # hash state of the name so far
                letters: list[str] = []
                while len(letters) < r % 7 + 6:
                    r = _magnitude(_extend(prefix, str(r)))
                    letter = chr(97 + r % 26)
                    letters.append(letter)
                    prefix = (31 * prefix + ord(letter)) & _MASK
                out.append("".join(letters) + "." + tld)
        return out


FAMILY = Family(
    name="proslikefan",
    summary="Proslikefan worm: 100 daily string-hash names over ten TLDs (eu biz se ... name)",
    channels=(
        Channel(
            "dga",
            dga=ProslikefanDga(),
            note="the described C&C rendezvous; the magic string differs between builds",
        ),
    ),
    references=(
        "Johannes Bader, 'Proslikefan' (johannesbader.ch, June 2016)",
        "github.com/baderj/domain_generation_algorithms, proslikefan/ (published example domains)",
        "DGArchive (Fraunhofer FKIE), proslikefan",
    ),
)
