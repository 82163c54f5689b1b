"""darkcracks: the DarkCracks payload-delivery framework and its one-name-a-day DGA.

DarkCracks, described by Qianxin's XLab in 2024, is a payload-delivery
framework that runs on compromised hosts; its "runner" component
derives a C&C name a day with the algorithm below, the only channel modelled.

Algorithm (XLab, "Uncovering DarkCracks Payload Delivery Framework", 2024;
reimplemented in baderj/domain_generation_algorithms ``darkcracks/``): the
text ``YYYYDD`` (year and day of the month: the month is not used) is
Base64-encoded (URL-safe alphabet); in the result the case of every letter
is swapped and each character is XORed with the next byte of a seed string
(``Crackalackin'`` in the published sample, repeating). Those bytes are
Base64-encoded again (URL-safe), the ``=`` padding is stripped and the
string reversed: an 11-character label under ``.com``. Because only the year
and the day of the month enter, every month of a year repeats the same 31
names. The bot spells the label in mixed case; DNS names are case-blind, so
the model lists them in lower case.

Active years: 2024-2024. XLab's report (2024) and Bader's published sample
(2024-04-03 and the 99 days after it) are the dated public record we know
of; look further with ``--around``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from itertools import cycle

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Seed string of the published sample.
DEFAULT_SEED = "Crackalackin'"


def label(year: int, day: int, seed: bytes) -> str:
    """The lower-case label for a year and day of the month."""
    first = base64.urlsafe_b64encode(f"{year:04d}{day:02d}".encode("ascii")).swapcase()
    mixed = bytes(a ^ b for a, b in zip(first, cycle(seed), strict=False))
    return base64.urlsafe_b64encode(mixed).rstrip(b"=")[::-1].decode("ascii").lower()


class DarkcracksDga(BaseDga):
    """DarkCracks: a double Base64 with XOR of the year and day of the month."""

    name = "darkcracks"
    info = DgaInfo(
        period="daily",
        per_period=1,
        tlds=("com",),
        seeding="time-dependent",
        active_years=(2024, 2024),
        params=(DgaParam("seed", DEFAULT_SEED, "seed string XORed into the first encoding"),),
        reference="XLab (Qianxin), DarkCracks report (2024); baderj/domain_generation_algorithms",
        notes="the month is not used: each month of a year repeats the same names",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's one name."""
        seed = str(params["seed"])
        if not seed or not seed.isascii():
            raise DgaError(f"darkcracks: seed={seed!r} is not a non-empty ASCII string")
        return [label(key.year, key.day, seed.encode("ascii")) + ".com"]


FAMILY = Family(
    name="darkcracks",
    summary="Payload-delivery framework on hacked hosts: one .com name a day (year, day)",
    channels=(
        Channel("dga", dga=DarkcracksDga(), note="one name a day; the seed string is per build"),
    ),
    references=(
        "XLab (Qianxin), 'Uncovering DarkCracks Payload Delivery Framework' (2024), "
        "https://blog.xlab.qianxin.com/uncovering_darkcracks_payload_delivery_framework_cn/",
        "github.com/baderj/domain_generation_algorithms, darkcracks/ (published example domains)",
    ),
)
