"""Straightforward reference for Vawtrak's seeded DGAs (versions 1, 2 and 3).

Written from the public description (J. Bader, "The DGA of Vawtrak", 2016, and
its follow-up): the C library's rand-style LCG (mod 2**31) from a build seed.
"""

from __future__ import annotations

import datetime as dt


def lcg(r: int) -> int:
    return (1103515245 * r + 12345) % 2**31


def generate(
    date: dt.date, version: int = 2, seed: int = 0x5884C3C4, count: int = 100
) -> list[str]:
    """The build's domains (the date is not used)."""
    domains = []
    if version == 1:
        r = seed % 2**32
        for _ in range(count):
            r = lcg(r)
            length = r % 5 + 7
            label = ""
            for _ in range(length):
                r = lcg(r)
                label += chr(r % 26 + ord("a"))
            domains.append(label + ".top")
        return domains
    step = 2 if version == 2 else 0x1895120F
    r = seed
    for _ in range(count):
        r = lcg(r)
        length = r % 5 + 7
        r = lcg(r)
        p = r % 2
        label = ""
        for _ in range(length):
            r = lcg(r + step)
            tmp = r
            if p:
                letters = "cdfghlmnrstw"
                p -= 1
            else:
                letters = "aeiou"
                r = lcg(r)
                p = r % 2 + 1
            label += letters[tmp % len(letters)]
        domains.append(label + ".com")
    return domains
