"""Kraken (Oderoor, Bobax), first DGA: 2000 time-independent names under dynamic-DNS suffixes.

Kraken was a large spam botnet of 2007-2008. Its bots find their C&C only
through a domain generation algorithm. The first DGA (this module) does not
depend on the date: a sample generates the same names at all times, all of
them host names under four dynamic-DNS providers' suffixes (``dyndns.org
yi.org dynserv.com mooo.com``). A takedown therefore goes through those
providers rather than registries. The second DGA (``kraken-v2``) adds a weekly
time input and, mostly, regular TLDs.

Algorithm (Johannes Bader, "Kraken's two Domain Generation Algorithms",
johannesbader.ch / bin.re, 22 Dec 2015; DGArchive; reimplemented in
baderj/domain_generation_algorithms ``kraken/v1``): domain number ``n`` runs
from 1000015 upwards. The bot tries each number twice: first with the seed
used when its temp file does not exist, then with the other one. With the
file, the start value is ``n (n+7) (n+12)`` (as a signed 32-bit value) divided
by 9 and truncated, plus ``n (n+1)`` and the seed; without it,
``(n+2) (n+7) n / 9`` truncated, plus ``(3n+1) n`` and the seed. From there the
same C-library LCG as in the second DGA runs (``r = 1103515245 r + 12435``,
outputs ``(r >> 8) % 32768``): three outputs give the label length
``(a b - c) mod 6 + 6`` (6-11 letters), one output per letter spells it
(``% 26``), and the suffix is the ``n % 4``-th of the four. Two seed sets are
published: "a" (with file -0x0FCFBF88, without 0x08924541) and "b" (with file
-0x1FCFBF87, without 0x07924542). 1000 numbers give 2000 names.

Active years: 2007-2008. Bader (2015) dates the DGA's appearance to July 2007;
Kraken was reported widely in April 2008 (Damballa; TippingPoint DVLabs, who
registered its names), and the second DGA counts its weeks from March 2008.
The list does not depend on the date, so these years are metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.families.kraken_v2 import TLD_SETS
from sinkhole.types import ParamValue

_COUNT = 1000
_FIRST_NUMBER = 1000015
_MASK = 0xFFFFFFFF
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: the dynamic-DNS suffixes, by domain number % 4
SUFFIXES = TLD_SETS[2]

#: seed set -> (seed with the temp file, seed without it), as signed 32-bit values
SEEDS = {"a": (-0x0FCFBF88, 0x08924541), "b": (-0x1FCFBF87, 0x07924542)}


def _signed(value: int) -> int:
    value &= _MASK
    return value - (1 << 32) if value & 0x80000000 else value


def _ninth(value: int) -> int:
    """A signed 32-bit product divided by 9, truncated towards zero as the bot's float cast does."""
    value = _signed(value)
    return value // 9 if value >= 0 else -(-value // 9)


def start_values(number: int, seed_set: str) -> tuple[int, int]:
    """The LCG start values (without the temp file, with it) of one domain number."""
    with_file, without_file = SEEDS[seed_set]
    n = number
    without = _ninth((n + 2) * (n + 7) * n) + (3 * n + 1) * n + without_file
    with_ = _ninth(n * (n + 7) * (n + 12)) + n * (n + 1) + with_file
    return without & _MASK, with_ & _MASK


class KrakenV1Dga(BaseDga):
    """Kraken's first DGA: 1000 domain numbers, two seeds each, no date input."""

    name = "kraken-v1"
    info = DgaInfo(
        period="none",
        per_period=2 * _COUNT,
        tlds=("org", "com"),
        seeding="time-independent",
        active_years=(2007, 2008),
        params=(
            DgaParam("seed_set", "a", "hard-coded seed pair of the sample", choices=("a", "b")),
        ),
        reference="Johannes Bader, Kraken's two Domain Generation Algorithms (2015)",
        notes=(
            "names are host names under dynamic-DNS suffixes (dyndns.org yi.org dynserv.com "
            "mooo.com): seizure goes through those providers; for each domain number the "
            "no-file name comes first"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The sample's 2000 names: for each domain number, the no-file then the file name."""
        seed_set = str(params["seed_set"])
        letters = _LETTERS
        out: list[str] = []
        for number in range(_FIRST_NUMBER, _FIRST_NUMBER + _COUNT):
            suffix = "." + SUFFIXES[number % 4]
            for start in start_values(number, seed_set):
                r = (1103515245 * start + 12435) & _MASK
                a = (r >> 8) & 0x7FFF
                r = (1103515245 * r + 12435) & _MASK
                b = (r >> 8) & 0x7FFF
                r = (1103515245 * r + 12435) & _MASK
                length = (a * b - ((r >> 8) & 0x7FFF)) % 6 + 6
                chars = []
                for _ in range(length):
                    r = (1103515245 * r + 12435) & _MASK
                    chars.append(letters[((r >> 8) & 0x7FFF) % 26])
                out.append("".join(chars) + suffix)
        return out


FAMILY = Family(
    name="kraken-v1",
    summary="Kraken/Oderoor spam botnet, first DGA: 2000 date-independent dynamic-DNS names",
    channels=(
        Channel(
            "dga",
            dga=KrakenV1Dga(),
            note="the only C&C rendezvous; names live under four dynamic-DNS providers",
        ),
    ),
    references=(
        "Johannes Bader, 'Kraken's two Domain Generation Algorithms' (johannesbader.ch, 2015)",
        "github.com/baderj/domain_generation_algorithms, kraken/v1 (published example domains)",
        "DGArchive (Fraunhofer FKIE), kraken_v1",
    ),
)
