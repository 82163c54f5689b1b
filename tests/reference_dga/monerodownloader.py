"""Straightforward reference for the Monero-miner downloader's DGA."""

from __future__ import annotations

import datetime as dt
import hashlib


def generate(
    date: dt.date, magic: str = "jkhhksugrhtijys78g46", first: str = "31b4bd31fg1x2"
) -> list[str]:
    """The day's 2500 names, computed the plain way."""
    days = (date - dt.date(1970, 1, 1)).days
    domains = []
    for n in range(500):
        for tld in [".org", ".tickets", ".blackfriday", ".hosting", ".feedback"]:
            text = magic + "-" + str(days) + "-" + str(n)
            label = hashlib.md5(text.encode()).hexdigest()[:13]
            if n == 0:
                label = first
            domains.append(label + tld)
    return domains
