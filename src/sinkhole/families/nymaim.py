"""nymaim: the first Nymaim DGA (2013-2017), an xorshift generator seeded by the date.

Nymaim is a downloader (ransomware "lockers", later banking fraud together
with Gozi ISFB as GozNym). Its builds carry configured C&C names, tried
first, and fall back to generated names (J. Bader, "The DGA of Nymaim",
2014; ESET, "Nymaim: browsing for trouble", 2015; CERT Polska, "Nymaim
revisited", 2016). The configured names differ per campaign and are not
listed here. The later DGA of 2017-2018 is ``nymaim2``.

The algorithm in words: ``s = year + ((month + day) << 16) + weekday`` (weekday
0 = Sunday); four 32-bit registers start at ``s + 0x52455641``, ``s +
0x49484F4C`` (0 if that overflows 32 bits), ``s + 0x59554820``, ``s +
0x4D415620``. Each draw (an xorshift128 variant) computes ``t = r0 ^ (r0 <<
11)``, ``r3' = r3 ^ (r3 >> 19) ^ t ^ (t >> 8)``, adds each register to the
previous one (``r0 += r1``, ``r1 += r2``, ``r2 += r3``, with the old values),
sets ``r3 = r3'`` and returns ``((old r2 + r3') / 100) mod m``. A name takes a
length ``6 + draw(6)`` and that many letters ``'a' + draw(26)``; the
second-to-last letter picks the TLD (``a``-``i`` com, ``j``-``m`` org,
``n``-``q`` biz, ``r``-``u`` net, ``v``-``z`` info). The published example
lists 128 names.

Since the seed adds year, weekday and (month + day) together, distinct dates
can share a list (2018-02-24 and 2018-08-18 do: 2 + 24 = 8 + 18, both
Saturdays).

Active years: 2013-2017. Nymaim appeared in 2013 (ESET); Bader described this
DGA in 2014; the new DGA (``nymaim2``) took over in 2017.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_COUNT = 128
_M = 0xFFFFFFFF
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: second-to-last letter -> TLD
_TLD_OF = ("com",) * 9 + ("org",) * 4 + ("biz",) * 4 + ("net",) * 4 + ("info",) * 5


def _names(date: dt.date, count: int) -> list[str]:
    s = date.year + ((date.month + date.day) << 16) + date.isoweekday() % 7
    r0 = (s + 0x52455641) & _M
    r1 = s + 0x49484F4C
    if r1 > _M:
        r1 = 0
    r2 = (s + 0x59554820) & _M
    r3 = (s + 0x4D415620) & _M
    letters = _LETTERS
    out = []
    for _ in range(count):
        draws: list[int] = []
        want: int | None = None
        while want is None or len(draws) < want:
            t = (r0 ^ (r0 << 11)) & _M
            new3 = r3 ^ (r3 >> 19) ^ t ^ (t >> 8)
            value = ((r2 + new3) & _M) // 100
            r0, r1, r2, r3 = (r0 + r1) & _M, (r1 + r2) & _M, (r2 + r3) & _M, new3
            if want is None:
                want = 6 + value % 6
            else:
                draws.append(value % 26)
        label = "".join(letters[d] for d in draws)
        out.append(label + "." + _TLD_OF[draws[-2]])
    return out


class NymaimDga(BaseDga):
    """Nymaim (first DGA): 128 names a day from an xorshift generator seeded by the date."""

    name = "nymaim"
    info = DgaInfo(
        period="daily",
        per_period=DEFAULT_COUNT,
        tlds=("biz", "com", "info", "net", "org"),
        seeding="time-dependent",
        active_years=(2013, 2017),
        params=(
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "names generated a day (128 in the published list)",
                minimum=1,
                maximum=1 << 16,
            ),
        ),
        reference="J. Bader, 'The DGA of Nymaim' (2014), johannesbader.ch",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The names of `key`."""
        return _names(key, int(params["count"]))


FAMILY = Family(
    name="nymaim",
    summary="Nymaim downloader (2013-2017): configured C&C, then 128 xorshift names a day",
    channels=(
        Channel(
            "static-domains",
            note="builds carry configured C&C names per campaign; none listed here",
        ),
        Channel("dga", dga=NymaimDga(), note="fallback when the configured names fail"),
    ),
    references=(
        "J. Bader, 'The DGA of Nymaim' (2014), johannesbader.ch",
        "ESET, 'Nymaim: browsing for trouble' (2015), welivesecurity.com",
        "baderj/domain_generation_algorithms, nymaim/ (example list)",
    ),
)
