"""Straightforward reference for Necurs' main DGA (oracle and benchmark baseline).

A literal transcription with 64-bit unsigned arithmetic: every domain runs the
whole seeding chain (year, month, day>>2, sequence number, magic) again.
"""

from __future__ import annotations

import datetime as dt

MASK64 = (1 << 64) - 1
TLDS = [
    "tj", "in", "jp", "tw", "ac", "cm", "la", "mn", "so", "sh", "sc", "nu", "nf", "mu",
    "ms", "mx", "ki", "im", "cx", "cc", "tv", "bz", "me", "eu", "de", "ru", "co", "su",
    "pw", "kz", "sx", "us", "ug", "ir", "to", "ga", "com", "net", "org", "biz", "xxx",
    "pro", "bit",
]  # fmt: skip


def pseudo_random(value: int) -> int:
    value &= MASK64
    loops = (value & 0x7F) + 21
    for index in range(loops):
        value = value + ((value * 7) ^ (value << 15)) + 8 * index - (value >> 5)
        value &= MASK64
    return value


def domain(sequence: int, magic: int, date: dt.date) -> str:
    n = pseudo_random(date.year)
    n = pseudo_random(n + date.month + 43690)
    n = pseudo_random(n + (date.day >> 2))
    n = pseudo_random(n + sequence)
    n = pseudo_random(n + magic)
    length = n % 15 + 7
    label = ""
    for i in range(length):
        n = pseudo_random(n + i)
        label += chr(ord("a") + n % 25)
        n = pseudo_random(n + 0xABBEDF)
    return label + "." + TLDS[n % 43]


def generate(date: dt.date, magic: int = 9, count: int = 2048) -> list[str]:
    """The 2048 domains of the 4-day bucket of `date`, computed the plain way."""
    return [domain(sequence, magic, date) for sequence in range(count)]
