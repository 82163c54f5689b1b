"""Qadars: a banking trojan's weekly DGA, 200 names a week from a seeded LCG.

Qadars is a banking trojan known since 2013 (ESET) whose builds of 2016-2017
find their C&C through a domain generation algorithm keyed on the week and a
16-bit build seed; the DGA is the C&C channel described publicly.

Algorithm (Johannes Bader, "The DGA of Qadars", johannesbader.ch, April 2016,
with later seeds; reimplemented in baderj/domain_generation_algorithms
``qadars/``): the state starts as the Unix time of the week's Monday 00:00
UTC and steps ``r = (seed - 1043968403 r) mod 2^31``. Each name takes twelve
steps, each picking a character of ``a-z0-9`` (``r % 36``), and one more step
picking the TLD (``r % 3``); the state runs on through 200 names. Known seeds
and TLD sets: 0x89F5 (April 2016 sample, ``com org net`` -- the published
list), 0xE1F1, 0xE1F2 and 0xE1F5 (``com org net``), 0x4449 and 0xE08A (``net
org top``). The published list was made by the collection's first version,
whose weeks ran Thursday to Wednesday (each seeded with the Monday before);
here, with the corrected Monday-to-Sunday weeks, it is the week of Monday
2016-03-28.

Active years: 2016-2017. Qadars itself dates from 2013 (ESET), but the DGA
builds are those of Bader's samples, April 2016 to March 2017; the end is not
published.

The generator here computes a week's 2600 states at once: state k is
``a_k start + b_k (mod 2^31)`` with coefficients tabulated per seed (numpy).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 200
_LABEL = 12
_MUL = 1043968403
_MASK31 = 0x7FFFFFFF
_CHARS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
_UNIX = dt.date(1970, 1, 1)
TLD_SETS = {"com-org-net": ("com", "org", "net"), "net-org-top": ("net", "org", "top")}
#: the published list's seed (Bader's April 2016 sample)
DEFAULT_SEED = 0x89F5


@functools.lru_cache(maxsize=16)
def _affine_steps(seed: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Arrays a, b with state k = a[k] * start + b[k] (mod 2^31), for the week's 2600 states."""
    a, b = 1, 0
    muls, adds = [], []
    for _ in range(_COUNT * (_LABEL + 1)):
        a, b = (-_MUL * a) & _MASK31, (seed - _MUL * b) & _MASK31
        muls.append(a)
        adds.append(b)
    return np.array(muls, dtype=np.uint64), np.array(adds, dtype=np.uint64)


class QadarsDga(BaseDga):
    """Qadars: 200 names a week (Monday to Sunday, UTC), twelve LCG characters each."""

    name = "qadars"
    info = DgaInfo(
        period="weekly",
        per_period=_COUNT,
        tlds=("com", "org", "net", "top"),
        seeding="time-dependent",
        active_years=(2016, 2017),
        params=(
            DgaParam(
                "seed",
                DEFAULT_SEED,
                "16-bit build seed (known: 0x89F5, 0x4449, 0xE08A, 0xE1F1, 0xE1F2, 0xE1F5)",
                minimum=0,
                maximum=0xFFFF,
            ),
            DgaParam(
                "tld_set",
                "com-org-net",
                "the build's TLDs: com-org-net (0x89F5, 0xE1Fx) or net-org-top (0x4449, 0xE08A)",
                choices=tuple(TLD_SETS),
            ),
        ),
        reference="Johannes Bader, 'The DGA of Qadars' (johannesbader.ch, 2016)",
        notes="weeks start on Monday 00:00 UTC; the state starts as that instant's Unix time",
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The Monday of the date's week."""
        return date - dt.timedelta(days=date.weekday())

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The week's 200 names, in the bot's order."""
        seed = int(params["seed"])
        tlds = tuple("." + tld for tld in TLD_SETS[str(params["tld_set"])])
        # every state is an affine function of the start (mod 2^31): computed all at once
        start = ((key - _UNIX).days * 86400) & _MASK31
        a, b = _affine_steps(seed)
        states = (a * np.uint64(start) + b) & np.uint64(_MASK31)
        text = _CHARS[states % np.uint64(36)].tobytes().decode()
        tld_of = (states[_LABEL :: _LABEL + 1] % np.uint64(3)).tolist()
        step = _LABEL + 1
        return [text[i * step : i * step + _LABEL] + tlds[tld] for i, tld in enumerate(tld_of)]


FAMILY = Family(
    name="qadars",
    summary="Qadars banking trojan: 200 weekly LCG names with a 16-bit build seed",
    channels=(
        Channel(
            "dga",
            dga=QadarsDga(),
            note="the described C&C rendezvous; seed and TLD set differ between builds",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGA of Qadars' (johannesbader.ch, 2016)",
        "github.com/baderj/domain_generation_algorithms, qadars/ (published example domains)",
        "ESET, Qadars reports (2013-2014)",
    ),
)
