"""tufik: the Tufik malware and its MD5 DGA of 1020 names a day.

Tufik is a Windows malware family whose C&C names come from a domain
generation algorithm; it is the only channel modelled here.

Algorithm (J. Bader, baderj/domain_generation_algorithms ``tufik/``, 2022):
for each index ``i`` in 0..1019 the bot builds eight bytes: ``(year + 48)
mod 256``, the month, the day, a zero byte and ``i`` with its lowest bit
cleared (32-bit little-endian), XORs them with the 32-bit build constant
("magic", 0x997722ED in the published sample, little-endian, repeating) and
hashes them with MD5. Each digest byte becomes the sum of its two nibbles
(0..30); sums up to 25 are the letters ``a``..``z``, larger ones are
dropped, so labels have up to 16 letters. The TLD follows from ``i``: ``.biz``
when ``i`` is divisible by 5, else ``.info`` by 4, ``.org`` by 3, ``.net`` by 2,
else ``.com``. Indices ``2k`` and ``2k+1`` share a label.

Active years: 2022-2022. Bader's published sample (dated 2022-05-09) is the
dated public record we know of; look further with ``--around``.
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

_COUNT = 1020
#: Build constant of the published sample.
DEFAULT_MAGIC = 0x997722ED
_DROP = b"."
#: digest byte -> its letter (nibble sum up to 25) or the byte to drop
_LETTER = bytes(
    97 + (b & 15) + (b >> 4) if (b & 15) + (b >> 4) <= 25 else _DROP[0] for b in range(256)
)


def tld_of(index: int) -> str:
    """The TLD of the name with sequence number `index`."""
    for divisor, tld in ((5, "biz"), (4, "info"), (3, "org"), (2, "net")):
        if index % divisor == 0:
            return tld
    return "com"


_SUFFIXES = tuple("." + tld_of(i) for i in range(_COUNT))


class TufikDga(BaseDga):
    """Tufik: 1020 MD5-derived names a day, two per label, five TLDs."""

    name = "tufik"
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=("biz", "info", "org", "net", "com"),
        seeding="time-dependent",
        active_years=(2022, 2022),
        params=(
            DgaParam(
                "magic",
                DEFAULT_MAGIC,
                "32-bit build constant XORed into the date bytes (0x997722ED in the sample)",
                minimum=0,
                maximum=0xFFFFFFFF,
            ),
        ),
        reference="baderj/domain_generation_algorithms tufik/ (J. Bader, 2022)",
        notes="indices 2k and 2k+1 share a label; the TLD follows from the index",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 1020 names, in index order."""
        magic = params["magic"]
        if not isinstance(magic, int) or not 0 <= magic <= 0xFFFFFFFF:
            raise DgaError(f"tufik: magic={magic!r} is not a 32-bit value")
        date_word = ((key.year + 48) & 0xFF) | key.month << 8 | key.day << 16
        head = date_word ^ magic
        md5 = hashlib.md5
        pack = struct.Struct("<II").pack
        letters, drop = _LETTER, _DROP
        out: list[str] = []
        for index in range(0, _COUNT, 2):
            label = md5(pack(head, index ^ magic)).digest().translate(letters).replace(drop, b"")
            name = label.decode("ascii")
            out.append(name + _SUFFIXES[index])
            out.append(name + _SUFFIXES[index + 1])
        return out


FAMILY = Family(
    name="tufik",
    summary="Windows malware: 1020 MD5-derived names a day over five classic TLDs",
    channels=(Channel("dga", dga=TufikDga(), note="1020 names a day; magic is per build"),),
    references=(
        "github.com/baderj/domain_generation_algorithms, tufik/ (J. Bader, 2022; published "
        "example domains)",
    ),
)
