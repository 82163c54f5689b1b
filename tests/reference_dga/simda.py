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
    increment = sum(ord(char) for char in key)
    alphabets = ("qwrtpsdfghjklzxcvbnm", "eyuioa")  # even positions, odd positions
    names = []
    for number in range(1, count + 1):
        value = base + number * increment
        letters = [alphabets[k % 2] for k in range(7)]
        label = "".join(chars[value // (2 * k + 3) % len(chars)] for k, chars in enumerate(letters))
        names.append(f"{label}.com")
    return names
