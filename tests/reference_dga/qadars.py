"""Straightforward reference for Qadars's DGA (oracle and benchmark baseline)."""

from __future__ import annotations

import calendar
import datetime as dt
import string

TLD_SETS = {"com-org-net": [".com", ".org", ".net"], "net-org-top": [".net", ".org", ".top"]}


def generate(date: dt.date, seed: int = 0x89F5, tld_set: str = "com-org-net") -> list[str]:
    """The 200 domains of the week (Monday 00:00 UTC onwards) containing `date`."""
    charset = string.ascii_lowercase + string.digits
    unix = calendar.timegm(date.timetuple())
    week = 7 * 24 * 3600
    monday_offset = 4 * 24 * 3600  # 1970-01-05, the first Monday, is day 4
    r = unix - (unix - monday_offset) % week
    domains = []
    for _ in range(200):
        name = ""
        for _ in range(12):
            r = (seed - 1043968403 * r) & 0x7FFFFFFF
            name += charset[r % len(charset)]
        r = (seed - 1043968403 * r) & 0x7FFFFFFF
        domains.append(name + TLD_SETS[tld_set][r % 3])
    return domains
