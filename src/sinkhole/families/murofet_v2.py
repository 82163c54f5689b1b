"""Murofet (LICAT, a ZeuS 2 offshoot), second DGA variant: daily MD5 names with an optional key.

Murofet is a member of the ZeuS family whose bots derive their C&C names
(used to fetch updated binaries and configuration) from the date with a domain
generation algorithm; the DGA is the only C&C channel described publicly.

Algorithm (Johannes Bader, "Three Variants of Murofet's DGA", johannesbader.ch
/ bin.re, Sept. 2015; DGArchive; reimplemented in
baderj/domain_generation_algorithms ``murofet/v2``): for each index 0..1019
the bot builds 8 bytes -- ``(year & 0xFF) + 0x30``, the month, the day, a zero
byte and the index rounded down to an even number (little-endian 32-bit) --
XORs them with a build-specific 4-byte key repeated twice (no key in the
published sample; keys seen in samples include ``0xD6D7A4BE``, ``0xDEADC2DE``
and ``0xD6D7A4B1``) and hashes them with MD5. Every digest byte ``b`` gives the
letter ``chr(97 + (b & 15) + (b >> 4))`` when that is a letter. Indices ``2k``
and ``2k+1`` therefore share a label. The TLD is the first of ``biz info org
net com`` whose position counted from the end (5, 4, .. 1) divides the index.
A bot tries 800 consecutive indices (mod 1020) starting at ``17 * minute``;
this module lists the whole daily pool in index order.

Active years: 2011-2013. Bader (2015) places this variant after the first
(late 2010); the exact last year is not published, so we chose 2011-2013 to
cover the later Murofet samples in DGArchive without overreaching.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_POOL = 1020
_TLDS = ("biz", "info", "org", "net", "com")
_PAIR = struct.Struct("<II")


def _tld(index: int) -> str:
    for position, tld in enumerate(_TLDS):
        if index % (len(_TLDS) - position) == 0:
            return tld
    raise AssertionError("unreachable: every index is divisible by 1")


#: digest byte -> its letter (bytes whose sum of nibbles passes 'z' are deleted)
_SPELL = bytes(((b & 15) + (b >> 4) + 97) & 0xFF for b in range(256))
_DROP = bytes(b for b in range(256) if (b & 15) + (b >> 4) > 25)
#: even index 2k -> (".tld" of 2k, ".tld" of 2k + 1), as bytes
_SUFFIX_PAIRS = tuple(
    (("." + _tld(i)).encode(), ("." + _tld(i + 1)).encode()) for i in range(0, _POOL, 2)
)


class MurofetV2Dga(BaseDga):
    """Murofet v2: 1020 MD5-derived names a day (510 labels, each under two TLDs)."""

    name = "murofet-v2"
    info = DgaInfo(
        period="daily",
        per_period=_POOL,
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2011, 2013),
        params=(
            DgaParam(
                "key",
                0,
                "32-bit XOR key of the build (0 = no key, as in the published sample; "
                "seen: 0xD6D7A4BE, 0xDEADC2DE, 0xD6D7A4B1)",
            ),
        ),
        reference="Johannes Bader, 'Three Variants of Murofet's DGA' (bin.re, 2015); DGArchive",
        notes=(
            "the list is the whole daily pool of 1020 indices; a bot tries 800 of them "
            "starting at index 17 * minute (mod 1020); indices 2k and 2k+1 share a label"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 1020 names, in index order."""
        xor = int(params["key"])
        if not 0 <= xor <= 0xFFFFFFFF:
            raise DgaError(f"murofet-v2: key {xor:#x} is not a 32-bit value")
        head = (((key.year + 0x30) & 0xFF) | key.month << 8 | key.day << 16) ^ xor
        pack = _PAIR.pack
        md5 = hashlib.md5
        out: list[str] = []
        append = out.append
        for index, (even, odd) in zip(range(0, _POOL, 2), _SUFFIX_PAIRS, strict=True):
            label = md5(pack(head, index ^ xor)).digest().translate(_SPELL, _DROP)
            append((label + even).decode())
            append((label + odd).decode())
        return out


FAMILY = Family(
    name="murofet-v2",
    summary="ZeuS offshoot (LICAT): 1020 daily MD5 DGA names, optional 32-bit XOR key",
    channels=(
        Channel(
            "dga",
            dga=MurofetV2Dga(),
            note="the C&C (updates, config) is found only through the DGA; a bot tries 800 "
            "of the day's 1020 names each hour",
        ),
    ),
    references=(
        "Johannes Bader, 'Three Variants of Murofet's DGA' (johannesbader.ch / bin.re, 2015)",
        "github.com/baderj/domain_generation_algorithms, murofet/v2 (published example domains)",
        "Trend Micro, ZeuS LICAT / Murofet reports (2010)",
    ),
)
