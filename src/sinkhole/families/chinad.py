"""Chinad: a Chinese DDoS bot's daily SHA-1 DGA, 1000 alphanumeric names a day.

Chinad is a DDoS bot reported by 360 Netlab in October 2016 (issue #1 of the
360netlab/DGA repository, with their reimplementation). Its bots derive C&C
names from the date only; the DGA is the only C&C channel described publicly.
Two of its seven TLDs (``ru``, ``cn``) are ccTLDs whose registries are outside
the usual takedown partners, which the plan reports.

Algorithm (360netlab/DGA ``code/chinad``, October 2016, corrected January
2017; also reimplemented in baderj/domain_generation_algorithms ``chinad/``):
for each index 0..999 the bot hashes 16 bytes with SHA-1 -- ``(year & 0xFF) +
0x30`` (modulo 256), the month, the day, the index as a little-endian 16-bit
value and eleven zero bytes. It reads the 20-byte digest as five
little-endian 32-bit words and writes them back big-endian (each group of
four bytes reversed); the first 16 of those bytes pick the label's characters
from ``a-z0-9`` (byte modulo 36) and byte 16 the TLD from ``com org net biz
info ru cn`` (modulo 7). Both published lists come from reimplementations
that wrote only the index's low byte (360 Netlab fixed theirs in January 2017:
"the domain would be duplicated when index > 0xFF"), so they hold the first
256 names, then repeat; here indices 256-999 give their own names. From 2000
to 2099 the year byte equals the year modulo 100, as in Bader's version.

Active years: 2016-2018. 360 Netlab reported Chinad in October 2016 and the
published examples are from October 2016 and January 2017; the end is not
published, so we chose 2018.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 1000
_TLDS = ("com", "org", "net", "biz", "info", "ru", "cn")
_CHARS = b"abcdefghijklmnopqrstuvwxyz0123456789"
#: digest byte -> its character (modulo 36)
_SPELL = bytes(_CHARS[b % 36] for b in range(256))
_SUFFIXES = tuple("." + _TLDS[b % 7] for b in range(256))
#: the index (little-endian 16-bit) and the eleven zero bytes that end the hashed input
_TAILS = tuple(i.to_bytes(2, "little") + bytes(11) for i in range(_COUNT))
_WORDS = struct.Struct("<5I")
_SWAPPED = struct.Struct(">5I")


class ChinadDga(BaseDga):
    """Chinad: 1000 daily SHA-1 names, 16 alphanumerics each, seven TLDs."""

    name = "chinad"
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2016, 2018),
        reference="360netlab/DGA issue #1 and code/chinad; baderj/domain_generation_algorithms",
        notes="the year enters as (year + 0x30) mod 256; the index as a 16-bit value",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 1000 names, index 0 first."""
        head = bytes(((key.year + 0x30) & 0xFF, key.month, key.day))
        sha1 = hashlib.sha1
        unpack, pack = _WORDS.unpack, _SWAPPED.pack
        spell, suffixes = _SPELL, _SUFFIXES
        out: list[str] = []
        for tail in _TAILS:
            swapped = pack(*unpack(sha1(head + tail).digest()))
            out.append(swapped[:16].translate(spell).decode() + suffixes[swapped[16]])
        return out


FAMILY = Family(
    name="chinad",
    summary="Chinad DDoS bot: 1000 daily SHA-1 names of 16 alphanumerics (com ... ru cn)",
    channels=(
        Channel(
            "dga",
            dga=ChinadDga(),
            note="the only described C&C rendezvous; the list depends on the date alone",
        ),
    ),
    references=(
        "360 Netlab, github.com/360netlab/DGA issue #1 and code/chinad (published examples)",
        "github.com/baderj/domain_generation_algorithms, chinad/ (published example domains)",
    ),
)
