"""Straightforward reference for CoreBot's DGA (oracle and benchmark baseline)."""

from __future__ import annotations

import datetime as dt

CHARSET = [chr(c) for c in range(ord("a"), ord("z"))] + [chr(c) for c in range(ord("0"), ord("9"))]


def next_random(r: int) -> int:
    return (1664525 * r + 1013904223) % 2**32


def generate(date: dt.date, seed: int = 0x1DB98930) -> list[str]:
    """The 40 domains of `date`."""
    r = (seed + date.year + (((1 << 16) + (date.month << 8)) | date.day)) % 2**32
    domains = []
    for _ in range(40):
        r = next_random(r)
        length = 0xC + r % (0x18 - 0xC)
        name = ""
        for _ in range(length):
            r = next_random(r)
            name += CHARSET[r % len(CHARSET)]
        domains.append(name + ".ddns.net")
    return domains
