"""Straightforward reference for Simda's date-independent DGA."""

from __future__ import annotations

import datetime as dt


def generate(
    date: dt.date,
    key: str = "1676d5775e05c50b46baa5579d4fc7",
    base: int = 0x45AE94B2,
    count: int = 1000,
) -> list[str]:
    """The build's names, computed the plain way."""
    step = 0
    for char in key:
        step += ord(char)
    domains = []
    for _ in range(count):
        base = base + step
        label = ""
        for i in range(7):
            value = base // (3 + 2 * i)
            if i % 2 == 0:
                label += "qwrtpsdfghjklzxcvbnm"[value % 20]
            else:
                label += "eyuioa"[value % 6]
        domains.append(label + ".com")
    return domains
