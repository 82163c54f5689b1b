"""Straightforward reference for Orchard's DGA (2022).

Written from the public description (J. Bader / 360 Netlab, "Orchard", 2022):
the MD5 of a seed string, cut into four 8-hex-digit labels, each under four
suffixes. One seed is the date; the other is the Bitcoin genesis address's
balance and transaction count on that date, written as a JSON string.
"""

from __future__ import annotations

import datetime as dt
import hashlib

SUFFIXES = [".com", ".net", ".org", ".duckdns.org"]
ADDRESS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


def from_seed(seed: str) -> list[str]:
    digest = hashlib.md5(seed.encode("ascii")).hexdigest()
    return [digest[i : i + 8] + s for i in range(0, 32, 8) for s in SUFFIXES]


def generate(date: dt.date, balance: int = -1, transactions: int = 0) -> list[str]:
    """The 16 date names, then 16 balance names when a balance is given."""
    domains = from_seed(date.isoformat() + "ojena.duckdns.org")
    if balance >= 0:
        text = (
            f'{{"{ADDRESS}":{{"final_balance":{balance},"n_tx":{transactions},'
            f'"total_received":{balance}}}}}'
        )
        domains += from_seed(text)
    return domains
