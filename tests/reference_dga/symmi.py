"""Straightforward reference for Symmi's half-month DGA."""

from __future__ import annotations

import datetime as dt


class MsvcRand:
    def __init__(self, seed: int) -> None:
        self.state = seed

    def rand(self) -> int:
        self.state = (self.state * 214013 + 2531011) % 2**32
        return (self.state >> 16) & 0x7FFF


def generate(date: dt.date, suffix: str = "ddns.net") -> list[str]:
    """The 64 host names of the date's half-month, computed the plain way."""
    seed = 10000 * ((date.day // 16) * 100 + date.month) + date.year + 42
    rng = MsvcRand(seed)
    alphabets = ["aeiouy", "bcdfghklmnpqrstvwxz"]
    domains = []
    for _ in range(64):
        length = 8 + rng.rand() % 8
        name = ""
        start = 0
        for i in range(length):
            if i % 2 == 0:
                start = 0 if rng.rand() & 0x100 == 0 else 1
            value = rng.rand()
            alphabet = alphabets[(start + i) % 2]
            name += alphabet[value % (len(alphabet) - 1)]
        domains.append(name + "." + suffix)
    return domains
