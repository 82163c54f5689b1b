"""QSnatch: the QNAP NAS malware's DGA, SHA-1 names over six time intervals (to the hour).

QSnatch infects QNAP network-attached storage devices (NCSC-FI, October
2019; CISA and NCSC-UK joint alert, July 2020, which counts about 62 000
infected devices and places a second campaign from late 2018 into 2020). Its
bots find their C&C through a domain generation algorithm whose names change
on six time scales at once, down to the hour; the DGA is the C&C channel
described publicly. Its TLD table holds 145 suffixes, most of them ccTLDs and
second-level zones (``com.sv``, ``co.zw``, ``south.am``) whose registries are
rarely takedown partners, which the plan reports.

Algorithm (Johannes Bader, "The DGA of QSnatch", johannesbader.ch, Nov.
2019; reimplemented in baderj/domain_generation_algorithms ``qsnatch/``): for
an interval of ``I`` seconds the bot hashes the text ``"<unix time // I>
IbjGOEgnuD<tld>\\n"`` (no space) with SHA-1, base64-encodes the digest, drops
the ``=`` padding, lower-cases it and writes ``+`` and ``/`` as ``b`` and
``c``; the label is the first ``n`` characters of that text.

- Variant a (the README's example): the intervals 15 days, 5 days, 1 day,
  8 hours, 2 hours and 1 hour, in that order; for each, the lengths 5, 3 and 4
  and for each length every TLD of the table, the label being
  ``max(length + extra, 3)`` characters (``extra`` is 1 for ``com``, ``net``,
  ``org``, else 0). The table's entry ``.com.bn`` (with a leading dot, as
  published) makes names with an empty label that no resolver can look up:
  they are left out, so a moment has 6 x 3 x 144 = 2592 names.
- Variant b: the 15-day interval only; for each of 30 TLDs the labels of 6 to
  10 characters (150 names).

Intervals count from the Unix epoch in UTC, so every one of them starts at a
UTC midnight or hour. A day's list (what ``generate`` returns) is everything
a bot tries during that UTC day: for variant a the 15-day, 5-day and 1-day
blocks, then the three 8-hour, twelve 2-hour and twenty-four 1-hour blocks in
time order (42 blocks, 18144 names); for variant b the 150 names of the
15-day interval. :func:`domains_at` gives a bot's list at one moment.

Active years: 2019-2020. The DGA is known from samples of autumn 2019 (NCSC-FI;
Bader, November 2019), and the CISA / NCSC-UK alert (July 2020) reports the
campaign still active in 2020; the alert dates the campaign's start to late
2018, but no sample of that time is known to carry this DGA. A year of
variant a is 6.6 million names, so the span is kept to what the samples show.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
from collections.abc import Mapping

from sinkhole import wordlists
from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

SEED = "IbjGOEgnuD"
_HOUR = 3600
_DAY = 24 * _HOUR
#: variant a's intervals in the bot's order, and each one's count of blocks in a day
INTERVALS_A = (15 * _DAY, 5 * _DAY, _DAY, 8 * _HOUR, 2 * _HOUR, _HOUR)
INTERVAL_B = 15 * _DAY
_LENGTHS_A = (5, 3, 4)
_LENGTHS_B = (6, 7, 8, 9, 10)
_UNIX = dt.date(1970, 1, 1)
_SPELL = bytes.maketrans(b"+/", b"bc")


@functools.cache
def tlds_a() -> tuple[tuple[str, int], ...]:
    """Variant a's TLDs that make valid names, each with its extra label length, in order."""
    rows = (line.split() for line in wordlists.load("qsnatch", "tlds-a"))
    return tuple((tld, int(extra)) for tld, extra in rows if not tld.startswith("."))


@functools.cache
def tlds_b() -> tuple[str, ...]:
    """Variant b's 30 TLDs, in order."""
    return wordlists.load("qsnatch", "tlds-b")


def _label_source(number: int, tld: str) -> str:
    digest = hashlib.sha1(f"{number}{SEED}{tld}\n".encode()).digest()
    return base64.b64encode(digest).rstrip(b"=").lower().translate(_SPELL).decode()


def _block_a(number: int) -> list[str]:
    sources = [(_label_source(number, tld), tld, extra) for tld, extra in tlds_a()]
    return [
        f"{text[: max(length + extra, 3)]}.{tld}"
        for length in _LENGTHS_A
        for text, tld, extra in sources
    ]


def _block_b(number: int) -> list[str]:
    out: list[str] = []
    for tld in tlds_b():
        text = _label_source(number, tld)
        out.extend(f"{text[:length]}.{tld}" for length in _LENGTHS_B)
    return out


def domains_at(instant: int, variant: str = "a") -> list[str]:
    """The names a bot tries at Unix time `instant`, in its order."""
    if variant == "b":
        return _block_b(instant // INTERVAL_B)
    return [name for interval in INTERVALS_A for name in _block_a(instant // interval)]


class QsnatchDga(BaseDga):
    """QSnatch: SHA-1/base64 names per 15-day, 5-day, 1-day, 8-hour, 2-hour and 1-hour interval."""

    name = "qsnatch"
    info = DgaInfo(
        period="daily",
        per_period=42 * len(_LENGTHS_A) * 144,
        tlds=tuple(sorted({tld.rsplit(".", 1)[-1] for tld, _ in tlds_a()})),
        seeding="time-dependent",
        active_years=(2019, 2020),
        params=(
            DgaParam(
                "variant",
                "a",
                "a: six intervals down to the hour, 144 TLDs (the README's example); b: the "
                "15-day interval, 30 TLDs, labels of 6-10 characters",
                choices=("a", "b"),
            ),
        ),
        reference="Johannes Bader, 'The DGA of QSnatch' (johannesbader.ch, 2019)",
        notes=(
            "a day's list is every block a bot uses that UTC day (variant a: 42 blocks of 432 "
            "names; variant b: one 15-day block of 150); '.com.bn' names are left out"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """Every name a bot tries during the UTC day `key`, block by block in time order."""
        midnight = (key - _UNIX).days * _DAY
        if str(params["variant"]) == "b":
            return _block_b(midnight // INTERVAL_B)
        out: list[str] = []
        for interval in INTERVALS_A:
            first = midnight // interval
            last = (midnight + _DAY - 1) // interval
            for number in range(first, last + 1):
                out.extend(_block_a(number))
        return out


FAMILY = Family(
    name="qsnatch",
    summary="QSnatch (QNAP NAS malware): SHA-1 DGA names changing every 15 days down to hourly",
    channels=(
        Channel(
            "dga",
            dga=QsnatchDga(),
            note="the described C&C rendezvous; the hourly blocks make a seizure plan "
            "cover 18144 names a day, most under ccTLDs",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGA of QSnatch' (johannesbader.ch, 2019)",
        "NCSC-FI, 'QSnatch - malware designed for QNAP NAS devices' (2019)",
        "CISA and NCSC-UK, alert AA20-209A 'Malware targeting QNAP NAS devices' (July 2020)",
        "github.com/baderj/domain_generation_algorithms, qsnatch/ (published example domains)",
    ),
)
