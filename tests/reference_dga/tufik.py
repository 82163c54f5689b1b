"""Straightforward reference for Tufik's DGA: one MD5 per name, byte by byte."""

from __future__ import annotations

import datetime as dt
import hashlib


def generate(date: dt.date, magic: int = 0x997722ED) -> list[str]:
    """The day's 1020 names, computed the plain way."""
    key = [(magic >> (8 * i)) & 0xFF for i in range(4)]
    domains = []
    for index in range(1020):
        even = index - index % 2
        data = [(date.year + 48) % 256, date.month, date.day, 0]
        data += [(even >> (8 * i)) & 0xFF for i in range(4)]
        data = [b ^ key[i % 4] for i, b in enumerate(data)]
        label = ""
        for b in hashlib.md5(bytes(data)).digest():
            total = b % 16 + b // 16
            if total <= 25:
                label += chr(ord("a") + total)
        if index % 5 == 0:
            tld = "biz"
        elif index % 4 == 0:
            tld = "info"
        elif index % 3 == 0:
            tld = "org"
        elif index % 2 == 0:
            tld = "net"
        else:
            tld = "com"
        domains.append(label + "." + tld)
    return domains
