"""Straightforward reference for the BazarBackdoor / BazarLoader DGA (2020-2021).

Written from the public description (J. Bader, "The DGA of BazarBackdoor",
2020, and its updates): the digits of "MMYYYY" choose ranges of indices into a
table of two-letter syllables; every combination is one ``.bazar`` name.
"""

from __future__ import annotations

import datetime as dt
import itertools

from sinkhole.families.bazarbackdoor import POOLS, RANGES, VERSIONS


def generate(date: dt.date, version: str = "v2") -> list[str]:
    """Every name of the month of `date`, in the bot's order."""
    pool_name, ranges_name = VERSIONS[version]
    pool = POOLS[pool_name]
    digits = f"{date.month:02d}{date.year:04d}"
    ranges = []
    for mul, width, position in RANGES[ranges_name]:
        low = mul * int(digits[position])
        ranges.append(range(low, low + width))
    domains = []
    for picks in itertools.product(*ranges):
        domains.append("".join(pool[2 * i : 2 * i + 2] for i in picks) + ".bazar")
    return domains
