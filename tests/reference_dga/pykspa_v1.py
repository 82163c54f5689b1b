"""Straightforward reference for the precursor Pykspa DGA (2-day periods).

Written from the public description (J. Bader, "The DGA of Pykspa", 2015): the
number of two-day periods since 1970 seeds a squaring generator; each domain
takes a length, letters from a mixing formula and one of six TLDs.
"""

from __future__ import annotations

import datetime as dt

TLDS = ["biz", "com", "net", "org", "info", "cc"]


def label(length: int, r: int) -> str:
    a = length * length
    out = ""
    for i in range(length):
        x = (i * (r % 4567 + r % 19)) & 0xFFFFFFFF
        p = (r * (r % 5 + r % 123456 + x)) & 0xFFFFFFFF
        out += chr(ord("a") + ((a + p) & 0xFFFFFFFF) % 26)
        r = (r + i) & 0xFFFFFFFF
        r = r >> ((i * i) & 31)
        a = (a + length) & 0xFFFFFFFF
    return out


def generate(date: dt.date, count: int = 5000) -> list[str]:
    """The `count` domains of the two-day period of `date` (UTC)."""
    r = (date - dt.date(1970, 1, 1)).days // 2
    domains = []
    for nr in range(count):
        r = (r * r) & 0xFFFFFFFF
        r = (r + nr) & 0xFFFFFFFF
        domains.append(label(r % 10 + 6, r) + "." + TLDS[r % 6])
    return domains
