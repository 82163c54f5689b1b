"""Murofet (LICAT, a ZeuS 2 offshoot), third DGA variant: MD5 names with letters and digits.

Murofet is a member of the ZeuS family whose bots derive their C&C names
(used to fetch updated binaries and configuration) from the date with a domain
generation algorithm; the DGA is the only C&C channel described publicly. The
third variant keeps the first variant's seed and its 7-day-rounded date
buckets (``murofet-v1``) but spells each digest byte differently, so its
labels mix letters and digits and are much longer (32-48 characters).

Algorithm (Johannes Bader, "Three Variants of Murofet's DGA", johannesbader.ch
/ bin.re, Sept. 2015; DGArchive; reimplemented in
baderj/domain_generation_algorithms ``murofet/v3``): for each index 0..999 the
bot hashes 7 bytes with MD5 -- ``(year & 0xFF) + 0x30``, the month, the day
rounded down to a multiple of 7 and the index as a little-endian 32-bit value.
Every digest byte ``b`` yields ``'a' + (b & 15)``, then ``'q' + (b >> 4)`` when
that is at most ``z``; otherwise the digit ``'1' + (b >> 4) - 10`` followed by
the digit ``('a' + (b & 15)) % 10``. The TLD is the first of ``ru biz info org
net com`` whose position counted from the end (6, 5, .. 1) divides the index.

Active years: 2011-2013. Bader (2015) describes this variant after the first
(late 2010); its exact years are not published, so we chose 2011-2013, as for
the second variant.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import struct
from collections.abc import Mapping

from sinkhole.dga import DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.families.murofet_v1 import MurofetV1Dga
from sinkhole.types import ParamValue

_POOL = 1000
_TLDS = ("ru", "biz", "info", "org", "net", "com")


def _byte_text(byte: int) -> str:
    low = ord("a") + (byte & 15)
    high = byte >> 4
    if high < 10:
        return chr(low) + chr(ord("q") + high)
    return chr(low) + chr(ord("1") + high - 10) + chr(ord("0") + low % 10)


def _tld(index: int) -> str:
    for position, tld in enumerate(_TLDS):
        if index % (len(_TLDS) - position) == 0:
            return tld
    raise AssertionError("unreachable: every index is divisible by 1")


_TEXT = tuple(_byte_text(b) for b in range(256))
_INDEX_BYTES = tuple(struct.pack("<I", i) for i in range(_POOL))
_SUFFIXES = tuple("." + _tld(i) for i in range(_POOL))
_EIGHT_U16 = struct.Struct("<8H")


@functools.cache
def _pairs() -> tuple[str, ...]:
    """The text of a little-endian digest byte pair, for all 65536 pairs."""
    return tuple(first + second for second in _TEXT for first in _TEXT)


class MurofetV3Dga(MurofetV1Dga):
    """Murofet v3: 1000 MD5 names per 7-day-rounded bucket, letters and digits."""

    name = "murofet-v3"
    info = DgaInfo(
        period="weekly",
        per_period=_POOL,
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2011, 2013),
        reference="Johannes Bader, 'Three Variants of Murofet's DGA' (bin.re, 2015); DGArchive",
        notes=(
            "buckets as in murofet-v1 (days 1-6, 7-13, 14-20, 21-27, 28-31 of each month); "
            "1000 indices"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The 1000 names of the bucket starting on `key`, in index order."""
        head = bytes(((key.year + 0x30) & 0xFF, key.month, key.day // 7 * 7))
        pairs = _pairs()
        md5 = hashlib.md5
        unpack = _EIGHT_U16.unpack
        out: list[str] = []
        append = out.append
        for tail, suffix in zip(_INDEX_BYTES, _SUFFIXES, strict=True):
            p0, p1, p2, p3, p4, p5, p6, p7 = unpack(md5(head + tail).digest())
            append(
                pairs[p0] + pairs[p1] + pairs[p2] + pairs[p3]
                + pairs[p4] + pairs[p5] + pairs[p6] + pairs[p7] + suffix
            )  # fmt: skip
        return out


FAMILY = Family(
    name="murofet-v3",
    summary="ZeuS offshoot (LICAT): 1000 MD5 names of letters and digits per 7-day bucket",
    channels=(
        Channel(
            "dga",
            dga=MurofetV3Dga(),
            note="the C&C (updates, config) is found only through the DGA",
        ),
    ),
    references=(
        "Johannes Bader, 'Three Variants of Murofet's DGA' (johannesbader.ch / bin.re, 2015)",
        "github.com/baderj/domain_generation_algorithms, murofet/v3 (README example domains)",
        "DGArchive (Fraunhofer FKIE), murofet",
    ),
)
