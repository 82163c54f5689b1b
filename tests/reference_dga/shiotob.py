"""Straightforward reference for Shiotob's seed-domain chain."""

from __future__ import annotations

import datetime as dt

LETTERS = "qwertyuiopasdfghjklzxcvbnm123945678"


def step(domain: str) -> str:
    """The next name after `domain`."""
    total = 0
    for char in domain[:-3]:
        total += ord(char)
    codes = [ord(char) for char in domain] + [0] * 100
    length = len(domain) - 4
    for i in range(66):
        for j in range(66):
            if i + j < 65:
                codes[i + j] = (length * codes[j] ^ codes[i + j] ^ total) % 256
    new_length = ((codes[2] * length) ^ codes[0]) % 256 // 16
    if new_length < 10:
        new_length = length
    host = ""
    for i in range(new_length):
        host += LETTERS[codes[i] // 8]
    if domain.endswith(".net"):
        return host + ".com"
    return host + ".net"


def generate(date: dt.date, seed: str = "wtipubctwiekhir.net", count: int = 2001) -> list[str]:
    """The chain from `seed`, computed the plain way."""
    domains = [seed]
    while len(domains) < count:
        domains.append(step(domains[-1]))
    return domains
