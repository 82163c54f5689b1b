"""Murofet (LICAT, a ZeuS 2 offshoot), first DGA variant: MD5 over a weekly date bucket.

Murofet appeared in October 2010 as a member of the ZeuS family that no
longer relied on one configured C&C: its bots derive the C&C names (used to
fetch updated binaries and configuration) from the date with a domain
generation algorithm. The DGA is the only C&C channel described publicly.

Algorithm (Johannes Bader, "Three Variants of Murofet's DGA", johannesbader.ch
/ bin.re, Sept. 2015; DGArchive; reimplemented in
baderj/domain_generation_algorithms ``murofet/v1``): for each index 0..1019
the bot hashes 7 bytes with MD5 -- ``(year & 0xFF) + 0x30``, the month, the day
rounded down to a multiple of 7 (so buckets 1-6, 7-13, 14-20, 21-27, 28-31 of
every month share one list) and the index as a little-endian 32-bit value.
Every digest byte ``b`` yields the letters ``chr(97 + (b & 31))`` and
``chr(97 + (b >> 3))`` (each only if it is a letter, and neither if the two are
equal). The TLD is the first of ``ru biz info org net com`` whose position
counted from the end (6, 5, .. 1) divides the index. A bot tries 800
consecutive indices (mod 1020) starting at ``17 * minute``, so over an hour
every one of the 1020 names is used; this module lists the whole pool in
index order.

Active years: 2010-2011. Murofet/LICAT appeared in October 2010
(ThreatExpert published the DGA on 2010-10-15; Trend Micro's LICAT analysis,
November 2010); Bader (2015) describes two later variants. The end is not
published; we chose 2011, when the later variants took over.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import struct
from collections.abc import Mapping
from typing import ClassVar

from sinkhole.dga import BaseDga, DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_POOL = 1020
_TLDS = ("ru", "biz", "info", "org", "net", "com")


def _byte_letters(byte: int) -> str:
    first, second = (byte & 0x1F) + 97, (byte >> 3) + 97
    if first == second:
        return ""
    return "".join(chr(c) for c in (first, second) if c <= ord("z"))


def _tld(index: int) -> str:
    for position, tld in enumerate(_TLDS):
        if index % (len(_TLDS) - position) == 0:
            return tld
    raise AssertionError("unreachable: every index is divisible by 1")


#: digest byte -> the 0-2 letters it spells
_LETTERS = tuple(_byte_letters(b) for b in range(256))
#: index -> its 4 little-endian bytes (the tail of the hashed seed)
_INDEX_BYTES = tuple(struct.pack("<I", i) for i in range(_POOL))
#: index -> ".tld"
_SUFFIXES = tuple("." + _tld(i) for i in range(_POOL))
_EIGHT_U16 = struct.Struct("<8H")


@functools.cache
def _pairs(spelling: tuple[str, ...]) -> tuple[str, ...]:
    """The text of a little-endian digest byte pair under `spelling`, for all 65536 pairs."""
    return tuple(first + second for second in spelling for first in spelling)


class MurofetV1Dga(BaseDga):
    """Murofet v1: 1020 MD5-derived names per 7-day-rounded date bucket."""

    name = "murofet-v1"
    #: digest byte -> its text (murofet-v3 spells bytes differently)
    spelling: ClassVar[tuple[str, ...]] = _LETTERS
    #: the indices of a bucket (murofet-v3 uses the first 1000)
    pool: ClassVar[int] = _POOL
    info = DgaInfo(
        period="weekly",
        per_period=_POOL,
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2010, 2011),
        reference="Johannes Bader, 'Three Variants of Murofet's DGA' (bin.re, 2015); DGArchive",
        notes=(
            "buckets are the day rounded down to a multiple of 7: days 1-6, 7-13, 14-20, "
            "21-27 and 28-31 of each month; the list is the whole pool of 1020 indices, a "
            "bot tries 800 of them starting at index 17 * minute (mod 1020)"
        ),
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The first day of the date's bucket (1, 7, 14, 21 or 28)."""
        return date.replace(day=max(1, date.day // 7 * 7))

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The `pool` names of the bucket starting on `key`, in index order."""
        head = bytes(((key.year + 0x30) & 0xFF, key.month, key.day // 7 * 7))
        pairs = _pairs(self.spelling)
        tails, suffixes = _INDEX_BYTES[: self.pool], _SUFFIXES[: self.pool]
        md5 = hashlib.md5
        unpack = _EIGHT_U16.unpack
        out: list[str] = []
        append = out.append
        for tail, suffix in zip(tails, suffixes, strict=True):
            # the digest as 8 byte pairs: 8 table look-ups spell the label
            p0, p1, p2, p3, p4, p5, p6, p7 = unpack(md5(head + tail).digest())
            append(
                pairs[p0] + pairs[p1] + pairs[p2] + pairs[p3]
                + pairs[p4] + pairs[p5] + pairs[p6] + pairs[p7] + suffix
            )  # fmt: skip
        return out


FAMILY = Family(
    name="murofet-v1",
    summary="ZeuS offshoot (LICAT): 1020 MD5 DGA names per 7-day-rounded date bucket",
    channels=(
        Channel(
            "dga",
            dga=MurofetV1Dga(),
            note="the C&C (updates, config) is found only through the DGA; a bot tries 800 "
            "of the bucket's 1020 names each hour",
        ),
    ),
    references=(
        "Johannes Bader, 'Three Variants of Murofet's DGA' (johannesbader.ch / bin.re, 2015)",
        "github.com/baderj/domain_generation_algorithms, murofet/v1 (published example domains)",
        "Trend Micro, 'LICAT: Murofet's sibling' / ZeuS LICAT reports (2010)",
    ),
)
