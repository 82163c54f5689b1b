"""zloader: ZLoader (a Zeus-derived banking trojan and loader) and its RC4-seeded daily DGA.

ZLoader builds of 2020-2022 carry a list of C&C URLs in their configuration
and fall back to a DGA of 32 ``.com`` names a day when those fail (J. Bader,
"The DGA of Zloader", 2020, https://johannesbader.ch/blog/the-dga-of-zloader/;
Microsoft DCU's court order of April 2022 seized 65 hard-coded names and 319
DGA-registered names). The configured names differ per botnet/campaign and
are not listed here.

The algorithm in words: the Unix time of the day's midnight (UTC) as four
little-endian bytes is encrypted with RC4 under the build's key (a string in
the configuration, e.g. ``q23Cud3xsNf3``); the 32-bit result ``s`` is the
seed. Starting from ``r = s``, each name has 20 letters: letter ``'a' + r mod
25`` (so never ``z``), then ``r = s xor (r + letter)`` (mod 2**32); the state
runs on across the 32 names; each gets ``.com``. RC4 only contributes its
first four keystream bytes, which depend on the key alone, so they are
computed once per key.

Known keys (the ``key`` parameter): ``q23Cud3xsNf3`` (the published example
list's default), ``41997b4a729e1a0175208305170752dd``, ``kZieCw23gffpe43Sd``,
``Ts72YjsjO5TghE6m``, ``03d5ae30a0bd934a23b6a7f0756aa504``.

Active years: 2020-2022. Bader's analysis and example lists start 2020-01-01
(ZLoader's return in late 2019/2020); Microsoft's takedown was in April 2022
and the lists run to September 2022.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

KNOWN_KEYS = (
    "q23Cud3xsNf3",
    "41997b4a729e1a0175208305170752dd",
    "kZieCw23gffpe43Sd",
    "Ts72YjsjO5TghE6m",
    "03d5ae30a0bd934a23b6a7f0756aa504",
)
_COUNT = 32
_LETTERS = "abcdefghijklmnopqrstuvwxy"
_UNIX_DAY0 = dt.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=16)
def keystream_word(key: str) -> int:
    """RC4's first four keystream bytes under `key`, as a little-endian 32-bit number."""
    if not key or not key.isascii() or len(key) > 256:
        raise DgaError(f"zloader: key={key!r} is not an ASCII RC4 key of 1-256 characters")
    raw = key.encode("ascii")
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + raw[i % len(raw)]) & 0xFF
        box[i], box[j] = box[j], box[i]
    i = j = 0
    word = 0
    for n in range(4):
        i = (i + 1) & 0xFF
        j = (j + box[i]) & 0xFF
        box[i], box[j] = box[j], box[i]
        word |= box[(box[i] + box[j]) & 0xFF] << (8 * n)
    return word


def day_seed(date: dt.date, key: str) -> int:
    """The DGA seed of `date`: RC4(key) over the little-endian Unix time of its midnight."""
    midnight = (date.toordinal() - _UNIX_DAY0) * 86400
    return (midnight & 0xFFFFFFFF) ^ keystream_word(key)


class ZloaderDga(BaseDga):
    """ZLoader: 32 twenty-letter .com names a day from an RC4-encrypted date."""

    name = "zloader"
    #: the midnight's Unix time is packed into 32 unsigned bits: 1970-01-01 to 2106-02-07
    supported = (dt.date(1970, 1, 1), dt.date(2106, 2, 7))
    info = DgaInfo(
        period="daily",
        per_period=_COUNT,
        tlds=("com",),
        seeding="time-dependent",
        active_years=(2020, 2022),
        params=(DgaParam("key", KNOWN_KEYS[0], "the build's RC4 key from its configuration"),),
        reference="https://johannesbader.ch/blog/the-dga-of-zloader/",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The 32 names of day `key`."""
        seed = day_seed(key, str(params["key"]))
        letters = _LETTERS
        r = seed
        out: list[str] = []
        for _ in range(_COUNT):
            label = []
            for _ in range(20):
                n = r % 25
                label.append(letters[n])
                r = seed ^ ((r + 97 + n) & 0xFFFFFFFF)
            out.append("".join(label) + ".com")
        return out


FAMILY = Family(
    name="zloader",
    summary="ZLoader (2020-2022): configured C&C URLs, then 32 RC4-seeded .com names a day",
    channels=(
        Channel(
            "static-domains",
            note="C&C URLs in the build's configuration, per campaign; none listed here",
        ),
        Channel("dga", dga=ZloaderDga(), note="fallback when the configured C&C fail"),
    ),
    references=(
        "J. Bader, 'The DGA of Zloader' (2020), https://johannesbader.ch/blog/the-dga-of-zloader/",
        "Microsoft Digital Crimes Unit, ZLoader disruption (April 2022)",
        "baderj/domain_generation_algorithms, zloader/ (keys, example lists)",
    ),
)
