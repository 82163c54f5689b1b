"""Straightforward reference for DNSChanger's beacon names (oracle and benchmark baseline).

A literal transcription of the Microsoft C runtime's srand()/rand() with a
signed 32-bit state and randint(lower, upper) = lower + rand() % span.
"""

from __future__ import annotations

import datetime as dt


class CRand:
    def __init__(self, seed: int) -> None:
        self.state = seed

    def rand(self) -> int:
        value = (214013 * self.state + 2531011) % 2**32
        self.state = value - 2**32 if value >= 2**31 else value
        return (self.state >> 16) & 0x7FFF

    def randint(self, lower: int, upper: int) -> int:
        return lower + self.rand() % (upper - lower + 1)


def generate(date: dt.date, seed: int = 87373) -> list[str]:
    """The five names of the seed (the same on every date)."""
    generator = CRand(seed)
    domains = []
    for _ in range(5):
        name = "".join(chr(generator.randint(ord("a"), ord("z"))) for _ in range(10))
        domains.append(name + ".com")
    return domains
