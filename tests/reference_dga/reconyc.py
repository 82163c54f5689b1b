"""Straightforward reference for Reconyc's DGA: a Mersenne Twister whose twist skips word 623."""

from __future__ import annotations

import datetime as dt

ALPHABET = "iHRYg79zJXaGw1CF5K0d3vZobhAlx6StUBnjOIMpe2yVuPr4sL8DqmQTkEcWNf"


class Twister:
    def __init__(self, seed: int) -> None:
        self.mt = [0] * 624
        self.mt[0] = seed
        for i in range(1, 624):
            prev = self.mt[i - 1]
            self.mt[i] = (1812433253 * (prev ^ (prev >> 30)) + i) % 2**32
        self.index = 624

    def next(self) -> int:
        if self.index >= 624:
            for i in range(623):
                x = (self.mt[i] & 0x80000000) + (self.mt[i + 1] & 0x7FFFFFFF)
                y = x >> 1
                if x % 2 == 1:
                    y ^= 0x9908B0DF
                self.mt[i] = self.mt[(i + 397) % 624] ^ y
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y


def generate(date: dt.date, seed: int = 434921, count: int = 100) -> list[str]:
    """The names of one seed (lower case), computed the plain way."""
    twister = Twister(seed)
    domains = []
    for _ in range(count):
        label = ""
        for _ in range(10):
            label += ALPHABET[(len(ALPHABET) * twister.next()) >> 32]
        domains.append(label.lower() + ".com")
    return domains
