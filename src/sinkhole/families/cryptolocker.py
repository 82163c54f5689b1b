"""cryptolocker: the CryptoLocker ransomware of 2013-2014 and its daily DGA.

CryptoLocker (September 2013 - June 2014, spread mostly by the GameOver Zeus
botnet) encrypts nothing until it has reached a C&C server for an RSA key, so
its C&C channel is worth closing. The bot reaches the C&C through a daily
domain generation algorithm: 1000 domains a day, tried from a random starting
index. Operation Tovar (June 2014) took it down by seizing the DGA domains
together with GameOver Zeus's infrastructure. No other C&C channel has been
described publicly.

The algorithm (Fortinet, S. Yazdi, "A Closer Look at CryptoLocker's DGA",
2014-01-16; Bitdefender Labs sinkholed it in October 2013): for index z in
0..999, three 32-bit states start as day*65537, month*65537 and
(year+z)*65537. The label length is 12 + (((d >> 3) ^ (y >> 8) ^ (y >> 11)) & 3),
i.e. 12-15 letters. Each letter advances the three states with shift-xor
steps and is ``'a' + (d ^ m ^ y) % 25`` (so never 'z'). The suffix cycles
through com, net, biz, ru, org, co.uk, info by ``z % 7``. Dates are the bot's
system date (UTC here).

Note: ``info.tlds`` lists the suffixes emitted, "co.uk" included, plus "uk",
the last label of the "co.uk" domains.

Active years: 2013-2014, from the first sightings in September 2013 to
Operation Tovar (June 2014), as above (Fortinet 2014; Bitdefender 2013).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from operator import xor

from sinkhole.dga import BaseDga, DgaInfo
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Suffixes in the order of ``z % 7``.
SUFFIXES = ("com", "net", "biz", "ru", "org", "co.uk", "info")
PER_DAY = 1000
_MAX_LEN = 15
_M = 0xFFFFFFFF
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _day_states(day: int, month: int) -> tuple[int, tuple[int, ...]]:
    """(d >> 3 of the start state, d ^ m after each of the 15 steps): same for every z."""
    d = day * 65537
    m = month * 65537
    first = d >> 3
    mixed = []
    for _ in range(_MAX_LEN):
        d = ((d << 13 & _M) >> 19) ^ ((d >> 1) << 13 & _M) ^ (d >> 19)
        m = ((m << 2 & _M) >> 25) ^ ((m >> 3) << 7 & _M) ^ (m >> 25)
        mixed.append(d ^ m)
    return first, tuple(mixed)


@lru_cache(maxsize=16384)
def _year_states(year: int) -> tuple[int, tuple[int, ...]]:
    """((y >> 8) ^ (y >> 11) of the start state, y after each step) for year+z.

    Depends only on year+z, not on the day, so one table serves every day.
    """
    y = year * 65537 & _M
    first = (y >> 8) ^ (y >> 11)
    states = []
    for _ in range(_MAX_LEN):
        y = ((y << 3 & _M) >> 11) ^ ((y >> 4) << 21 & _M) ^ (y >> 11)
        states.append(y)
    return first, tuple(states)


class CryptoLockerDga(BaseDga):
    """Daily shift-xor DGA of CryptoLocker: 1000 domains a day."""

    name = "cryptolocker"
    info = DgaInfo(
        period="daily",
        per_period=PER_DAY,
        tlds=(*SUFFIXES, "uk"),
        seeding="time-dependent",
        active_years=(2013, 2014),
        params=(),
        reference="https://blog.fortinet.com/2014/01/16/a-closer-look-at-cryptolocker-s-dga",
        notes="a bot starts at a random index and wraps around the day's list; "
        "the co.uk suffix is two labels",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's domains in index order."""
        d_first, mixed = _day_states(key.day, key.month)
        letters = _LETTERS
        suffixes = SUFFIXES
        year_states = _year_states
        out: list[str] = []
        append = out.append
        for z in range(PER_DAY):
            y_first, ys = year_states(key.year + z)
            size = 12 + ((d_first ^ y_first) & 3)
            label = "".join([letters[v % 25] for v in map(xor, ys[:size], mixed)])
            append(f"{label}.{suffixes[z % 7]}")
        return out


FAMILY = Family(
    name="cryptolocker",
    summary="CryptoLocker ransomware (2013-2014): daily DGA of 1000 domains, 7 suffixes",
    channels=(
        Channel(
            "dga",
            dga=CryptoLockerDga(),
            note="the only public C&C channel; seized in Operation Tovar (2014)",
        ),
    ),
    references=(
        "Fortinet, S. Yazdi, 'A Closer Look at CryptoLocker's DGA' (2014-01-16), "
        "https://blog.fortinet.com/2014/01/16/a-closer-look-at-cryptolocker-s-dga",
        "Bitdefender Labs, 'Cryptolocker weekly haul? More than 10k victims' (2013-11-13)",
        "US-CERT TA14-150A, 'GameOver Zeus P2P Malware' (2014-06-02)",
    ),
)
