"""pitou: the Pitou spam-bot rootkit's DGA, seeded by the date a month ahead (2014-2019).

Pitou is a kernel-mode spam bot (a successor of Srizbi, F-Secure 2014) whose
only described C&C channel is a DGA of 20 names a day (J. Bader, "The DGA of
Pitou", 2019-07, https://johannesbader.ch/2019/07/the-dga-of-pitou/;
baderj/domain_generation_algorithms ``pitou/``).

The algorithm in words: the date is moved one month ahead (same day; a day
past the month's end rolls into the month after) and counted in days since
1970-01-01 as ``seed``. For counter ``c`` = 0..19: ``v = 10*((c div 3 + seed)
div 10)``; the label length is 8, or 9 when ``((magic >> c) * ((c-1) mod 256)
mod 256) * v`` is odd; eight bytes mix the nibbles of the 32-bit build magic
(0xDAFE02C in the published list; 0xDAFE02D is the other known one) with
``year - 1900`` and the two low bytes of ``v``, each times ``c + 1`` mod 256,
then 0xE0. Bytes with the top bit set start a consonant-vowel pair (and a
second vowel when the next byte has bit 6 set), others a vowel-consonant
pair, until the length is reached (consonants ``bcdfghjklmnpqrstvwxyz`` and
vowels ``aeiou``, by ``byte mod 21`` and ``mod 5``). The TLD is ``(c ^ v ^
magic) mod 9`` of ``com org biz net info mobi us name me``.

A nine-letter label's last letter is read from memory the bot never set (a
bug): it is unpredictable, and we list every candidate of its class (21
consonants or 5 vowels), as the published list does. So a day has 20 names
of which some stand for 5 or 21 candidates; eight-letter names are exact.

Active years: 2014-2019. F-Secure described Pitou in 2014; Bader analysed a
2019 sample (the published list is for 2019-04-10).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_MAGIC = 0xDAFE02C
TLDS = ("com", "org", "biz", "net", "info", "mobi", "us", "name", "me")
_VOWELS = "aeiou"
_CONSONANTS = "bcdfghjklmnpqrstvwxyz"
_PER_DAY = 20


def month_ahead_days(date: dt.date) -> int:
    """Days since 1970-01-01 of `date` moved one month ahead, overflow rolling on."""
    year, month = (date.year + 1, 1) if date.month == 12 else (date.year, date.month + 1)
    first = dt.date(year, month, 1)
    return first.toordinal() + date.day - 1 - dt.date(1970, 1, 1).toordinal()


def candidates(year: int, seed: int, counter: int, magic: int) -> list[str]:
    """The name for `counter`, or every candidate when its last letter is undefined."""
    v = 10 * ((counter // 3 + seed) // 10)
    since = year - 1900
    odd = ((((magic >> counter) * ((counter - 1) & 0xFF)) & 0xFF) * v) & 1
    length = 8 + odd
    b0, b1 = magic & 0xFF, (magic >> 8) & 0xFF
    lo, hi = v & 0xFF, (v >> 8) & 0xFF
    # byte i: a nibble of the magic's byte i//4 times a mix of the year or of v
    nibbles = (b0 >> 4, b0 & 0xF, b0 >> 4, b0 & 0xF, b1 >> 4, b1 & 0xF, b1 >> 4, b1 & 0xF)
    mixes = (since, since, hi ^ lo, lo ^ hi, since >> 1, since << 1,
             (hi << 1) ^ (lo >> 1), (lo << 1) ^ (hi >> 1))  # fmt: skip
    mult = counter + 1
    rnd = [(((m * f) & 0xFF) * mult) & 0xFF for m, f in zip(nibbles, mixes, strict=True)]
    rnd.append(0xE0)
    label = ""
    pos = 0
    while len(label) < length:
        x = rnd[pos]
        pos += 1
        if x & 0x80:
            label += _CONSONANTS[x % 21]
            if len(label) >= length:
                break
            label += _VOWELS[rnd[pos] % 5]
            pos += 1
            if len(label) >= length:
                break
            if rnd[pos] & 0x40:
                label += _VOWELS[rnd[pos] % 5]
                pos += 1
        else:
            label += _VOWELS[x % 5]
            label += _CONSONANTS[rnd[pos] % 21]
            pos += 1
    tld = "." + TLDS[((counter ^ v ^ magic) & 0xFFFFFFFF) % 9]
    if len(label) > 8:
        stem, last = label[:-1], label[-1]
        letters = _CONSONANTS if last in _CONSONANTS else _VOWELS
        return [stem + c + tld for c in letters]
    return [label + tld]


class PitouDga(BaseDga):
    """Pitou: 20 names a day (nine-letter ones with every candidate last letter)."""

    name = "pitou"
    #: December 9999's dates would move into the year 10000
    supported = (dt.date.min, dt.date(9999, 11, 30))
    info = DgaInfo(
        period="daily",
        per_period=_PER_DAY * len(_CONSONANTS),
        exact_count=False,
        tlds=TLDS,
        seeding="time-dependent",
        active_years=(2014, 2019),
        params=(
            DgaParam(
                "magic", DEFAULT_MAGIC, "the build's 32-bit magic", minimum=0, maximum=0xFFFFFFFF
            ),
        ),
        reference="https://johannesbader.ch/2019/07/the-dga-of-pitou/",
        notes="20 names a day; a nine-letter name stands for 5 or 21 candidates, all "
        "listed, so a day lists 20 to 420 names",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """Every candidate of the 20 names of `key`, in order."""
        seed = month_ahead_days(key)
        magic = int(params["magic"])
        out: list[str] = []
        for counter in range(_PER_DAY):
            out.extend(candidates(key.year, seed, counter, magic))
        return out


FAMILY = Family(
    name="pitou",
    summary="Pitou spam-bot rootkit: 20 DGA names a day, seeded by the date a month ahead",
    channels=(Channel("dga", dga=PitouDga(), note="the only described C&C channel"),),
    references=(
        "J. Bader, 'The DGA of Pitou' (2019), https://johannesbader.ch/2019/07/the-dga-of-pitou/",
        "F-Secure, 'Pitou: the silent resurrection of the notorious Srizbi kernel spambot' (2014)",
        "baderj/domain_generation_algorithms, pitou/ (example list)",
    ),
)
