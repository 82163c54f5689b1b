"""Straightforward reference for Ramdo's DGA (oracle and benchmark baseline).

Unbounded integers throughout; only the state is cut to 32 bits before each
letter, as the C code's unsigned arithmetic does.
"""

from __future__ import annotations

import datetime as dt


def domain(seed: int, number: int) -> str:
    s = 2 * seed * (number + 1)
    r = s ^ (26 * seed * number)
    name = ""
    for i in range(16):
        r = r & 0xFFFFFFFF
        name += chr(r % 26 + ord("a"))
        r += r ^ (s * i**2 * 26)
    return name + ".org"


def generate(date: dt.date, seed: int = 0xDEADBEEF, count: int = 1000) -> list[str]:
    """The first `count` domains of the build (the same on every date)."""
    return [domain(seed, number) for number in range(count)]
