"""Straightforward reference for the DarkCracks DGA, step by step as described."""

from __future__ import annotations

import base64
import datetime as dt


def generate(date: dt.date, seed: str = "Crackalackin'") -> list[str]:
    """The day's one name (lower case), computed the plain way."""
    plain = f"{date.year:04d}{date.day:02d}"
    encoded = base64.urlsafe_b64encode(plain.encode()).decode()
    xored = []
    for i, char in enumerate(encoded):
        swapped = char
        if char.isalpha():
            swapped = char.lower() if char.isupper() else char.upper()
        xored.append(ord(swapped) ^ ord(seed[i % len(seed)]))
    cipher = base64.urlsafe_b64encode(bytes(xored)).decode()
    while cipher.endswith("="):
        cipher = cipher[:-1]
    reversed_cipher = "".join(reversed(cipher))
    return [reversed_cipher.lower() + ".com"]
