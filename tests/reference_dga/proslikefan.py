"""Straightforward reference for Proslikefan's DGA (oracle and benchmark baseline).

A literal transcription: the whole string is hashed again for every letter.
"""

from __future__ import annotations

import datetime as dt

TLDS = ["eu", "biz", "se", "info", "com", "net", "org", "ru", "in", "name"]


def string_hash(text: str) -> int:
    """31 * h + c over the characters, as a signed 32-bit integer."""
    h = 0
    for ch in text:
        h = (h * 31 + ord(ch)) % 2**32
    return h - 2**32 if h >= 2**31 else h


def generate(date: dt.date, magic: str = "prospect") -> list[str]:
    """The 100 domains of `date`."""
    domains = []
    for i in range(10):
        for tld in TLDS:
            seed = f"{magic}.{date.month}.{date.day}.{date.year}.{tld}"
            r = abs(string_hash(seed)) + i
            name = ""
            while len(name) < r % 7 + 6:
                r = abs(string_hash(name + str(r)))
                name += chr(r % 26 + ord("a"))
            domains.append(name + "." + tld)
    return domains
