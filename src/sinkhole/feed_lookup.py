"""Names from a threat feed, attributed to DGA families and bot days: the analyst's first question.

A CERT pasting names from a feed asks "which family, which day, and can it be
seized?". :func:`show` answers for a handful of names drawn from families of
different kinds (wordlist, seeded, under a TLD with no registry) on the days
their published example lists were made, plus a name no DGA makes, using
the lookup default (each family's active years, no window given) over the
drawn families only, so it runs in seconds (over every family it takes minutes
to build once, then stays cached).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sinkhole import dga_index, families, tlds


@dataclass(frozen=True)
class FeedName:
    """One name as a feed would carry it, with where we drew it from."""

    name: str
    family: str
    day: dt.date


#: (family, day, position in that day's list): days of the families' published lists
DRAWS: tuple[tuple[str, dt.date, int], ...] = (
    ("suppobox", dt.date(2015, 10, 23), 120),  # wordlist: two English words
    ("gozi", dt.date(2016, 3, 29), 3),  # wordlist: glued Latin words of Luther's theses
    ("locky", dt.date(2016, 2, 28), 5),  # seeded: affiliate seed 62
    ("zloader", dt.date(2020, 1, 1), 7),  # seeded: RC4 key of the build
    ("bazarbackdoor", dt.date(2021, 12, 14), 4000),  # EmerDNS .bazar: no registry
)
BENIGN = "www.example.com"


def draw() -> list[FeedName]:
    """The demo's feed: one generated name per drawn family."""
    out = []
    for family, day, position in DRAWS:
        dga = families.get(family).dga
        assert dga is not None
        out.append(FeedName(dga.generate(day)[position], family, day))
    return out


def show(console: Console, cache: Path) -> list[tuple[str, str, str, str]]:
    """Look the feed up (index under `cache`), print a table; returns its rows."""
    feed = draw()
    # the lookup default: every drawn family over its declared active years, no window given
    spec = dga_index.IndexSpec.active(sorted({item.family for item in feed}))
    names = [item.name for item in feed] + [BENIGN]
    found = dga_index.lookup(dga_index.ensure(spec, cache), names)
    rows: list[tuple[str, str, str, str]] = []
    for name in names:
        matches = found[name]
        tld = name.rsplit(".", 1)[-1]
        seize = tlds.ALTERNATIVE_ROOTS.get(tld, "registry of ." + tld) if matches else "-"
        rows.append(
            (
                name,
                ", ".join(m.family for m in matches) or "no DGA",
                "; ".join(m.describe() for m in matches) or "-",
                seize,
            )
        )
    table = Table(title="names from a feed: which family, which bot days, who can seize them")
    for column in ("name", "family", "bot days (over the active years)", "seizure"):
        table.add_column(column)
    for name, family, days, seize in rows:
        table.add_row(name, family, _short(days), seize)
    console.print(table)
    return rows


def _short(dates: str, most: int = 3) -> str:
    """At most `most` date ranges, then how many more (a wordlist name recurs for years)."""
    parts = dates.split(",")
    return dates if len(parts) <= most else ",".join(parts[:most]) + f" (+{len(parts) - most})"
