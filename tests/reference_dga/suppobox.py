"""Straightforward reference for Suppobox's wordlist DGA (oracle and benchmark baseline).

Written from the public description (Endgame, "Malware with a personal touch",
2014; J. Bader's notes): the Unix time divided by 512 is a counter; 15 of its
bits, scattered by a fixed shuffle, pick two words of a 384-word list.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

WORDS = Path(__file__).parents[2] / "src" / "sinkhole" / "data" / "dga" / "suppobox"
SHUFFLE = [3, 9, 13, 6, 2, 4, 11, 7, 14, 1, 10, 5, 8, 12, 0]


def words(wordlist: int) -> list[str]:
    text = (WORDS / f"words{wordlist}.txt").read_text()
    return [w.strip() for w in text.splitlines() if w.strip()]


def domain(counter: int, wordlist: list[str]) -> str:
    bits = [0] * 16
    n = counter
    for i in range(15):
        bits[SHUFFLE[i]] = n % 2
        n = n // 2
    first = 0
    for i in range(7):
        first = first * 2 + bits[i]
    second = 0
    for i in range(7, 15):
        second = second * 2 + bits[i]
    return wordlist[first] + wordlist[second + 128] + ".net"


def at_time(timestamp: int, wordlist: int = 1, count: int = 85) -> list[str]:
    """The `count` domains a bot tries at one moment (Unix seconds)."""
    table = words(wordlist)
    start = timestamp // 512
    return [domain(start + i, table) for i in range(count)]


def generate(date: dt.date, wordlist: int = 1, count: int = 85) -> list[str]:
    """Every domain a bot tries at some moment of `date` (UTC), by counter."""
    table = words(wordlist)
    midnight = (date - dt.date(1970, 1, 1)).days * 86400
    first = midnight // 512
    last = (midnight + 86399) // 512 + count - 1
    return [domain(c, table) for c in range(first, last + 1)]
