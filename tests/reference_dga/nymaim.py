"""Straightforward reference for the (first) Nymaim DGA.

Written from the public description (J. Bader, "The DGA of Nymaim", 2014):
an xorshift128 generator seeded from year, month, day and weekday; the
second-to-last letter picks the TLD.
"""

from __future__ import annotations

import datetime as dt

M32 = 0xFFFFFFFF


def generate(date: dt.date, count: int = 128) -> list[str]:
    """The `count` domains of `date`."""
    s = date.year + (date.month << 16) + (date.isoweekday() % 7) + (date.day << 16)
    r = [(s + 0x52455641) & M32, s + 0x49484F4C, (s + 0x59554820) & M32, (s + 0x4D415620) & M32]
    if r[1] > M32:
        r[1] = 0

    def rand(m: int) -> int:
        t0 = ((r[0] << 11) ^ r[0]) & M32
        t3 = ((r[3] >> 19) ^ r[3]) ^ t0
        t3 ^= t0 >> 8
        c = r[2]
        r[0] = (r[0] + r[1]) & M32
        r[1] = (r[1] + r[2]) & M32
        r[2] = (r[2] + r[3]) & M32
        r[3] = t3
        return (((c + t3) & M32) // 100) % m

    domains = []
    for _ in range(count):
        length = rand(6) + 6
        name = ""
        for _ in range(length):
            name += chr(ord("a") + rand(26) % 26)
        t = ord(name[-2]) - ord("a")
        if t < 9:
            tld = "com"
        elif t < 13:
            tld = "org"
        elif t < 17:
            tld = "biz"
        elif t < 21:
            tld = "net"
        else:
            tld = "info"
        domains.append(name + "." + tld)
    return domains
