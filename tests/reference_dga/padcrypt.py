"""Straightforward reference for PadCrypt's DGA (oracle and benchmark baseline)."""

from __future__ import annotations

import datetime as dt
import hashlib

TLDS = ["com", "co.uk", "de", "org", "net", "eu", "info", "online", "co", "cc", "website"]
DIGIT_LETTERS = "abcdnfolmk"
CONFIGS = {"2.2.86.1": {"count": 24, "separator": ":"}, "2.2.97.0": {"count": 72, "separator": "|"}}


def generate(date: dt.date, version: str = "2.2.86.1") -> list[str]:
    """The domains of `date` for one PadCrypt version."""
    config = CONFIGS[version]
    domains = []
    for i in range(config["count"]):
        text = f"{date.day}-{date.month}-{date.year}{config['separator']}{i}"
        digest = hashlib.sha256(text.encode("ascii")).hexdigest()
        name = ""
        for ch in digest[3:19]:
            name += DIGIT_LETTERS[int(ch)] if ch.isdigit() else ch
        tld_index = int(digest[-1], 16)
        if tld_index >= len(TLDS):
            tld_index = 0
        domains.append(name + "." + TLDS[tld_index])
    return domains
