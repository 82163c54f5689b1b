"""Straightforward reference for m0yv's date-independent DGA."""

from __future__ import annotations

import datetime as dt


class MsvcRand:
    def __init__(self, seed: int) -> None:
        self.state = seed

    def rand(self) -> int:
        self.state = (214013 * self.state + 2531011) % 2**32
        return (self.state >> 16) % 2**15


def generate(date: dt.date, seed: int = 0x02484A18) -> list[str]:
    """The build's 128 names, computed the plain way."""
    domains = []
    for i in range(128):
        rng = MsvcRand(seed ^ i)
        length = 5 + rng.rand() % 5
        label = ""
        for _ in range(length):
            label += chr(ord("a") + rng.rand() % 26)
        domains.append(label + ".biz")
    return domains
