"""Straightforward reference for Ramnit's seeded DGA (oracle and benchmark baseline).

A literal transcription of the generator described by Bader (2014).
"""

from __future__ import annotations

import datetime as dt


class RandInt:
    def __init__(self, seed: int) -> None:
        self.value = seed

    def rand_int_modulus(self, modulus: int) -> int:
        ix = self.value
        ix = (16807 * (ix % 127773) - 2836 * (ix // 127773)) & 0xFFFFFFFF
        self.value = ix
        return ix % modulus


def generate(
    date: dt.date, seed: int = 0x79159C10, count: int = 1000, tlds: str = "com"
) -> list[str]:
    """The seed's first `count` domains; `date` is ignored (time-independent)."""
    tld_list = [t.lstrip(".") for t in tlds.replace(",", " ").split()]
    rand = RandInt(seed)
    domains = []
    for i in range(count):
        seed_a = rand.value
        length = rand.rand_int_modulus(12) + 8
        seed_b = rand.value
        label = ""
        for _ in range(length):
            label += chr(ord("a") + rand.rand_int_modulus(25))
        domains.append(label + "." + tld_list[i % len(tld_list)])
        m = seed_a * seed_b
        rand.value = (m + m // 2**32) % 2**32
    return domains
