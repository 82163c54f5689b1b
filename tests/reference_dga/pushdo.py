"""Straightforward reference for the Pushdo DGA (oracle and benchmark baseline).

A literal transcription: the bot's day count, the MD5 chain and the
syllable-by-syllable label, one character at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct

VARIANTS = {
    "kz-v1": ("bcdfghjklmnpqrstvwx", "zxtsrqpnmlkgfdc", "aeiou", "aio", 7, 1, "kz"),
    "com-v1": ("bcdfghjklmnpqrstvwx", "zxtsrqpnmlkgfdc", "aeiou", "aio", 7, 1, "com"),
    "kz-v2": ("kqbhcndjfwglpmzxrsv", "qzlbtgrnkxsfdcm", "aeiou", "aio", 8, 2, "kz"),
}


def days_since_zero(date: dt.date) -> int:
    """The bot's day count: sums the current month's length down to February's."""
    days_in_month = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if date.year % 4 == 0:
        days_in_month[1] = 29
    month = date.month - 1
    total = 0
    while month > 0:
        total += days_in_month[month]
        month -= 1
    return date.day + total + 365 * (date.year - date.year // 4) + 366 * (date.year // 4)


def syllable(r: int, variant: str) -> str:
    conso_a, conso_b, vowels_a, vowels_b, mod, mod2, _ = VARIANTS[variant]
    text = conso_a[r % 19]
    text += vowels_a[((r + 1) & 0xFF) % 5]
    if text[1] == "e" and (r + 2) & mod:
        return text + vowels_b[(r + 2) % 3]
    if not (r + 2) & mod2:
        return text
    return text + conso_b[(r + 3) % 15]


def domains_of_day_number(n: int, variant: str) -> list[str]:
    domains = []
    r = n
    for _ in range(30):
        digest = hashlib.md5(struct.pack("<I", r)).digest()
        r = struct.unpack("<I", digest[:4])[0]
        length = (r & 3) + 9
        label = ""
        for byte in digest:
            label += syllable(byte, variant)
            if len(label) >= length:
                break
        domains.append(label[:length] + "." + VARIANTS[variant][6])
        r = (r + 1) % 2**32
    return domains


def generate(date: dt.date, variant: str = "kz-v1") -> list[str]:
    """Every domain a bot tries on `date`: day numbers n, n-1 .. n-30, n+1 .. n+14."""
    n = days_since_zero(date)
    domains = []
    for j in range(0, -31, -1):
        domains += domains_of_day_number(n + j, variant)
    for j in range(1, 15):
        domains += domains_of_day_number(n + j, variant)
    return domains
