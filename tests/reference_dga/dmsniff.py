"""Straightforward reference for DMSniff's DGA."""

from __future__ import annotations

import datetime as dt


def reduce(number: int) -> int:
    while number > 24:
        number = number // 2
    return number


def generate(date: dt.date, prefix: str = "sn") -> list[str]:
    """The build's 50 names, computed the plain way."""
    multipliers = [1, 7, 3, 5, 11, 13] if prefix == "sn" else [1, 3, 5, 7, 11, 13]
    domains = []
    for k in range(1, 51):
        name = prefix
        for p in multipliers:
            name += chr(ord("a") + reduce(p * k))
        name += [".com", ".org", ".net", ".ru", ".in"][reduce(k) // 5]
        domains.append(name)
    return domains
