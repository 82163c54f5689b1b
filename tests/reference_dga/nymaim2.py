"""Straightforward reference for Nymaim v2's wordlist DGA.

Written from the public description (J. Bader, "The DGA of Nymaim v2" notes;
DGArchive): MD5 chains seeded by a build string, the two-digit year and the
day of the year pick a first word, a separator, a second word and a TLD.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

WORDS = Path(__file__).parents[2] / "src" / "sinkhole" / "data" / "dga" / "nymaim2"


def _list(name: str) -> list[str]:
    return [w for w in (WORDS / f"{name}.txt").read_text().split("\n") if w]


def md5hex(text: str) -> str:
    return hashlib.md5(text.encode("ascii")).hexdigest()


def generate(date: dt.date, seed: str = "3138C81ED54AD5F8E905555A6623C9C9") -> list[str]:
    """The 704 domains a bot tries on `date` (11 days back, 64 each)."""
    parts = [_list("firstword"), ["-", ""], _list("secondword"), ["." + t for t in _list("tld")]]
    year = date.year % 100
    yday = date.timetuple().tm_yday - 1
    domains = []
    for back in range(11):
        state = md5hex(f"{md5hex(seed)}{year}{yday - back}")
        for _ in range(64):
            name = ""
            for part in parts:
                value = int(state[:8], 16)
                state = md5hex(state[7:])
                name += part[value % len(part)]
            domains.append(name)
    return domains
