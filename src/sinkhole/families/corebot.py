"""CoreBot: a banking trojan's daily LCG DGA of 40 host names under ``ddns.net``.

CoreBot is a modular credential-stealing and banking trojan described by IBM
X-Force in August 2015. Its DGA, inactive in the first samples, was switched
on in September 2015 (Kleissner & Associates sinkholed some of its names).
Every name is a host name under ``ddns.net``, a dynamic-DNS provider (No-IP),
so a seizure goes to that provider rather than a registry.

Algorithm (Johannes Bader, "The DGA of CoreBot", johannesbader.ch / bin.re,
Sept. 2015; DGArchive; reimplemented in baderj/domain_generation_algorithms
``corebot/``): a 32-bit build seed plus the year plus ``0x10000 + (month << 8)
+ day`` starts the LCG ``r = 1664525 r + 1013904223 (mod 2^32)``. For each
of 40 names one step gives the length ``12 + r % 12`` (12-23 characters) and
one step per character picks it from ``abcdefghijklmnopqrstuvwxy012345678``
(``r % 34``: an off-by-one in the bot drops ``z`` and ``9``); the state runs on
from name to name. Because the year and the day are added, the lists of
(year, month, day) and (year + 1, month, day - 1) are the same. The published
example is the analysed sample's (seed 0x1DB98930, a debugging build that
fixed the day at 8, on 2015-09-08); the collection's code defaults to another
seed, 0x1DBA8930.

Active years: 2015-2016. X-Force reported CoreBot in August 2015 and its DGA
went live in September 2015 (Bader); the end is not published, so we cover the
following year too.

The generator here computes every LCG state a day can use at once: state k is
``a_k start + b_k (mod 2^32)`` with coefficients tabulated once (numpy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 40
_MASK = 0xFFFFFFFF
_CHARS = np.frombuffer(b"abcdefghijklmnopqrstuvwxy012345678", dtype=np.uint8)
_SUFFIX = ".ddns.net"
#: the published example's seed (Bader's analysed sample)
DEFAULT_SEED = 0x1DB98930
#: most LCG states one day uses: per name one for the length and at most 23 letters
_MAX_STATES = _COUNT * 24


def _affine_steps() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Arrays a, b with LCG state k (from 1) = a[k] * start + b[k] (mod 2^32)."""
    a, b = 1, 0
    muls, adds = [], []
    for _ in range(_MAX_STATES):
        a, b = (1664525 * a) & _MASK, (1664525 * b + 1013904223) & _MASK
        muls.append(a)
        adds.append(b)
    return np.array(muls, dtype=np.uint64), np.array(adds, dtype=np.uint64)


_MULS, _ADDS = _affine_steps()


def start_value(date: dt.date, seed: int) -> int:
    """The LCG state the day's list starts from."""
    return (seed + date.year + (0x10000 + (date.month << 8) | date.day)) & _MASK


class CorebotDga(BaseDga):
    """CoreBot: 40 daily LCG host names under ddns.net."""

    name = "corebot"
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=("net",),
        seeding="time-dependent",
        active_years=(2015, 2016),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "32-bit build seed (0x1DB98930 in the published sample; 0x1DBA8930 in the "
                "collection's code)",
                minimum=0,
                maximum=_MASK,
            ),
        ),
        reference="Johannes Bader, 'The DGA of CoreBot' (bin.re, 2015); DGArchive",
        notes=(
            "names are host names under ddns.net (a dynamic-DNS provider); year and day are "
            "added, so (y, m, d) and (y + 1, m, d - 1) share a list"
        ),
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 40 names, in the bot's order."""
        start = start_value(key, int(params["seed"]))
        # every LCG state is an affine function of the start (mod 2^32; uint64 arithmetic
        # wraps mod 2^64, which keeps the low 32 bits exact): all 960 the day can use at once
        states = (_MULS * np.uint64(start) + _ADDS) & np.uint64(_MASK)
        text = _CHARS[states % np.uint64(34)].tobytes().decode()
        lengths = (states % np.uint64(12)).tolist()
        out: list[str] = []
        at = 0
        for _ in range(_COUNT):
            length = 12 + lengths[at]
            out.append(text[at + 1 : at + 1 + length] + _SUFFIX)
            at += 1 + length
        return out


FAMILY = Family(
    name="corebot",
    summary="CoreBot banking trojan: 40 daily LCG host names under ddns.net",
    channels=(
        Channel(
            "dga",
            dga=CorebotDga(),
            note="the described C&C rendezvous; every name is under the ddns.net dynamic-DNS "
            "service, so the provider, not a registry, can hold them",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGA of CoreBot' (johannesbader.ch / bin.re, 2015)",
        "IBM X-Force, CoreBot analysis (August 2015)",
        "github.com/baderj/domain_generation_algorithms, corebot/ (published example domains)",
        "DGArchive (Fraunhofer FKIE), corebot",
    ),
)
