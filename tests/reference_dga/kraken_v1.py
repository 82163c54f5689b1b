"""Straightforward reference for Kraken's first DGA (oracle and benchmark baseline).

A literal transcription with explicit signed 32-bit wrap-arounds, as the C
code computes them, and the float division by 9.
"""

from __future__ import annotations

import datetime as dt

SEEDS = {
    "a": {"file": -0x0FCFBF88, "no_file": 0x8924541},
    "b": {"file": -0x1FCFBF87, "no_file": 0x7924542},
}
SUFFIXES = ["dyndns.org", "yi.org", "dynserv.com", "mooo.com"]


def int32(value: int) -> int:
    value = value % 2**32
    if value >= 2**31:
        value -= 2**32
    return value


def rand(r: int) -> int:
    return int32(1103515245 * r + 12435)


def crop(r: int) -> int:
    return (r // 256) % 32768


def domain(number: int, seed_set: str, temp_file: bool) -> str:
    n = number + 1000015
    if temp_file:
        x = int(int32(n * (n + 7) * (n + 12)) / 9.0)
        y = n * (n + 1)
        r = int32(x + y + SEEDS[seed_set]["file"])
    else:
        x = int(int32((n + 2) * (n + 7) * n) / 9.0)
        y = (n * 3 + 1) * n
        r = int32(x + y + SEEDS[seed_set]["no_file"])
    outputs = []
    for _ in range(3):
        r = rand(r)
        outputs.append(crop(r))
    length = (outputs[0] * outputs[1] - outputs[2]) % 6 + 6
    label = ""
    for _ in range(length):
        r = rand(r)
        label += chr(crop(r) % 26 + ord("a"))
    return label + "." + SUFFIXES[n % 4]


def generate(date: dt.date, seed_set: str = "a") -> list[str]:
    """The 2000 names of the sample (the same on every date)."""
    domains = []
    for number in range(1000):
        for temp_file in (False, True):
            domains.append(domain(number, seed_set, temp_file))
    return domains
