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

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

TLDS = ("biz", "com", "net", "org", "info", "cc")
DEFAULT_COUNT = 5000
_UNIX_DAY0 = dt.date(1970, 1, 1).toordinal()
_M = 0xFFFFFFFF
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _label(length: int, r: int) -> str:
    a = length * length
    letters = _LETTERS
    out = []
    for i in range(length):
        mix = (r * (r % 5 + r % 123456 + ((i * (r % 4567 + r % 19)) & _M))) & _M
        out.append(letters[((a + mix) & _M) % 26])
        r = ((r + i) & _M) >> ((i * i) & 31)
        a += length
    return "".join(out)


class PykspaV1Dga(BaseDga):
    """Pykspa precursor: 5000 names per two-day period from a squaring generator."""

    name = "pykspa-v1"
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
        r = ((key.toordinal() - _UNIX_DAY0) // 2) & _M
        out: list[str] = []
        for n in range(int(params["count"])):
            r = (r * r + n) & _M
            out.append(_label(6 + r % 10, r) + "." + TLDS[r % 6])
        return out


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
