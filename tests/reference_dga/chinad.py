"""Straightforward reference for Chinad's DGA (oracle and benchmark baseline).

A literal transcription: SHA-1 of the date bytes and the index, each 32-bit
word's bytes reversed, one character per byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib

TLDS = [".com", ".org", ".net", ".biz", ".info", ".ru", ".cn"]
CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def domain(date: dt.date, nr: int) -> str:
    data = bytes([date.year % 100, date.month, date.day, nr]) + b"\x00" * 12
    digest = hashlib.sha1(data).digest()
    reordered = []
    for word in range(5):
        for position in range(4):
            reordered.append(digest[word * 4 + (3 - position)])
    label = ""
    for byte in reordered[:16]:
        label += CHARS[byte % len(CHARS)]
    return label + TLDS[reordered[16] % len(TLDS)]


def generate(date: dt.date) -> list[str]:
    """The 256 domains of `date`."""
    return [domain(date, nr) for nr in range(256)]
