"""Straightforward reference for Bumblebee's clock-less DGA."""

from __future__ import annotations

import datetime as dt


def step(r: int) -> int:
    r = (r * 1664525 + 1013904223) % 2**64
    for _ in range(32):
        low_bit = r % 2
        r = r // 2
        if low_bit == 1:
            r = r ^ 0xF5000000
    return r


def generate(date: dt.date, magic: str = "TEST_SEE") -> list[str]:
    """The build's 100 names, computed the plain way."""
    number = 0
    for i, char in enumerate(magic):
        number += ord(char) << (8 * i)
    r = number + (32 | ((13 + 256) << 8)) + 1899
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    domains = []
    for _ in range(100):
        label = ""
        for _ in range(11):
            r = step(r)
            label += alphabet[r % len(alphabet)]
        domains.append(label + ".life")
    return domains
