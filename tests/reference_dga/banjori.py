"""Straightforward reference for the Banjori DGA (used as an oracle and in bench).

Transcribed from the public description (J. Bader, "The DGA of Banjori", 2015).
The date is ignored: the DGA depends only on the seed domain.
"""

from __future__ import annotations

import datetime as dt


def _to_letter(code: int) -> int:
    return ord("a") + (code - ord("a")) % 26


def generate(
    date: dt.date, seed: str = "earnestnessbiophysicalohax.com", count: int = 1000
) -> list[str]:
    """The seed and the `count - 1` domains after it, computed the plain way."""
    domains = []
    domain = seed
    for _ in range(count):
        domains.append(domain)
        codes = [ord(ch) for ch in domain]
        codes[0] = _to_letter(codes[0] + codes[3])
        codes[1] = _to_letter(codes[0] + 2 * codes[1])
        codes[2] = _to_letter(codes[0] + codes[2] - 1)
        codes[3] = _to_letter(codes[1] + codes[2] + codes[3])
        domain = "".join(chr(code) for code in codes)
    return domains
