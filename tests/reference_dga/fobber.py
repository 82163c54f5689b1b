"""Straightforward reference for Fobber's DGA (oracle and benchmark baseline).

A literal transcription: one multiply-add and a 16-bit rotation per letter.
"""

from __future__ import annotations

import datetime as dt

BUILDS = {
    1: {"start": 0xC87C8A78, "add": -1719405398, "length": 17, "tld": "net"},
    2: {"start": 0x851A3E59, "add": -1916503263, "length": 10, "tld": "com"},
}


def rotate_right(value: int, bits: int) -> int:
    return ((value >> bits) | (value << (32 - bits))) & 0xFFFFFFFF


def generate(date: dt.date, version: int = 1) -> list[str]:
    """The build's 300 domains (the same on every date)."""
    build = BUILDS[version]
    r = build["start"]
    domains = []
    for _ in range(300):
        name = ""
        for _ in range(build["length"]):
            r = rotate_right((321167 * r + build["add"]) % 2**32, 16)
            name += chr(ord("a") + (r & 0x17FF) % 26)
        domains.append(name + "." + build["tld"])
    return domains
