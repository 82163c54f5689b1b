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

from sinkhole.dga import DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.families.murofet_v1 import MurofetV1Dga

_POOL = 1000
_TLDS = ("ru", "biz", "info", "org", "net", "com")


def _byte_text(byte: int) -> str:
    low = ord("a") + (byte & 15)
    high = byte >> 4
    if high < 10:
        return chr(low) + chr(ord("q") + high)
    return chr(low) + chr(ord("1") + high - 10) + chr(ord("0") + low % 10)


_TEXT = tuple(_byte_text(b) for b in range(256))


class MurofetV3Dga(MurofetV1Dga):
    """Murofet v3: 1000 MD5 names per 7-day-rounded bucket, letters and digits."""

    name = "murofet-v3"
    spelling = _TEXT
    pool = _POOL
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
