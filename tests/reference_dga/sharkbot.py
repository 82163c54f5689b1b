"""Straightforward reference for SharkBot's weekly DGA (all four versions)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib


def generate(date: dt.date, version: str = "2.8") -> list[str]:
    """The week's seven names, computed the plain way."""
    week = date.isocalendar()[1]
    year = date.year
    if version in ("0.0", "1.63"):
        tlds = [".top", ".xyz", ".cc", ".info", ".com", ".ru", ".net"]
    else:
        tlds = [".xyz", ".live", ".com", ".store", ".info", ".top", ".net"]
    domains = []
    for tld in tlds:
        if version == "2.8":
            label = hashlib.md5((tld + str(week) + str(year)).encode()).hexdigest()[:16]
        elif version == "2.1":
            label = (hashlib.md5((tld + str(week)).encode()).hexdigest() + str(year))[:16]
        else:
            number = week + year if version == "1.63" else week
            text = str(number) + "pojBI9LHGFdfgegjjsJ99hvVGHVOjhksdf"
            label = base64.b64encode(text.encode()).decode()[:19].lower()
        domains.append(label + tld)
    return domains
