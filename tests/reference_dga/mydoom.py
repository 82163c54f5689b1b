"""Straightforward reference for MyDoom's DGA (oracle and benchmark baseline)."""

from __future__ import annotations

import datetime as dt

TLDS = [".com", ".biz", ".us", ".net", ".org", ".ws", ".info"]
LETTERS = "asnhreqwpm"


def generate(date: dt.date, magic: int = 0xFA8) -> list[str]:
    """The 99 domains of `date`."""
    r = date.year + date.month + date.day + magic
    domains = []
    for i in range(1, 100):
        if i == 51:
            r = magic
        r = (r * 1664525 + 1013904223) % 2**32
        value = r
        digits = []
        for _ in range(10):
            digits.append(value % 10)
            value //= 10
        name = "".join(LETTERS[d] for d in digits)
        tld = TLDS[digits[0]] if digits[0] < len(TLDS) else ".in"
        domains.append(name + tld)
    return domains
