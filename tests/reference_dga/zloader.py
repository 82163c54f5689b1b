"""Straightforward reference for ZLoader's DGA (2020).

Written from the public description (J. Bader, "The DGA of Zloader", 2020):
RC4 with the build's key encrypts the little-endian Unix time of midnight;
the result seeds a letter-by-letter feedback loop.
"""

from __future__ import annotations

import datetime as dt


def rc4_keystream(key: bytes, count: int) -> list[int]:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = []
    for _ in range(count):
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(s[(s[i] + s[j]) % 256])
    return out


def generate(date: dt.date, key: str = "q23Cud3xsNf3", count: int = 32) -> list[str]:
    """The `count` domains of `date`."""
    midnight = (date - dt.date(1970, 1, 1)).days * 86400
    plain = midnight.to_bytes(4, "little")
    stream = rc4_keystream(key.encode("ascii"), 4)
    seed = int.from_bytes(bytes(p ^ k for p, k in zip(plain, stream, strict=True)), "little")
    domains = []
    r = seed
    for _ in range(count):
        label = ""
        for _ in range(20):
            letter = ord("a") + r % 25
            label += chr(letter)
            r = seed ^ ((r + letter) & 0xFFFFFFFF)
        domains.append(label + ".com")
    return domains
