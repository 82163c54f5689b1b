"""Straightforward reference for Tinba's DGA, all four known builds."""

from __future__ import annotations

import datetime as dt

BUILDS = {
    "ssrgwnrmgrxe": ("oGkS3w3sGGOGG7oc", "ssrgwnrmgrxe.com", ["com"]),
    "blackfreeqazyio": ("jc74FlUna852Ji9o", "blackfreeqazyio.cc", ["com", "net", "in", "ru"]),
    "watchthisnow": ("yqokqFC2TPBFfJcG", "watchthisnow.xyz", ["pw", "us", "xyz", "club"]),
    "j193hsne720uie8i": ("j193HsnW72Yqns7u", "j193hsne720uie8i.cc", ["com", "net", "biz", "org"]),
}


def generate(date: dt.date, variant: str = "blackfreeqazyio", count: int = 100) -> list[str]:
    """The build's names, computed the plain way."""
    seed, domain, tlds = BUILDS[variant]
    codes = [ord(char) for char in seed]
    domains = [domain]
    for _ in range(count):
        previous = [ord(char) for char in domain]
        total = sum(codes[:16])
        t = codes[15]
        label = ""
        for i in range(12):
            while True:
                t = t + previous[i]
                t = t ^ (total % 256)
                t = (t + previous[i + 1]) % 256
                if ord("a") < t < ord("z"):
                    label += chr(t)
                    break
                total += 1
        for tld in tlds:
            domain = label + "." + tld
            domains.append(domain)
    return domains
