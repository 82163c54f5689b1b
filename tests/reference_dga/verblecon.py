"""Straightforward reference for Verblecon's DGA: MD5 of the date text and the seed."""

from __future__ import annotations

import datetime as dt
import hashlib


def generate(date: dt.date, seed: str = "verble") -> list[str]:
    """The day's one name, computed the plain way."""
    text = f"{date.year:04d}-{date.month:02d}-{date.day:02d}{seed}"
    return [hashlib.md5(text.encode("ascii")).hexdigest() + ".tk"]
