"""Straightforward reference for Chinad's DGA (oracle and benchmark baseline).

A literal transcription: SHA-1 of the date bytes and the 16-bit index, each
32-bit word's bytes reversed, one character per byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib

TLDS = [".com", ".org", ".net", ".biz", ".info", ".ru", ".cn"]
CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def domain(date: dt.date, index: int) -> str:
    seed = [0] * 16
    seed[0] = ((date.year & 0xFF) + 0x30) & 0xFF
    seed[1] = date.month
    seed[2] = date.day
    seed[3] = index & 0xFF
    seed[4] = (index >> 8) & 0xFF
    digest = hashlib.sha1(bytes(seed)).digest()
    reordered = []
    for word in range(5):
        for position in range(4):
            reordered.append(digest[word * 4 + (3 - position)])
    label = ""
    for byte in reordered[:16]:
        label += CHARS[byte % len(CHARS)]
    return label + TLDS[reordered[16] % len(TLDS)]


def generate(date: dt.date) -> list[str]:
    """The 1000 domains of `date`."""
    return [domain(date, index) for index in range(1000)]
