"""newgoz: the GameOver Zeus successor of July 2014 ("newGOZ").

After Operation Tovar dismantled GameOver Zeus's peer-to-peer network in June
2014, a mutated build appeared (first reported by Malcovery, 2014-07-10). Its
one change that matters for a takedown: the peer-to-peer command-and-control
layer was REMOVED and replaced by a daily domain generation algorithm, so the
only C&C channel is the DGA (Arbor Networks, "Five Sinkholes of newGOZ";
OpenDNS Security Labs, "Gameover ZeuS Switches From P2P to DGA"). The DGA
domains also fast-flux, so seizing the names (not addresses) is what works.

The DGA (J. Bader, "The DGA of newGOZ", 2014; Arbor Networks, 2014): for each
sequence number ``seq`` of the day (0..999), MD5 over the little-endian
32-bit ``seq``, then year, month and day as little-endian 16-bit words, each
followed by the four bytes of a hard-coded 32-bit value (0x35190501 in the
common build; Arbor saw a second build with 0x0052E645 and 10 000 domains a
day). The digest's four little-endian 32-bit words, each written in base 36
(digits then letters, no leading zeros), are concatenated into the label. The
TLD follows ``seq``: .com if seq % 4 == 0, else .org if seq % 3 == 0, else .biz
if seq % 2 == 0, else .net. A bot starts at a random ``seq`` and walks up
(wrapping), so all ``count`` domains of the day matter; they are listed here
in ``seq`` order. Dates are UTC.

Active years: 2014-2015, from the first report (Malcovery, 2014-07-10) into
2015, as seen by Arbor Networks' and OpenDNS's sinkholes.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Mapping
from hashlib import md5

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: The hard-coded value mixed into the MD5 input by the common build.
DEFAULT_KEY = 0x35190501
DEFAULT_COUNT = 1000
_MAX_COUNT = 1 << 20

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# base-36 spelling of 0..36**2-1, zero-padded, and of 0..36**3-1 without padding
_PAIR = tuple(a + b for a in _DIGITS for b in _DIGITS)
_HIGH = tuple((a + b + c).lstrip("0") for a in _DIGITS for b in _DIGITS for c in _DIGITS)
_B4 = 36**4
_B2 = 36**2
# the TLD of seq depends only on seq % 12
_TLD_CYCLE = tuple(
    "com" if s % 4 == 0 else "org" if s % 3 == 0 else "biz" if s % 2 == 0 else "net"
    for s in range(12)
)
_WORDS = struct.Struct("<4I")
_SEQ = struct.Struct("<I")


def check_params(params: Mapping[str, ParamValue]) -> tuple[int, int]:
    """The (key, count) pair, or a DgaError naming the bad value."""
    key = params["key"]
    count = params["count"]
    if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key <= 0xFFFFFFFF:
        raise DgaError(f"newgoz: key={key!r} is not a 32-bit unsigned integer")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
        raise DgaError(f"newgoz: count={count!r} is not an integer in 1..{_MAX_COUNT}")
    return key, count


def _base36(value: int) -> str:
    """`value` (< 2**32 < 36**7) in base 36 without leading zeros, "0" for 0."""
    high, low = divmod(value, _B4)
    if high:
        return _HIGH[high] + _PAIR[low // _B2] + _PAIR[low % _B2]
    return (_PAIR[low // _B2] + _PAIR[low % _B2]).lstrip("0") or "0"


class NewGozDga(BaseDga):
    """Daily MD5-based DGA of newGOZ: 1000 domains a day."""

    name = "newgoz"
    info = DgaInfo(
        period="daily",
        per_period=DEFAULT_COUNT,
        tlds=("com", "net", "biz", "org"),
        seeding="time-dependent",
        active_years=(2014, 2015),
        params=(
            DgaParam(
                "key",
                DEFAULT_KEY,
                "32-bit value hard-coded in the build, mixed into every MD5 "
                "(0x35190501 in the common build; 0x52E645 in the 10 000-domain build)",
            ),
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "domains a day (1000; 10000 in the second build)",
                minimum=1,
                maximum=_MAX_COUNT,
            ),
        ),
        reference="https://bin.re/blog/the-dga-of-newgoz/",
        notes="a bot starts at a random sequence number and wraps around the day's list",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's domains in sequence-number order."""
        secret, count = check_params(params)
        k = _SEQ.pack(secret)
        tail = (
            struct.pack("<H", key.year) + k + struct.pack("<H", key.month) + k
            + struct.pack("<H", key.day) + k
        )  # fmt: skip
        pack = _SEQ.pack
        unpack = _WORDS.unpack
        high_t, pair, b4, b2 = _HIGH, _PAIR, _B4, _B2
        b36 = _base36
        tlds = _TLD_CYCLE
        out: list[str] = []
        append = out.append
        for seq in range(count):
            w0, w1, w2, w3 = unpack(md5(pack(seq) + tail, usedforsecurity=False).digest())
            h0, l0 = divmod(w0, b4)
            h1, l1 = divmod(w1, b4)
            h2, l2 = divmod(w2, b4)
            h3, l3 = divmod(w3, b4)
            if h0 and h1 and h2 and h3:  # all words >= 36**4: no leading-zero care needed
                append(
                    f"{high_t[h0]}{pair[l0 // b2]}{pair[l0 % b2]}"
                    f"{high_t[h1]}{pair[l1 // b2]}{pair[l1 % b2]}"
                    f"{high_t[h2]}{pair[l2 // b2]}{pair[l2 % b2]}"
                    f"{high_t[h3]}{pair[l3 // b2]}{pair[l3 % b2]}.{tlds[seq % 12]}"
                )
            else:
                append(f"{b36(w0)}{b36(w1)}{b36(w2)}{b36(w3)}.{tlds[seq % 12]}")
        return out


FAMILY = Family(
    name="newgoz",
    summary="GameOver Zeus successor (2014): P2P layer removed, daily MD5 DGA of 1000 domains",
    channels=(
        Channel(
            "dga",
            dga=NewGozDga(),
            note="the only C&C channel: newGOZ dropped GameOver's P2P network; "
            "domains fast-flux, so seize the names",
        ),
    ),
    references=(
        "J. Bader, 'The DGA of newGOZ' (2014), https://bin.re/blog/the-dga-of-newgoz/",
        "Arbor Networks ASERT, D. Schwarz and D. Loftus, 'Five Sinkholes of newGOZ' (2014)",
        "OpenDNS Security Labs, 'Gameover ZeuS Switches From P2P to DGA' (2014)",
        "Malcovery Security, 'Breaking: GameOver Zeus Mutates, Launches Attacks' (2014-07-10)",
    ),
)
