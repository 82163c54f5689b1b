"""Straightforward reference for PadCrypt's DGA (oracle and benchmark baseline)."""

from __future__ import annotations

import datetime as dt
import hashlib

TLDS = ["com", "co.uk", "de", "org", "net", "eu", "info", "online", "co", "cc", "website"]
DIGIT_LETTERS = "abcdnfolmk"
TLDS_11 = ["com", "co.uk", "de", "org", "net", "tk", "info", "online", "ga", "co", "cc", "website"]
CONFIGS = {
    "2.2.86.1": {"count": 24, "separator": ":", "tlds": TLDS, "extra": ""},
    "2.2.97.0": {"count": 72, "separator": "|", "tlds": TLDS, "extra": ""},
    "11.37.0.0": {"count": 72, "separator": "|", "tlds": TLDS_11, "extra": "38"},
}


def generate(date: dt.date, version: str = "2.2.86.1") -> list[str]:
    """The domains of `date` for one PadCrypt version."""
    config = CONFIGS[version]
    domains = []
    for i in range(config["count"]):
        text = f"{date.day}-{date.month}-{date.year}{config['separator']}{i}{config['extra']}"
        digest = hashlib.sha256(text.encode("ascii")).hexdigest()
        name = ""
        for ch in digest[3:19]:
            name += DIGIT_LETTERS[int(ch)] if ch.isdigit() else ch
        tld_index = int(digest[-1], 16)
        tlds = config["tlds"]
        if tld_index >= len(tlds):
            tld_index = 0
        domains.append(name + "." + tlds[tld_index])
    return domains
