"""Straightforward reference for the CryptoLocker DGA (used as an oracle and in bench).

Transcribed from the public description (Fortinet, "A Closer Look at
CryptoLocker's DGA", 2014).
"""

from __future__ import annotations

import datetime as dt


def generate(date: dt.date) -> list[str]:
    """The day's 1000 domains, computed the plain way."""
    suffixes = ["com", "net", "biz", "ru", "org", "co.uk", "info"]
    domains = []
    for z in range(1000):
        d = date.day * 65537
        m = date.month * 65537
        y = (date.year + z) * 65537
        length = 12 + (((d >> 3) ^ (y >> 8) ^ (y >> 11)) & 3)
        label = ""
        for _ in range(length):
            d = (((d << 13) & 0xFFFFFFFF) >> 19) ^ (((d >> 1) << 13) & 0xFFFFFFFF) ^ (d >> 19)
            m = (((m << 2) & 0xFFFFFFFF) >> 25) ^ (((m >> 3) << 7) & 0xFFFFFFFF) ^ (m >> 25)
            y = (((y << 3) & 0xFFFFFFFF) >> 11) ^ (((y >> 4) << 21) & 0xFFFFFFFF) ^ (y >> 11)
            label += chr(ord("a") + (d ^ m ^ y) % 25)
        domains.append(label + "." + suffixes[z % 7])
    return domains
