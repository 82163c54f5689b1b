"""Straightforward reference for Torpig's daily domain (oracle and benchmark baseline).

A literal transcription of Listing 1 of Stone-Gross et al. (CCS 2009).
"""

from __future__ import annotations

import datetime as dt

SUFFIX = ["anj", "ebf", "arm", "pra", "aym", "unj", "ulj", "uag", "esp", "kot", "onv", "edc"]


def scramble_date(year: int, month: int, day: int, p: int) -> int:
    return (((month ^ day) + day) * p) + day + year


def generate_domain(year: int, month: int, day: int, p: int) -> str:
    if year < 2007:
        year = 2007
    s = scramble_date(year, month, day, p)
    c1 = (((year >> 2) & 0x3FC0) + s) % 25 + ord("a")
    c2 = (month + s) % 10 + ord("a")
    c3 = ((year & 0xFF) + s) % 25 + ord("a")
    if day * 2 < ord("0") or day * 2 > ord("9"):
        c4 = (day * 2) % 25 + ord("a")
    else:
        c4 = day % 10 + ord("1")
    return chr(c1) + "h" + chr(c2) + chr(c3) + "x" + chr(c4) + SUFFIX[month - 1]


def generate(date: dt.date) -> list[str]:
    """The daily domain with .com, .net and .biz."""
    label = generate_domain(date.year, date.month, date.day, 8)
    return [label + ".com", label + ".net", label + ".biz"]
