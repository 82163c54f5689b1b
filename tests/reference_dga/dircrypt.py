"""Straightforward reference for the DirCrypt DGA (used as an oracle and in bench).

Transcribed from the public description (J. Bader, "The DGA of DirCrypt", 2015).
The date is ignored: the DGA depends only on the build's seed.
"""

from __future__ import annotations

import datetime as dt


def generate(date: dt.date, seed: int = 0xF2113C2A, count: int = 30) -> list[str]:
    """The build's domains, computed the plain way."""
    state = [seed]

    def rand(modulus: int) -> int:
        s = state[0]
        s = (16807 * (s % 127773) - 2836 * (s // 127773)) % 2**32
        state[0] = s
        return s % modulus

    domains = []
    for _ in range(count):
        length = 8 + rand(13)
        label = ""
        for _ in range(length):
            label += chr(ord("a") + rand(26))
        domains.append(label + ".com")
    return domains
