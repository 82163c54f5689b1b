"""Straightforward reference for QSnatch's DGA (oracle and benchmark baseline).

Written from the description: the TLD tables are those shipped with the
package (read here as plain files), and a day's list is built by walking the
day hour by hour and keeping each interval's numbers in the order they appear.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import hashlib
from pathlib import Path

TABLES = Path(__file__).parents[2] / "src" / "sinkhole" / "data" / "dga" / "qsnatch"
SEED = "IbjGOEgnuD"
HOUR = 3600
DAY = 24 * HOUR


def read_table(name: str) -> list[list[str]]:
    rows = []
    for line in (TABLES / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split())
    return rows


def label_text(number: int, tld: str) -> str:
    key = f"{number}{SEED}{tld}\n".encode("ascii")
    encoded = base64.b64encode(hashlib.sha1(key).digest()).decode("ascii")
    return encoded.rstrip("=").lower().replace("+", "b").replace("/", "c")


def block_a(number: int) -> list[str]:
    names = []
    for length in [5, 3, 4]:
        for tld, extra in read_table("tlds-a.txt"):
            name = label_text(number, tld)[: max(length + int(extra), 3)]
            domain = name + "." + tld
            if ".." not in domain:  # the '.com.bn' entry makes an empty label
                names.append(domain)
    return names


def block_b(number: int) -> list[str]:
    names = []
    for (tld,) in read_table("tlds-b.txt"):
        text = label_text(number, tld)
        for length in range(6, 11):
            names.append(text[:length] + "." + tld)
    return names


def at(instant: int, variant: str = "a") -> list[str]:
    """A bot's list at Unix time `instant`."""
    if variant == "b":
        return block_b(instant // (15 * DAY))
    names = []
    for interval in [15 * DAY, 5 * DAY, DAY, 8 * HOUR, 2 * HOUR, HOUR]:
        names += block_a(instant // interval)
    return names


def generate(date: dt.date, variant: str = "a") -> list[str]:
    """Every name a bot tries during the UTC day `date`."""
    midnight = calendar.timegm(date.timetuple())
    if variant == "b":
        return block_b(midnight // (15 * DAY))
    names = []
    for interval in [15 * DAY, 5 * DAY, DAY, 8 * HOUR, 2 * HOUR, HOUR]:
        seen: list[int] = []
        for hour in range(24):
            number = (midnight + hour * HOUR) // interval
            if number not in seen:
                seen.append(number)
        for number in seen:
            names += block_a(number)
    return names
