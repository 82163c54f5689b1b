"""Straightforward reference for Tempedreve's DGA (the model's 365 newest days)."""

from __future__ import annotations

import datetime as dt


def step(r: int) -> int:
    return (16843009 * r + 65805) % 2**32


def name(day: dt.date) -> str:
    """The name of one day."""
    days = (day - dt.date(1970, 1, 1)).days
    seed = (1664525 * days + 1013904223) % 2**32
    letters = list("abcdefghijklmnopqrstuvwxyz")
    r = seed
    for j in range(len(letters)):
        i = r % len(letters)
        r = step(r)
        letters[j], letters[i] = letters[i], letters[j]
    label = ""
    r = seed
    for _ in range(seed % 5 + 7):
        label += letters[r % len(letters)]
        r = step(r)
    return label + [".com", ".net", ".org", ".info"][seed & 3]


def generate(date: dt.date, days: int = 365) -> list[str]:
    """The names of `date` and the days before it, newest first."""
    return [name(date - dt.timedelta(days=back)) for back in range(days)]
