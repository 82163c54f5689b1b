"""Kraken (Oderoor, Bobax), second DGA: a weekly, LCG-based domain generator.

Kraken was a large spam botnet of 2008. Its bots find their C&C only through
a domain generation algorithm; the first DGA was time-independent and used
dynamic-DNS providers, the second (this module) adds a weekly time input and,
in most samples, four regular TLDs (``com net tv cc``; some transitional
samples keep the dynamic-DNS suffixes ``dyndns.org yi.org dynserv.com
mooo.com``).

Algorithm (Johannes Bader, "Kraken's two Domain Generation Algorithms",
johannesbader.ch / bin.re, 22 Dec 2015; DGArchive): a C-library LCG
``r = 1103515245 r + 12435 (mod 2^32)``, outputs ``(r >> 8) % 32768``. Domain
number ``i`` starts from ``3 i + base`` where the sample's seed set gives two
bases (one used when the bot's temp file exists, one otherwise; the bot tries
both, the "no file" one first). The start is then replaced by the output of
the generator ``w + 2`` times, ``w`` being the number of whole weeks since
Unix time 1207000000 (2008-03-31 21:46:40 UTC) -- one time fewer for
``i % 9`` in {6, 7} and not at all for ``i % 9 == 8``. Three more outputs give
the label length (7-12), one output per letter spells it (``% 26``), and the
TLD is ``tlds[i % 4]``. 1000 domain numbers give 2000 names a week, with
repeats. The week turns at 21:46:40 UTC on Mondays, so with UTC dates the
periods run Tuesday to Monday.

Active years: 2008-2014. The second DGA counts weeks from 2008-03-31 and
Bader (2015) reports that infections with the newer DGAs peaked in July 2014
(samples listed in his post); we cover 2008 through 2014.
"""

from __future__ import annotations

import array
import datetime as dt
import functools
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_MUL = 1103515245
_ADD = 12435
_MASK = 0xFFFFFFFF
_EPOCH_SHIFT = 1207000000
_WEEK = 604800
_DAY = 86400
_UNIX = dt.date(1970, 1, 1)
_COUNT = 1000
_LETTERS = "abcdefghijklmnopqrstuvwxyz"

#: seed set -> (base with the temp file, base without it)
SEEDS = {"a": (24938314, 24938315), "b": (1600000, 1600001)}
TLD_SETS = {
    1: ("com", "net", "tv", "cc"),
    2: ("dyndns.org", "yi.org", "dynserv.com", "mooo.com"),
}


def _step(r: int) -> int:
    """One discard: the LCG step followed by the 15-bit crop."""
    return (((_MUL * r + _ADD) & _MASK) >> 8) & 0x7FFF


@functools.cache
def _jump_table(level: int) -> array.array[int]:
    """`_step` applied 2**level times, tabulated over the 15-bit crop range (64 KiB)."""
    if level == 0:
        return array.array("H", [_step(x) for x in range(32768)])
    half = _jump_table(level - 1)
    return array.array("H", [half[y] for y in half])


def _discard(r: int, times: int) -> int:
    """`_step` applied `times` times to r, in O(log times) table look-ups."""
    if times <= 0:
        return r
    r = _step(r)
    times -= 1
    level = 0
    while times:
        if times & 1:
            r = _jump_table(level)[r]
        times >>= 1
        level += 1
    return r


def weeks_since_shift(date: dt.date) -> int:
    """Whole weeks from Unix time 1207000000 to midnight UTC of `date` (floored)."""
    return ((date - _UNIX).days * _DAY - _EPOCH_SHIFT) // _WEEK


class KrakenV2Dga(BaseDga):
    """Kraken's weekly DGA: 1000 domain numbers, two seed bases each."""

    name = "kraken-v2"
    info = DgaInfo(
        period="weekly",
        per_period=2 * _COUNT,
        tlds=(*TLD_SETS[1], "org", *TLD_SETS[2]),
        seeding="time-dependent",
        active_years=(2008, 2014),
        params=(
            DgaParam("seed_set", "a", "hard-coded seed pair of the sample", choices=("a", "b")),
            DgaParam(
                "tld_set",
                1,
                "1: com net tv cc; 2: dyndns.org yi.org dynserv.com mooo.com",
                choices=(1, 2),
            ),
        ),
        reference="Johannes Bader, Kraken's two Domain Generation Algorithms (2015)",
        notes=(
            "weeks turn Monday 21:46:40 UTC (periods Tue-Mon in UTC dates); domain numbers "
            "i % 9 == 8 never change, i % 9 in {6, 7} discard one output fewer; tlds lists "
            "both TLD sets (set 2 as its dynamic-DNS suffixes and their TLD)"
        ),
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The first UTC date whose midnight falls in the same Kraken week."""
        boundary = _EPOCH_SHIFT + weeks_since_shift(date) * _WEEK
        return _UNIX + dt.timedelta(days=-(-boundary // _DAY))

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The week's 2000 domains: for each domain number, the no-file then the file seed."""
        with_file, without_file = SEEDS[str(params["seed_set"])]
        tlds = TLD_SETS[int(params["tld_set"])]
        discards = weeks_since_shift(key) + 2
        letters = _LETTERS
        mul, add, mask = _MUL, _ADD, _MASK
        discard = _discard
        out = []
        for i in range(_COUNT):
            rest = i % 9
            times = discards - 1 if rest >= 6 else discards
            tld = "." + tlds[i & 3]
            for base in (without_file, with_file):
                r = 3 * i + base
                if rest != 8:
                    r = discard(r, times)
                r = (mul * r + add) & mask
                a = (r >> 8) & 0x7FFF
                r = (mul * r + add) & mask
                b = (r >> 8) & 0x7FFF
                r = (mul * r + add) & mask
                length = (a * b + ((r >> 8) & 0x7FFF)) % 6 + 7
                chars = []
                for _ in range(length):
                    r = (mul * r + add) & mask
                    chars.append(letters[((r >> 8) & 0x7FFF) % 26])
                out.append("".join(chars) + tld)
        return out


FAMILY = Family(
    name="kraken-v2",
    summary="Kraken/Oderoor spam botnet, second DGA: 2000 weekly LCG domains (com net tv cc)",
    channels=(
        Channel(
            "dga",
            dga=KrakenV2Dga(),
            note="the only C&C rendezvous: weekly list, tried domain by domain",
        ),
    ),
    references=(
        "Johannes Bader, 'Kraken's two Domain Generation Algorithms' (johannesbader.ch, 2015)",
        "github.com/baderj/domain_generation_algorithms, kraken/v2 (published example domains)",
        "DGArchive (Fraunhofer FKIE), kraken_v2",
    ),
)
