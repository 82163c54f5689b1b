"""Straightforward reference for Fosniw's numbered names (oracle and benchmark baseline)."""

from __future__ import annotations

import datetime as dt

PATTERNS = {"winsoft": "app2.winsoft{}.com", "koreasys": "appx.koreasys{}.com"}


def generate(date: dt.date, pattern: str = "winsoft") -> list[str]:
    """The 101 names of the pattern (the same on every date)."""
    return [PATTERNS[pattern].format(number) for number in range(101)]
