"""Straightforward reference for the newGOZ DGA (used as an oracle and in bench).

Transcribed from the public description (J. Bader, "The DGA of newGOZ", 2014).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct


def generate(date: dt.date, key: int = 0x35190501, count: int = 1000) -> list[str]:
    """The day's domains, computed the plain way."""
    key_bytes = struct.pack("<I", key)
    domains = []
    for seq in range(count):
        data = struct.pack("<I", seq)
        data += struct.pack("<H", date.year) + key_bytes
        data += struct.pack("<H", date.month) + key_bytes
        data += struct.pack("<H", date.day) + key_bytes
        digest = hashlib.md5(data).digest()
        label = ""
        for i in range(0, 16, 4):
            value = int.from_bytes(digest[i : i + 4], "little")
            part = ""
            while True:
                digit = value % 36
                value //= 36
                if digit < 10:
                    part = chr(ord("0") + digit) + part
                else:
                    part = chr(ord("a") + digit - 10) + part
                if value == 0:
                    break
            label += part
        if seq % 4 == 0:
            tld = "com"
        elif seq % 3 == 0:
            tld = "org"
        elif seq % 2 == 0:
            tld = "biz"
        else:
            tld = "net"
        domains.append(label + "." + tld)
    return domains
