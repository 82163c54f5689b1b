"""Straightforward reference for Ngioweb's wordlist DGA (its own copy of the lists)."""

from __future__ import annotations

import datetime as dt

PREFIXES = [
    "un",
    "under",
    "re",
    "in",
    "im",
    "il",
    "ir",
    "en",
    "em",
    "over",
    "mis",
    "dis",
    "pre",
    "post",
    "anti",
    "inter",
    "sub",
    "ultra",
    "non",
    "de",
    "pro",
    "trans",
    "ex",
    "macro",
    "micro",
    "mini",
    "mono",
    "multi",
    "semi",
    "co",
]
AFTER_CONSONANT = [
    "able",
    "ant",
    "ate",
    "age",
    "ance",
    "ancy",
    "an",
    "ary",
    "al",
    "en",
    "ency",
    "er",
    "etn",
    "ed",
    "ese",
    "ern",
    "ize",
    "ify",
    "ing",
    "ish",
    "ity",
    "ion",
    "ian",
    "ism",
    "ist",
    "ic",
    "ical",
    "ible",
    "ive",
    "ite",
    "ish",
    "ian",
    "or",
    "ous",
    "ure",
]
AFTER_VOWEL = [
    "dom",
    "hood",
    "less",
    "like",
    "ly",
    "fy",
    "ful",
    "ness",
    "ment",
    "sion",
    "ssion",
    "ship",
    "ty",
    "th",
    "tion",
    "ward",
]
TLDS = [".net", ".info", ".com", ".biz", ".org", ".name"]


class Lcg:
    def __init__(self, seed: int) -> None:
        self.r = seed

    def below(self, n: int) -> int:
        self.r = (1103515245 * self.r + 12345) % 2**32
        return self.r % n


def generate(date: dt.date, seed: int = 0x56EDC15, count: int = 1024) -> list[str]:
    """The build's names, computed the plain way."""
    lcg = Lcg(seed)
    domains = []
    for _ in range(count):
        domain = ""
        parts = lcg.below(3) + 1
        for i in range(parts):
            domain += PREFIXES[lcg.below(len(PREFIXES))]
            vowel = domain[-1] not in "aeiou"
            for _ in range(lcg.below(3) + 4):
                letters = "aeiou" if vowel else "bcdfghklmnprstvxz"
                domain += letters[lcg.below(len(letters))]
                vowel = not vowel
            words = AFTER_CONSONANT if domain[-1] not in "aeiou" else AFTER_VOWEL
            domain += words[lcg.below(len(words))]
            if i < parts - 1:
                domain += "-"
        domains.append(domain + TLDS[lcg.below(len(TLDS))])
    return domains
