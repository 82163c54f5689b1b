"""Chinad: a Chinese DDoS bot's daily SHA-1 DGA, 256 alphanumeric names a day.

Chinad is a DDoS bot reported by 360 Netlab in 2016-2017 (its DGA was
discussed in an issue of the 360netlab/DGA repository). Its bots derive C&C
names from the date only; the DGA is the only C&C channel described publicly.
Two of its seven TLDs (``ru``, ``cn``) are ccTLDs whose registries are outside
the usual takedown partners, which the plan reports.

Algorithm (360netlab/DGA issue #1; reimplemented in
baderj/domain_generation_algorithms ``chinad/``, Jan. 2017): for each index
``nr`` 0..255 the bot hashes 16 bytes with SHA-1 -- the year modulo 100, the
month, the day, ``nr`` and twelve zero bytes. It reads the 20-byte digest as
five little-endian 32-bit words and writes them back big-endian (each group of
four bytes reversed); the first 16 of those bytes pick the label's characters
from ``a-z0-9`` (byte modulo 36) and byte 16 the TLD from ``com org net biz
info ru cn`` (modulo 7). The bot's loop is said to run 1000 times, but only
the 256 values of the index byte give different names, so the list holds 256.

Active years: 2016-2018. 360 Netlab's reports on Chinad date from 2016, and
the published example is from January 2017; the end is not published, so we
chose 2018.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 256
_TLDS = ("com", "org", "net", "biz", "info", "ru", "cn")
_CHARS = b"abcdefghijklmnopqrstuvwxyz0123456789"
#: digest byte -> its character (modulo 36)
_SPELL = bytes(_CHARS[b % 36] for b in range(256))
_SUFFIXES = tuple("." + _TLDS[b % 7] for b in range(256))
_ZEROS = bytes(12)
_WORDS = struct.Struct("<5I")
_SWAPPED = struct.Struct(">5I")


class ChinadDga(BaseDga):
    """Chinad: 256 daily SHA-1 names, 16 alphanumerics each, seven TLDs."""

    name = "chinad"
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2016, 2018),
        reference="360netlab/DGA issue #1; baderj/domain_generation_algorithms chinad/",
        notes="the year enters modulo 100; the bot loops 1000 times over 256 distinct names",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 256 names, index 0 first."""
        head = bytes((key.year % 100, key.month, key.day))
        sha1 = hashlib.sha1
        unpack, pack = _WORDS.unpack, _SWAPPED.pack
        spell, suffixes = _SPELL, _SUFFIXES
        out: list[str] = []
        for nr in range(_COUNT):
            swapped = pack(*unpack(sha1(head + bytes((nr,)) + _ZEROS).digest()))
            out.append(swapped[:16].translate(spell).decode() + suffixes[swapped[16]])
        return out


FAMILY = Family(
    name="chinad",
    summary="Chinad DDoS bot: 256 daily SHA-1 names of 16 alphanumerics (com ... ru cn)",
    channels=(
        Channel(
            "dga",
            dga=ChinadDga(),
            note="the only described C&C rendezvous; the list depends on the date alone",
        ),
    ),
    references=(
        "360 Netlab, github.com/360netlab/DGA issue #1 (Chinad DGA)",
        "github.com/baderj/domain_generation_algorithms, chinad/ (published example domains)",
    ),
)
