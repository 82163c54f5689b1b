"""Straightforward reference for Locky's DGAs (version 2 and version 3).

Written from the public description (Forcepoint, "Locky's new DGA", 2016;
J. Bader's notes): chains of multiply-by-0xB11924E1-and-rotate steps over the
year, half the day, the month, a build seed and the domain number.
"""

from __future__ import annotations

import datetime as dt

M32 = 0xFFFFFFFF
V2_TLDS = ["ru", "pw", "eu", "in", "yt", "pm", "us", "fr", "de", "it", "be", "uk", "nl", "tf"]
V3_TLDS = ["ru", "info", "biz", "click", "su", "work", "pl", "org", "pw", "xyz"]


def ror(v: int, s: int) -> int:
    v &= M32
    return ((v >> s) | (v << (32 - s))) & M32


def rol(v: int, s: int) -> int:
    v &= M32
    return ((v << s) | (v >> (32 - s))) & M32


def v2_domain(date: dt.date, seed: int, shift: int, mod: int, nr: int) -> str:
    t = ror(0xB11924E1 * (date.year + 0x1BF5), shift)
    if seed:
        t = ror(0xB11924E1 * (t + seed + 0x27100001), shift)
    t = ror(0xB11924E1 * (t + date.day // 2 + 0x27100001), shift)
    t = ror(0xB11924E1 * (t + date.month + 0x2709A354), shift)
    r = ror(0xB11924E1 * (rol(nr % mod, 21) + t + rol(seed, 17) + 0x27100001), shift)
    r = (r + 0x27100001) & M32
    label = ""
    for i in range(r % 11 + 5):
        r = (ror(0xB11924E1 * rol(r, i), shift) + 0x27100001) & M32
        label += chr(r % 25 + ord("a"))
    r = ror(r * 0xB11924E1, shift)
    return label + "." + V2_TLDS[((r + 0x27100001) & M32) % len(V2_TLDS)]


def v3_domain(date: dt.date, seed: int, nr: int) -> str:
    k = 0
    year = date.year
    for _ in range(7):
        t0 = ror(0xB11924E1 * (year + k + 0x1BF5), 7)
        t1 = ((t0 + 0x27100001) ^ k) & M32
        t2 = ror(0xB11924E1 * (t1 + seed), 7)
        t3 = ((t2 + 0x27100001) ^ t1) & M32
        t4 = ror(0xB11924E1 * (date.day // 2 + t3), 7)
        t5 = (0xD8EFFFFF - t4 + t3) & M32
        t6 = ror(0xB11924E1 * (date.month + t5 - 0x65CAD), 7)
        t7 = (t5 + t6 + 0x27100001) & M32
        t8 = ror(0xB11924E1 * (t7 + rol(seed, 17) + rol(nr, 21)), 7)
        k = ((t8 + 0x27100001) ^ t7) & M32
        year += 1
    label = ""
    for i in range(k % 11 + 7):
        k = (ror(0xB11924E1 * rol(k, i), 7) + 0x27100001) & M32
        label += chr(k % 25 + ord("a"))
    k = ror(k * 0xB11924E1, 7)
    return label + "." + V3_TLDS[((k + 0x27100001) & M32) % len(V3_TLDS)]


def generate(date: dt.date, version: int = 2, seed: int = 62, shift: int = 7) -> list[str]:
    """The domains of `date`: 8 for version 2 (mod = shift + 1), 12 for version 3."""
    if version == 2:
        return [v2_domain(date, seed, shift, shift + 1, nr) for nr in range(8)]
    return [v3_domain(date, seed, nr) for nr in range(12)]
