"""Straightforward reference for the synthetic megad-sim DGA (used as an oracle and in bench)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac


def generate(date: dt.date, seed: str = "megad-sim-lab", count: int = 24) -> list[str]:
    """The day's domains, computed the plain way."""
    domains = []
    for i in range(count):
        message = (date.isoformat() + "|" + str(i)).encode()
        digest = hmac.new(seed.encode(), message, hashlib.sha256).digest()
        label = ""
        for j in range(8 + digest[0] % 8):
            label += chr(ord("a") + digest[1 + j] % 26)
        domains.append(label + "." + ["example", "test"][i % 2])
    return domains
