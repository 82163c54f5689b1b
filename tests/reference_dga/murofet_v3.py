"""Straightforward reference for Murofet's third DGA variant (oracle and benchmark baseline)."""

from __future__ import annotations

import datetime as dt
import hashlib

TLDS = [".ru", ".biz", ".info", ".org", ".net", ".com"]


def domain(date: dt.date, index: int) -> str:
    seed = [((date.year & 0xFF) + 0x30) & 0xFF, date.month, (date.day // 7) * 7]
    r = index
    for _ in range(4):
        seed.append(r & 0xFF)
        r >>= 8
    digest = hashlib.md5(bytes(seed)).digest()
    name = ""
    for byte in digest:
        first = (byte & 0xF) + ord("a")
        second = (byte >> 4) + ord("q")
        name += chr(first)
        if second > ord("z"):
            name += chr(second - ord("J"))
            name += chr(first % 10 + ord("0"))
        else:
            name += chr(second)
    for i, tld in enumerate(TLDS):
        if index % (len(TLDS) - i) == 0:
            return name + tld
    raise AssertionError("unreachable: every index is divisible by 1")


def generate(date: dt.date) -> list[str]:
    """The 1000 domains of the bucket containing `date`."""
    return [domain(date, index) for index in range(1000)]
