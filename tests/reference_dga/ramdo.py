"""Straightforward reference for Ramdo's DGA (oracle and benchmark baseline).

Unbounded integers throughout; only the state is cut to 32 bits before each
letter, as the C code's unsigned arithmetic does.
"""

from __future__ import annotations

import datetime as dt


def domain(seed: int, number: int) -> str:
    """Name `number` of the build with `seed`."""
    base = 2 * seed * (number + 1)
    state = base ^ (26 * seed * number)
    letters = []
    for position in range(16):
        state %= 2**32
        letters.append(chr(ord("a") + state % 26))
        state += state ^ (26 * base * position * position)
    return "".join(letters) + ".org"


def generate(date: dt.date, seed: int = 0xDEADBEEF, count: int = 1000) -> list[str]:
    """The first `count` domains of the build (the same on every date)."""
    return [domain(seed, number) for number in range(count)]
