"""Straightforward reference for Kraken's second DGA (oracle and benchmark baseline).

A literal transcription: every discard is run one LCG step at a time.
"""

from __future__ import annotations

import calendar
import datetime as dt

SEEDS = {"a": {"file": 24938314, "no_file": 24938315}, "b": {"file": 1600000, "no_file": 1600001}}
TLD_SETS = {
    1: ["com", "net", "tv", "cc"],
    2: ["dyndns.org", "yi.org", "dynserv.com", "mooo.com"],
}


def rand(r: int) -> int:
    return (1103515245 * r + 12435) & 0xFFFFFFFF


def crop(r: int) -> int:
    return (r // 256) % 32768


def domain(number: int, date: dt.date, seed_set: str, temp_file: bool, tld_set: int) -> str:
    if temp_file:
        r = 3 * number + SEEDS[seed_set]["file"]
    else:
        r = 3 * number + SEEDS[seed_set]["no_file"]
    timestamp = calendar.timegm(date.timetuple())  # midnight UTC
    discards = (timestamp - 1207000000) // 604800 + 2
    if number % 9 < 8:
        if number % 9 >= 6:
            discards -= 1
        for _ in range(discards):
            r = crop(rand(r))
    rands = [0, 0, 0]
    for i in range(3):
        r = rand(r)
        rands[i] = crop(r)
    length = (rands[0] * rands[1] + rands[2]) % 6 + 7
    label = ""
    for _ in range(length):
        r = rand(r)
        label += chr(crop(r) % 26 + ord("a"))
    return label + "." + TLD_SETS[tld_set][number % 4]


def generate(date: dt.date, seed_set: str = "a", tld_set: int = 1) -> list[str]:
    """The 2000 domains of the week containing `date`."""
    domains = []
    for number in range(1000):
        for temp_file in (False, True):
            domains.append(domain(number, date, seed_set, temp_file, tld_set))
    return domains
