"""Straightforward reference for Qadars's DGA (oracle and benchmark baseline)."""

from __future__ import annotations

import calendar
import datetime as dt
import string

TLD_SETS = {"com-org-net": [".com", ".org", ".net"], "net-org-top": [".net", ".org", ".top"]}


def generate(date: dt.date, seed: int = 0x89F5, tld_set: str = "com-org-net") -> list[str]:
    """The 200 domains of the week (Monday 00:00 UTC onwards) containing `date`."""
    alphabet = string.ascii_lowercase + string.digits
    monday = date - dt.timedelta(days=date.weekday())
    state = calendar.timegm(monday.timetuple())

    def step() -> int:
        nonlocal state
        state = (seed - 1043968403 * state) % 2**31
        return state

    names = []
    for _ in range(200):
        label = "".join(alphabet[step() % 36] for _ in range(12))
        names.append(label + TLD_SETS[tld_set][step() % 3])
    return names
