"""Straightforward reference for Murofet's second DGA variant (oracle and benchmark baseline).

A literal transcription: an 8-byte seed (year, month, day, 0, index rounded
down to even) XORed with an optional 4-byte key, hashed with MD5; each byte
gives at most one letter.
"""

from __future__ import annotations

import datetime as dt
import hashlib

TLDS = ["biz", "info", "org", "net", "com"]


def domain(date: dt.date, index: int, key: int) -> str:
    seed = [0] * 8
    seed[0] = ((date.year & 0xFF) + 0x30) & 0xFF
    seed[1] = date.month & 0xFF
    seed[2] = date.day & 0xFF
    seed[3] = 0
    r = index & 0xFFFFFFFE
    for i in range(4):
        seed[4 + i] = r & 0xFF
        r >>= 8
    data = bytearray()
    for i in range(8):
        data.append(seed[i] ^ ((key >> (8 * (i % 4))) & 0xFF))
    digest = hashlib.md5(bytes(data)).digest()
    label = ""
    for byte in digest:
        value = (byte & 0xF) + (byte >> 4) + ord("a")
        if value <= ord("z"):
            label += chr(value)
    for i, tld in enumerate(TLDS):
        if index % (len(TLDS) - i) == 0:
            return label + "." + tld
    raise AssertionError("unreachable: every index is divisible by 1")


def generate(date: dt.date, key: int = 0) -> list[str]:
    """All 1020 domains (indices 0..1019) of `date`, computed the plain way."""
    return [domain(date, index, key) for index in range(1020)]
