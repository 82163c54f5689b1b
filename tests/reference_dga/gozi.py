"""Straightforward reference for the Gozi (ISFB) wordlist DGA.

Written from the public description (J. Bader, "The DGA of Gozi/ISFB", 2015):
a linear congruential generator seeded by the number of periods since
2015-01-01 picks words of a text and glues (halves of) them into a label.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

WORDS = Path(__file__).parents[2] / "src" / "sinkhole" / "data" / "dga" / "gozi"
CONFIGS = {
    "luther": (4, "com"),
    "rfc4343": (3, "com"),
    "nasa": (5, "com"),
    "gpl": (5, "ru"),
}


def generate(date: dt.date, wordlist: str = "luther") -> list[str]:
    """The 12 domains of `date`, computed the plain way."""
    text = (WORDS / f"{wordlist}.txt").read_text()
    words = [w.strip() for w in text.splitlines() if w.strip()]
    divisor, tld = CONFIGS[wordlist]
    periods = (date - dt.date(2015, 1, 1)).days // divisor
    state = [((1 << 16) + periods - 306607824) % 2**32]

    def rand() -> int:
        state[0] = (1664525 * state[0] + 1013904223) % 2**32
        return state[0]

    domains = []
    for _ in range(12):
        rand()
        length = rand() % 12 + 12
        label = ""
        while len(label) < length:
            word = words[rand() % len(words)]
            size = len(word)
            if rand() % 3 == 0:
                size = size // 2
            if len(label) + size <= 24:
                label += word[:size]
        domains.append(label + "." + tld)
    return domains
