"""Straightforward reference for Qakbot's 2016 DGA (oracle and benchmark baseline).

A literal transcription: CRC-32 of the date string seeds a pure-Python
Mersenne Twister (MT19937), whose outputs are scaled to ranges with floats.
"""

from __future__ import annotations

import datetime as dt
import zlib

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
TLDS = ["com", "net", "org", "info", "biz", "org"]


class MersenneTwister:
    def __init__(self, seed: int) -> None:
        self.index = 624
        self.mt = [0] * 624
        self.mt[0] = seed & 0xFFFFFFFF
        for i in range(1, 624):
            previous = self.mt[i - 1]
            self.mt[i] = (1812433253 * (previous ^ (previous >> 30)) + i) & 0xFFFFFFFF

    def twist(self) -> None:
        for i in range(624):
            y = (self.mt[i] & 0x80000000) + (self.mt[(i + 1) % 624] & 0x7FFFFFFF)
            self.mt[i] = self.mt[(i + 397) % 624] ^ (y >> 1)
            if y % 2 != 0:
                self.mt[i] ^= 0x9908B0DF
        self.index = 0

    def next_u32(self) -> int:
        if self.index >= 624:
            self.twist()
        y = self.mt[self.index]
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        self.index += 1
        return y & 0xFFFFFFFF

    def rand_int(self, lower: int, upper: int) -> int:
        r = self.next_u32() & 0xFFFFFFF
        return int(lower + float(r) / 2**28 * (upper - lower + 1))


def date_seed(date: dt.date, seed: int) -> int:
    part = (date.day - 1) // 10
    if part > 2:
        part = 2
    text = f"{part}.{MONTHS[date.month - 1]}.{date.year}.{seed:08x}"
    return zlib.crc32(text.encode("ascii"))


def generate(date: dt.date, seed: int = 0, sandbox: bool = False, count: int = 5000) -> list[str]:
    """The 5000 domains of the 10-day period of `date`, computed the plain way."""
    mt = MersenneTwister(date_seed(date, seed) + (1 if sandbox else 0))
    domains = []
    for _ in range(count):
        tld = TLDS[mt.rand_int(0, len(TLDS) - 1)]
        length = mt.rand_int(8, 25)
        label = ""
        for _ in range(length):
            label += chr(ord("a") + mt.rand_int(0, 25))
        domains.append(label + "." + tld)
    return domains
