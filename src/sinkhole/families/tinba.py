"""tinba: Tinba (TinyBanker, Zusy) and its seed-string DGA, four known builds.

Tinba, a very small banking trojan found in 2012 (CSIS and Trend Micro),
gained a domain generation algorithm in 2014. A bot first tries the C&C
host hard-coded in its build, which is also the DGA's starting name, then the
generated names. Some builds carry further hard-coded hosts (Symantec's
Trojan.Tinba write-up names several); they are not published as a list and
are left to the operation file.

Algorithm (garage4hackers, 2014; J. Bader, "New Top Level Domains for Tinba's
DGA", johannesbader.ch, April 2015; Sophos, Troj/Tinba-EL): a build carries a
16-character seed string, a starting domain, a TLD list and a count. Each
round turns the previous name (its first 13 characters) into a 12-letter
label: with ``S`` the sum of the seed's 16 character codes and ``t`` starting
at the code of the seed's last character, for each position ``i`` the bot
repeats ``t = ((t + d[i]) ^ S) + d[i+1]`` (mod 256, ``d`` the previous
name's codes) until ``t`` is a letter strictly between ``a`` and ``z``,
adding 1 to ``S`` after every miss. The label is then tried under each TLD
of the list, and the last of those names seeds the next round. The list is
the starting domain and ``count`` rounds of names. Known builds (the
``variant`` parameter, named after their starting domain):

* ``ssrgwnrmgrxe``: seed oGkS3w3sGGOGG7oc, ssrgwnrmgrxe.com, ``.com``; 1000
  rounds (garage4hackers, 2014; set ``count=1000``);
* ``blackfreeqazyio``: seed jc74FlUna852Ji9o, blackfreeqazyio.cc, ``.com
  .net .in .ru``; 100 rounds (Bader, 2015; the published example list);
* ``watchthisnow``: seed yqokqFC2TPBFfJcG, watchthisnow.xyz, ``.pw .us .xyz
  .club`` (Sophos Troj/Tinba-EL);
* ``j193hsne720uie8i``: seed j193HsnW72Yqns7u, j193hsne720uie8i.cc, ``.com
  .net .biz .org``.

Active years: 2014-2015. The DGA builds were described from 2014
(garage4hackers) to 2015 (Bader, Sophos); the list does not depend on the
date, so this is metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: variant -> (seed string, starting domain, TLDs)
VARIANTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ssrgwnrmgrxe": ("oGkS3w3sGGOGG7oc", "ssrgwnrmgrxe.com", ("com",)),
    "blackfreeqazyio": ("jc74FlUna852Ji9o", "blackfreeqazyio.cc", ("com", "net", "in", "ru")),
    "watchthisnow": ("yqokqFC2TPBFfJcG", "watchthisnow.xyz", ("pw", "us", "xyz", "club")),
    "j193hsne720uie8i": ("j193HsnW72Yqns7u", "j193hsne720uie8i.cc", ("com", "net", "biz", "org")),
}
DEFAULT_VARIANT = "blackfreeqazyio"
DEFAULT_COUNT = 100
_MAX_COUNT = 100_000


def next_label(seed: bytes, previous: bytes) -> bytes:
    """The 12-letter label computed from the previous name."""
    total = sum(seed[:16])
    t = seed[15]
    out = bytearray()
    for i in range(12):
        here, after = previous[i], previous[i + 1]
        while True:
            t = (((t + here) ^ total) + after) & 0xFF
            if 0x61 < t < 0x7A:
                break
            total += 1
        out.append(t)
    return bytes(out)


@lru_cache(maxsize=16)
def names(variant: str, count: int) -> tuple[str, ...]:
    """The starting domain and `count` rounds of names of one build."""
    seed_text, start, tlds = VARIANTS[variant]
    seed = seed_text.encode("ascii").ljust(17, b"\0")
    out = [start]
    previous = start.encode("ascii")
    suffixes = [("." + tld).encode("ascii") for tld in tlds]
    for _ in range(count):
        label = next_label(seed, previous)
        out.extend((label + suffix).decode("ascii") for suffix in suffixes)
        previous = label + suffixes[-1]
    return tuple(out)


class TinbaDga(BaseDga):
    """Tinba: 12-letter labels chained from a starting domain and a seed string."""

    name = "tinba"
    info = DgaInfo(
        period="none",
        per_period=1 + DEFAULT_COUNT * len(VARIANTS[DEFAULT_VARIANT][2]),
        tlds=("cc", "com", "net", "in", "ru", "pw", "us", "xyz", "club", "biz", "org"),
        seeding="time-independent",
        active_years=(2014, 2015),
        params=(
            DgaParam(
                "variant",
                DEFAULT_VARIANT,
                "known build, named after its starting domain",
                choices=tuple(VARIANTS),
            ),
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "rounds of names (1000 for ssrgwnrmgrxe, 100 for the others)",
                minimum=1,
                maximum=_MAX_COUNT,
            ),
        ),
        reference="J. Bader, 'New Top Level Domains for Tinba's DGA' (2015); garage4hackers "
        "(2014); Sophos Troj/Tinba-EL",
        notes="the starting domain (a hard-coded C&C host) comes first; each label is tried "
        "under every TLD of the build",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's starting domain and generated names."""
        count = params["count"]
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
            raise DgaError(f"tinba: count={count!r} is not an integer in 1..{_MAX_COUNT}")
        return list(names(str(params["variant"]), count))


FAMILY = Family(
    name="tinba",
    summary="Small banking trojan (TinyBanker): hard-coded host, then a seed-string DGA chain",
    channels=(
        Channel(
            "static-domains",
            note="hard-coded C&C hosts per build; the DGA's starting domain is one of them and "
            "is listed with the DGA, others are not published as a list",
        ),
        Channel("dga", dga=TinbaDga(), note="four known builds (variant parameter)"),
    ),
    references=(
        "J. Bader, 'New Top Level Domains for Tinba's DGA' (April 2015), "
        "http://johannesbader.ch/2015/04/new-top-level-domains-for-tinbas-dga/",
        "garage4hackers, Tinba DGA analysis (2014), http://garage4hackers.com/entry.php?b=3086",
        "Sophos, Troj/Tinba-EL detailed analysis",
        "github.com/baderj/domain_generation_algorithms, tinba/ (published example domains)",
    ),
    aliases=("tinybanker", "zusy"),
)
