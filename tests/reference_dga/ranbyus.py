"""Straightforward reference for Ranbyus's DGAs (May 2015 and September 2015 variants).

Written from the public descriptions (J. Bader, "The DGA of Ranbyus", 2015,
and "Ranbyus's DGA, Revisited", 2015).
"""

from __future__ import annotations

import datetime as dt

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
MAY_TLDS = ["in", "me", "cc", "su", "tw", "net", "com", "pw", "org"]
SEP_TLDS = ["in", "me", "cc", "su", "tw", "net", "com", "pw", "org"]
SEP_TLDS_CE7F8514 = ["in", "net", "org", "com", "me", "su", "tw", "cc", "pw"]


def may(date: dt.date, seed: int, count: int) -> list[str]:
    day, month, year = date.day, date.month, date.year
    tld_index = day
    domains = []
    for _ in range(count):
        label = ""
        for _ in range(14):
            day = ((day >> 15) ^ (16 * ((day & 0x1FFF) ^ (4 * (seed ^ day))))) & M32
            year = (((year & 0xFFFFFFF0) << 17) ^ ((year ^ ((7 * year) & M32)) >> 11)) & M32
            month = ((14 * (month & 0xFFFFFFFE)) ^ ((month ^ ((4 * month) & M32)) >> 8)) & M32
            seed = ((seed >> 6) ^ (((day + 8 * seed) << 8) & 0x3FFFF00)) & M32
            label += chr((day ^ month ^ year) % 25 + 97)
        domains.append(label + "." + MAY_TLDS[tld_index % 8])
        tld_index += 1
    return domains


def pcg_bytes(x: int) -> tuple[int, list[int]]:
    a_mul, inc = 0x5851F42D4C957F2D, 0x14057B7EF767814F
    s1 = a_mul * x + inc
    s2 = a_mul * s1 + inc
    s3 = a_mul * s2 + inc
    tmp = ((s3 >> 24) & 0xFFFFFF00) | ((s3 & M32) >> 24)
    a = ((tmp ^ s2) & 0x000FFFFF) ^ s2
    b = s2 >> 32
    c = (s1 & 0xFFF00000) | (((s3 >> 32) & M32) >> 12)
    d = (s1 >> 32) & M32
    out = []
    for v in (a, b, c, d):
        for k in range(4):
            out.append((v >> (8 * k)) & 0xFF)
    return s3 & M64, out


def september(date: dt.date, seed: int, count: int) -> list[str]:
    x = (date.day * date.month * date.year) ^ seed
    tlds = SEP_TLDS_CE7F8514 if seed == 0xCE7F8514 else SEP_TLDS
    domains = []
    for n in range(count):
        x, first = pcg_bytes(x)
        x, second = pcg_bytes(x)
        label = "".join(chr(b % 25 + 97) for b in (first + second)[:17])
        domains.append(label + "." + tlds[(date.day + n) % 8])
    return domains


def generate(date: dt.date, variant: str = "september", seed: int = 0x0F0D5BFA) -> list[str]:
    """The 40 domains of `date`."""
    if variant == "may":
        return may(date, seed, 40)
    return september(date, seed, 40)
