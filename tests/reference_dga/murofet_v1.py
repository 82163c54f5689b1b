"""Straightforward reference for Murofet's first DGA variant (oracle and benchmark baseline).

A literal transcription: a 7-byte seed (year, month, day rounded down to a
multiple of 7, index) hashed with MD5, letters picked byte by byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib

TLDS = ["ru", "biz", "info", "org", "net", "com"]


def domain(date: dt.date, index: int) -> str:
    seed = [0] * 7
    seed[0] = ((date.year & 0xFF) + 0x30) & 0xFF
    seed[1] = date.month
    seed[2] = (date.day // 7) * 7
    r = index
    for i in range(4):
        seed[3 + i] = r & 0xFF
        r >>= 8
    digest = hashlib.md5(bytes(seed)).digest()
    label = ""
    for byte in digest:
        first = (byte & 0x1F) + ord("a")
        second = (byte >> 3) + ord("a")
        if first != second:
            if first <= ord("z"):
                label += chr(first)
            if second <= ord("z"):
                label += chr(second)
    for i, tld in enumerate(TLDS):
        if index % (len(TLDS) - i) == 0:
            return label + "." + tld
    raise AssertionError("unreachable: every index is divisible by 1")


def generate(date: dt.date) -> list[str]:
    """All 1020 domains (indices 0..1019) of the period of `date`, the plain way."""
    return [domain(date, index) for index in range(1020)]
