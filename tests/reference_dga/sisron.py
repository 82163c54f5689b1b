"""Straightforward reference for Sisron's DGA: Base64 of the dates D..D-9, TLD by TLD."""

from __future__ import annotations

import base64
import datetime as dt


def generate(date: dt.date) -> list[str]:
    """The day's 40 names, computed the plain way."""
    domains = []
    for tld in [".com", ".org", ".net", ".info"]:
        for back in range(10):
            day = date - dt.timedelta(days=back)
            text = f"{day.day:02d}{day.month:02d}{day.year:04d}"
            encoded = base64.b64encode(text.encode()).decode().lower()
            domains.append(encoded.replace("=", "a") + tld)
    return domains
