"""pykspa-v1: the precursor Pykspa DGA (Skype worm), 5000 names per two days.

Pykspa is a worm spreading over Skype (2013 on) that also reaches its C&C
through generated names. J. Bader described two DGAs: the improved one with
a noise set (``pykspa-v2``; "The DGA of Pykspa", 2015-03) and this simpler
precursor ("Pykspa's inferior DGA version", 2015-07,
http://johannesbader.ch/2015/07/pykspas-inferior-dga-version/;
baderj/domain_generation_algorithms ``pykspa/precursor``). DGArchive lists it
as pykspa_v1. No static C&C names are described.

The algorithm in words: the seed is the number of whole two-day periods since
the Unix epoch (the bot uses its local clock; we use UTC). For name ``n`` =
0..4999: ``r = r*r + n`` (mod 2**32); the length is ``6 + r mod 10``; the TLD
``biz com net org info cc`` by ``r mod 6``; letter ``i`` of the label, with
``a = length**2 + i*length``, is ``'a' + (a + r*(r mod 5 + r mod 123456 +
i*(r mod 4567 + r mod 19))) mod 26`` (each product mod 2**32); after each
letter ``r`` becomes ``(r + i) >> (i*i mod 32)`` (a local copy; the next
name starts again from the squared state).

Active years: 2014-2015. Bader analysed the precursor in July 2015 from
samples then in circulation (the published list is seeded 2015-08-31), when
the improved DGA was already spreading; we chose the year before and that
year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

TLDS = ("biz", "com", "net", "org", "info", "cc")
DEFAULT_COUNT = 5000
_UNIX_DAY0 = dt.date(1970, 1, 1).toordinal()
_M = 0xFFFFFFFF
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_MAX_LENGTH = 15


def _label(length: int, r: int) -> str:
    """One label, letter by letter (the plain form of what `_labels` does in bulk)."""
    a = length * length
    letters = _LETTERS
    out = []
    for i in range(length):
        mix = (r * (r % 5 + r % 123456 + ((i * (r % 4567 + r % 19)) & _M))) & _M
        out.append(letters[((a + mix) & _M) % 26])
        r = ((r + i) & _M) >> ((i * i) & 31)
        a += length
    return "".join(out)


def _states(key_number: int, count: int) -> list[int]:
    r = key_number & _M
    out = []
    for n in range(count):
        r = (r * r + n) & _M
        out.append(r)
    return out


def _labels(states: list[int]) -> list[str]:
    """Every name's label at once: the letter formula over NumPy uint64 lanes."""
    r = np.array(states, dtype=np.uint64)
    mask = np.uint64(_M)
    lengths = (r % np.uint64(10) + np.uint64(6)).astype(np.int64)
    a = lengths.astype(np.uint64) ** 2
    step = lengths.astype(np.uint64)
    base = r % np.uint64(5) + r % np.uint64(123456)
    grid = np.zeros((len(states), _MAX_LENGTH), dtype=np.uint8)
    for i in range(_MAX_LENGTH):
        ui = np.uint64(i)
        # products wrap modulo 2**64, which keeps them right modulo 2**32
        x = (ui * (r % np.uint64(4567) + r % np.uint64(19))) & mask
        mix = (r * (base + x)) & mask
        grid[:, i] = ((a + mix) & mask) % np.uint64(26) + np.uint64(97)
        r = ((r + ui) & mask) >> np.uint64((i * i) & 31)
        base = r % np.uint64(5) + r % np.uint64(123456)
        a = a + step
    rows = grid.tobytes()
    width = _MAX_LENGTH
    return [rows[k * width : k * width + n].decode("ascii") for k, n in enumerate(lengths.tolist())]


class PykspaV1Dga(BaseDga):
    """Pykspa precursor: 5000 names per two-day period from a squaring generator."""

    name = "pykspa-v1"
    #: the seed counts two-day periods of Unix time: nothing before 1970
    supported = (dt.date(1970, 1, 1), dt.date.max)
    info = DgaInfo(
        period="2-day",
        per_period=DEFAULT_COUNT,
        tlds=TLDS,
        seeding="time-dependent",
        active_years=(2014, 2015),
        params=(
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "names generated per period (5000 in the published list)",
                minimum=1,
                maximum=1 << 16,
            ),
        ),
        reference="http://johannesbader.ch/2015/07/pykspas-inferior-dga-version/",
        notes="periods are two days counted from 1970-01-01 (UTC here; the bot's local clock)",
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The first day of the two-day period counted from 1970-01-01."""
        return dt.date.fromordinal(date.toordinal() - (date.toordinal() - _UNIX_DAY0) % 2)

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The names of the two-day period starting on `key`."""
        states = _states((key.toordinal() - _UNIX_DAY0) // 2, int(params["count"]))
        return [label + "." + TLDS[r % 6] for label, r in zip(_labels(states), states, strict=True)]


FAMILY = Family(
    name="pykspa-v1",
    summary="Pykspa Skype worm, precursor DGA: 5000 names per two days",
    channels=(Channel("dga", dga=PykspaV1Dga(), note="the only described C&C channel"),),
    references=(
        "J. Bader, 'Pykspa's inferior DGA version' (2015), "
        "http://johannesbader.ch/2015/07/pykspas-inferior-dga-version/",
        "baderj/domain_generation_algorithms, pykspa/precursor/ (example list)",
        "DGArchive (Fraunhofer FKIE), family pykspa_v1",
    ),
    aliases=("pykspa-precursor",),
)
