"""Qakbot (Qbot, QuakBot), 2016 DGA: CRC-32 of a 10-day date string seeds a Mersenne Twister.

Qakbot is a banking trojan and worm active since 2008. The builds analysed in
2016 find their C&C through a domain generation algorithm, the only C&C
channel this module describes (later builds moved to lists of C&C IP
addresses carried in their configuration; those are not modelled here).

Algorithm (Johannes Bader, "The DGA of Qakbot", johannesbader.ch / bin.re,
2016; DGArchive; reimplemented in baderj/domain_generation_algorithms
``qakbot/``): the bot formats ``"<p>.<mon>.<year>.<seed:08x>"`` where ``p`` is
0, 1 or 2 for days 1-10, 11-20 and 21-end of the month, ``mon`` the lower-case
English month abbreviation and ``seed`` a 32-bit build value (0 in the
published sample); the CRC-32 of that string, plus 1 when the bot believes it
runs in a sandbox, seeds MT19937. Each draw ``r`` becomes
``lower + (r & 0x0FFFFFFF) / 2**28 * (upper - lower + 1)`` (truncated). Per
domain: one draw picks the TLD from ``com net org info biz org``, one the label
length 8-25, then one draw per letter ``a``-``z``. 5000 domains per period.

The optimized generator below seeds CPython's own (C) Mersenne Twister with
the exact MT19937 state via ``random.Random.setstate`` and draws the words in
bulk; the scaling is done with integers (``(r * n) >> 28``), which equals the
float formula exactly because ``r * n`` needs at most 33 bits.

Active years: 2016-2023: the DGA builds were analysed in 2016 (Bader), and
Qakbot ran until the FBI-led Operation Duck Hunt (August 2023). Later builds
mostly carried IP lists, so the end is generous on purpose: a random 8-25
letter name is not mistaken for a benign one.
"""

from __future__ import annotations

import array
import datetime as dt
import random
import sys
import zlib
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 5000
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: The bot's TLD table: six entries, "org" twice.
_TLD_TABLE = ("com", "net", "org", "info", "biz", "org")
_SUFFIXES = tuple(("." + tld).encode() for tld in _TLD_TABLE)
_M28 = 0x0FFFFFFF
_M32 = 0xFFFFFFFF
#: Most MT words one domain can use: TLD, length, 25 letters.
_MAX_WORDS = 27
_CHUNK = 16384
_BIG_ENDIAN = sys.byteorder == "big"
_WORD = "I" if array.array("I").itemsize == 4 else "L"
_UNKNOWN = ord("?")


def _letter_of_high_half(half: int) -> int:
    """The letter of a draw from its upper 16 bits, or '?' when bits 0-15 decide it."""
    low = (half & 0xFFF) << 16
    first, last = (low * 26) >> 28, ((low | 0xFFFF) * 26) >> 28
    return 97 + first if first == last else _UNKNOWN


#: upper 16 bits of a draw -> its letter ('?' for the 384 of 65536 values that bits 0-15 decide)
_LETTERS = bytes(_letter_of_high_half(h) for h in range(65536))


def period_part(date: dt.date) -> int:
    """0, 1 or 2: which third of the month (1-10, 11-20, 21-end) `date` is in."""
    return min((date.day - 1) // 10, 2)


def date_seed(date: dt.date, seed: int) -> int:
    """CRC-32 of the bot's date string for `date` and the build seed."""
    text = f"{period_part(date)}.{_MONTHS[date.month - 1]}.{date.year}.{seed:08x}"
    return zlib.crc32(text.encode("ascii"))


def _mt_state(seed: int) -> tuple[int, ...]:
    """MT19937's state after init_genrand(seed), with the index that forces a twist."""
    state = [seed & _M32]
    value = state[0]
    for i in range(1, 624):
        value = (1812433253 * (value ^ (value >> 30)) + i) & _M32
        state.append(value)
    state.append(624)
    return tuple(state)


class _Draws:
    """MT19937 output words in bulk, with the letter each word spells precomputed."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random()
        self._rng.setstate((3, _mt_state(seed), None))
        self.words: array.array[int] = array.array(_WORD)
        self.letters = b""

    def refill(self) -> None:
        raw = self._rng.getrandbits(32 * _CHUNK).to_bytes(4 * _CHUNK, "little")
        words = array.array(_WORD, raw)
        halves = array.array("H", raw)
        if _BIG_ENDIAN:
            words.byteswap()
            halves.byteswap()
        self.words.extend(words)
        self.letters += bytes(map(_LETTERS.__getitem__, halves[1::2]))


class QakbotDga(BaseDga):
    """Qakbot 2016: 5000 MT19937-spelled names per third of a month."""

    name = "qakbot"
    info = DgaInfo(
        period="10-day",
        per_period=_COUNT,
        tlds=("com", "net", "org", "info", "biz"),
        seeding="time-dependent",
        active_years=(2016, 2023),
        params=(
            DgaParam("seed", 0, "32-bit build seed in the date string (0 in the published sample)"),
            DgaParam("sandbox", False, "the list a bot uses when it believes it runs in a sandbox"),
        ),
        reference="Johannes Bader, 'The DGA of Qakbot' (bin.re, 2016); DGArchive",
        notes=(
            "periods are days 1-10, 11-20 and 21 to the end of each month; "
            "sandbox=true adds 1 to the CRC-32 seed (modulo 2**32)"
        ),
    )

    def period_start(self, date: dt.date) -> dt.date:
        """Day 1, 11 or 21 of the date's month."""
        return date.replace(day=10 * period_part(date) + 1)

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The 5000 names of the period starting on `key`, in the bot's order."""
        seed = int(params["seed"])
        if not 0 <= seed <= _M32:
            raise DgaError(f"qakbot: seed {seed} is not a 32-bit value (0..0xffffffff)")
        draws = _Draws((date_seed(key, seed) + bool(params["sandbox"])) & _M32)
        draws.refill()
        words, letters = draws.words, draws.letters
        available = len(words)
        suffixes = _SUFFIXES
        out: list[str] = []
        append = out.append
        pos = 0
        for _ in range(_COUNT):
            if pos + _MAX_WORDS > available:
                draws.refill()
                letters = draws.letters
                available = len(words)
            suffix = suffixes[((words[pos] & _M28) * 6) >> 28]
            start = pos + 2
            pos = start + 8 + (((words[pos + 1] & _M28) * 18) >> 28)
            label = letters[start:pos]
            if _UNKNOWN in label:
                label = bytes(97 + (((w & _M28) * 26) >> 28) for w in words[start:pos])
            append((label + suffix).decode())
        return out


FAMILY = Family(
    name="qakbot",
    summary="Banking trojan (Qbot): 5000 MT19937 DGA names per third of a month (2016 builds)",
    channels=(
        Channel(
            "dga",
            dga=QakbotDga(),
            note="C&C names of the 2016 builds; seed and sandbox flag vary per build/host",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGA of Qakbot' (johannesbader.ch / bin.re, 2016); DGArchive",
        "github.com/baderj/domain_generation_algorithms, qakbot/ (published example domains)",
    ),
)
