"""Pushdo (Cutwail's loader): hard-coded C&C hosts first, then an MD5-based daily DGA.

Pushdo is the downloader that installed the Cutwail spam bot. Its bots first
contact the C&C hosts hard-coded in the binary (not published with the DGA
descriptions, so the operation file supplies them); when none answers they
fall back to a domain generation algorithm, reported in 2013 with ``.com``
names and later with ``.kz`` names.

The DGA (described by Johannes Bader, bin.re / DGArchive, and reimplemented in
baderj/domain_generation_algorithms ``pushdo/``): the bot counts days since
year 0 with its own calendar arithmetic and, for each day number ``n`` it
wants, hashes ``n`` (4 bytes, little-endian) with MD5 thirty times in a chain:
the first four digest bytes are the next value to hash (plus one) and pick the
label length (9-12); the digest bytes, each turned into a consonant-vowel
syllable of 2 or 3 letters, spell the label. On calendar day D the bot tries
the thirty domains of day numbers ``n(D)``, ``n(D)-1`` ... ``n(D)-30``, then
``n(D)+1`` ... ``n(D)+14`` (1350 domains), in that order.

The bot's day count is not a true day count: it adds the length of the
*current* month where January's belongs, and treats every fourth year as a
leap year. So at month ends it skips or repeats numbers (31 March and 1 April
share one; 1 February goes back two), and its ``n - 30`` is generally not
``n(D - 30 days)``. The published list for 2019-12-06 confirms the bot works
on the numbers, not on calendar days. Here the period key of a day number
``n`` is the date with ordinal ``n - 381``: for 1901-2099 it lies 0-4 days
before the calendar day that produced it, and every neighbour ``n + j`` has a
key of its own, so the base class' plan and reverse index work unchanged.

Active years: 2013-2017. The DGA was reported in 2013 (Damballa, Dell
SecureWorks); Check Point still ranked Pushdo sixth of its most wanted malware
in November 2017 (SC Magazine, 2017-12-15). We chose 2013-2017.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import struct
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: (first consonants, vowels, extra vowels, closing consonants, vowel mask, consonant mask, tld)
_VARIANTS: dict[str, tuple[str, str, str, str, int, int, str]] = {
    "kz-v1": ("bcdfghjklmnpqrstvwx", "aeiou", "aio", "zxtsrqpnmlkgfdc", 7, 1, "kz"),
    "com-v1": ("bcdfghjklmnpqrstvwx", "aeiou", "aio", "zxtsrqpnmlkgfdc", 7, 1, "com"),
    "kz-v2": ("kqbhcndjfwglpmzxrsv", "aeiou", "aio", "qzlbtgrnkxsfdcm", 8, 2, "kz"),
}
_PER_DAY = 30
#: The bot's day numbers run this far ahead of `date.toordinal()` (at most, for 1901-2099).
_SHIFT = 381
_FIRST = dt.date(1901, 1, 1)
_LAST = dt.date(2099, 12, 31)
#: Day offsets in the order the bot tries them.
_OFFSETS = (*range(0, -31, -1), *range(1, 15))
#: Month lengths summed by the bot for months 2..12 (index = month - 1).
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_U32 = struct.Struct("<I")
_THREE_U16 = struct.Struct("<HHH")


def _syllable(byte: int, variant: tuple[str, str, str, str, int, int, str]) -> bytes:
    first, vowels, extra, closing, vowel_mask, cons_mask, _ = variant
    text = first[byte % 19] + vowels[((byte + 1) & 0xFF) % 5]
    after = byte + 2
    if text[1] == "e" and after & vowel_mask:
        text += extra[after % 3]
    elif after & cons_mask:
        text += closing[(byte + 3) % 15]
    return text.encode()


#: variant -> the syllable each digest byte spells
_SYLLABLES = {
    name: tuple(_syllable(b, variant) for b in range(256)) for name, variant in _VARIANTS.items()
}


@functools.cache
def _pairs(variant: str) -> tuple[bytes, ...]:
    """The two syllables of a little-endian digest byte pair, for all 65536 pairs."""
    syllables = _SYLLABLES[variant]
    return tuple(first + second for second in syllables for first in syllables)


def bot_day_number(date: dt.date) -> int:
    """The bot's own count of days since year 0 (with its month-sum quirk)."""
    year = date.year
    leap = year % 4 == 0
    before = sum(_MONTH_DAYS[1 : date.month]) + (1 if leap and date.month >= 2 else 0)
    return date.day + before + 365 * (year - year // 4) + 366 * (year // 4)


class PushdoDga(BaseDga):
    """Pushdo: 30 MD5-chained domains per bot day number, 45 day numbers a day."""

    name = "pushdo"
    supported = (_FIRST, _LAST)
    info = DgaInfo(
        period="daily",
        per_period=_PER_DAY,
        tlds=("kz", "com"),
        seeding="time-dependent",
        active_years=(2013, 2017),
        params=(
            DgaParam(
                "variant",
                "kz-v1",
                "alphabet/TLD variant: kz-v1 (default), com-v1 (2013 .com), kz-v2",
                choices=tuple(_VARIANTS),
            ),
        ),
        lookaround=(-30, 14),
        reference="bin.re (Johannes Bader) / DGArchive; baderj/domain_generation_algorithms pushdo",
        notes=(
            "order on day D: day numbers n, n-1 .. n-30, then n+1 .. n+14 (n = the bot's own "
            "day count); keys are the dates with ordinal n - 381, 0-4 days before D; "
            "dates outside 1901-2099 are refused"
        ),
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The key of the bot's day number for `date` (0-4 days before `date`)."""
        if not _FIRST <= date <= _LAST:
            raise DgaError(f"pushdo: date {date} outside the supported range 1901-2099")
        return dt.date.fromordinal(bot_day_number(date) - _SHIFT)

    def keys_for_day(self, date: dt.date) -> list[dt.date]:
        """Keys of day numbers n, n-1 .. n-30, n+1 .. n+14: the bot's own order."""
        base = self.period_start(date).toordinal()
        return [dt.date.fromordinal(base + offset) for offset in _OFFSETS]

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The 30 domains of the bot day number `key.toordinal() + 381`."""
        variant = str(params["variant"])
        pairs = _pairs(variant)
        suffix = ("." + _VARIANTS[variant][6]).encode()
        md5 = hashlib.md5
        pack = _U32.pack
        unpack = _THREE_U16.unpack_from
        value = key.toordinal() + _SHIFT
        out = []
        for _ in range(_PER_DAY):
            # bytes 0-3 (little-endian) are the next value, bytes 0-5 spell the label:
            # every syllable has >= 2 letters, so 6 bytes always cover the 9-12 letters
            low, high, third = unpack(md5(pack(value)).digest())
            label = (pairs[low] + pairs[high] + pairs[third])[: 9 + (low & 3)]
            out.append((label + suffix).decode())
            value = ((high << 16) + low + 1) & 0xFFFFFFFF
        return out


FAMILY = Family(
    name="pushdo",
    summary="Cutwail's loader: hard-coded C&C hosts, then an MD5 DGA over 45 days (.kz)",
    channels=(
        Channel(
            "static-domains",
            note="C&C hosts hard-coded per build; not published with the DGA, "
            "supply them in the operation file",
        ),
        Channel(
            "dga",
            dga=PushdoDga(),
            note="fallback: 30 domains per day number, days -30..+14 (1350 a day)",
        ),
    ),
    references=(
        "Johannes Bader, DGA of Pushdo (bin.re; DGArchive)",
        "github.com/baderj/domain_generation_algorithms, pushdo/ (published example domains)",
        "Damballa / Dell SecureWorks, Pushdo DGA reports (2013)",
    ),
)
