"""Straightforward reference for Pitou's DGA.

Written from the public description (J. Bader, "The DGA of Pitou", 2019):
the date one month ahead, as days since 1970, rounded to tens and mixed with
a build magic, yields eight random bytes that spell consonant/vowel pairs.
A nine-letter name's last letter comes from memory the bot did not set, so
every letter of its class is listed.
"""

from __future__ import annotations

import calendar
import datetime as dt

VOWELS = "aeiou"
CONSONANTS = "bcdfghjklmnpqrstvwxyz"
TLDS = ["com", "org", "biz", "net", "info", "mobi", "us", "name", "me"]


def day_number(date: dt.date) -> int:
    year, month, day = date.year, date.month + 1, date.day
    if month > 12:
        month -= 12
        year += 1
    days_in_month = calendar.monthrange(year, month)[1]
    if day > days_in_month:
        month += 1
        day -= days_in_month
    if month > 12:
        month -= 12
        year += 1
    return (dt.date(year, month, day) - dt.date(1970, 1, 1)).days


def candidates(year: int, seed: int, counter: int, magic: int) -> list[str]:
    value = 10 * ((counter // 3 + seed) // 10)
    since = year - 1900
    length = 8 + ((((magic >> counter) * ((counter - 1) & 0xFF)) & 0xFF) * value & 1)
    magic_bytes = [(magic >> (8 * i)) & 0xFF for i in range(4)]
    b1 = (value >> 8) & 0xFF
    b0 = value & 0xFF
    rnd = []
    for i in range(8):
        half = i // 4
        kind = i % 4
        if kind == 0:
            m, f = magic_bytes[half] >> 4, since >> half
        elif kind == 1:
            m, f = magic_bytes[half] & 0xF, since << half
        elif kind == 2:
            m, f = magic_bytes[half] >> 4, (b1 << half) ^ (b0 >> half)
        else:
            m, f = magic_bytes[half] & 0xF, (b0 << half) ^ (b1 >> half)
        rnd.append((((m * f) & 0xFF) * (counter + 1)) & 0xFF)
    rnd.append(0xE0)
    label = ""
    while True:
        x = rnd.pop(0)
        if x & 0x80:
            label += CONSONANTS[x % 21]
            if len(label) >= length:
                break
            x = rnd.pop(0)
            label += VOWELS[x % 5]
            if len(label) >= length:
                break
            if rnd[0] & 0x40:
                x = rnd.pop(0)
                label += VOWELS[x % 5]
                if len(label) >= length:
                    break
        else:
            label += VOWELS[x % 5]
            x = rnd.pop(0)
            label += CONSONANTS[x % 21]
            if len(label) >= length:
                break
    tld = TLDS[((counter ^ value ^ magic) & 0xFFFFFFFF) % 9]
    if len(label) > 8:
        stem, last = label[:-1], label[-1]
        letters = CONSONANTS if last in CONSONANTS else VOWELS
        return [stem + c + "." + tld for c in letters]
    return [label + "." + tld]


def generate(date: dt.date, magic: int = 0xDAFE02C) -> list[str]:
    """Every candidate of the 20 names of `date`, in order."""
    seed = day_number(date)
    domains = []
    for counter in range(20):
        domains.extend(candidates(date.year, seed, counter, magic))
    return domains
