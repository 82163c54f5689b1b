"""megad-sim: a SYNTHETIC family shaped like Mega-D (Ozdok), for labs and demos.

Mega-D's bots reached their C&C first through a list of reserved domains,
then through hard-coded DNS servers, and last through a date-based domain
generation algorithm; FireEye's 2009 takedown had to seize all three at once.
This family copies that structure with lab resources only: names under
``.example`` and ``.test``, resolvers and addresses in the documentation
ranges. Its DGA is our own design (HMAC-SHA256 over the date) and is NOT
Mega-D's real algorithm, which has not been published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_TLDS = ("example", "test")
# byte -> letter (b % 26), so a digest slice becomes a label in one translate()
_SPELL = bytes(ord(_LETTERS[b % 26]) for b in range(256))


class MegadSimDga(BaseDga):
    """Synthetic daily DGA: HMAC-SHA256(seed, date|index) spelled as letters."""

    name = "megad-sim"
    info = DgaInfo(
        period="daily",
        per_period=24,
        tlds=_TLDS,
        seeding="time-dependent",
        params=(
            DgaParam("seed", "megad-sim-lab", "HMAC key shared by every bot of a build"),
            DgaParam("count", 24, "domains generated per day"),
        ),
        notes="synthetic: designed for sinkhole's lab, not taken from any real sample",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's domains: label length 8-15, TLDs alternating."""
        keyed = hmac.new(str(params["seed"]).encode(), key.isoformat().encode(), hashlib.sha256)
        out = []
        for index in range(int(params["count"])):
            mac = keyed.copy()
            mac.update(b"|%d" % index)
            digest = mac.digest()
            label = digest[1 : 9 + digest[0] % 8].translate(_SPELL).decode()
            out.append(f"{label}.{_TLDS[index & 1]}")
        return out


#: The reserved domains the synthetic bots try first.
STATIC_DOMAINS = (
    "update-megad-sim.example",
    "stats-megad-sim.example",
    "relay-megad-sim.test",
    "cfg-megad-sim.test",
)

#: Hard-coded resolvers (documentation addresses, RFC 5737).
DNS_SERVERS = ("192.0.2.53", "198.51.100.53", "203.0.113.53")

FAMILY = Family(
    name="megad-sim",
    summary="SYNTHETIC Mega-D-shaped family: reserved domains, hard-coded resolvers, daily DGA",
    channels=(
        Channel("static-domains", domains=STATIC_DOMAINS, note="reserved domain list"),
        Channel("dns-servers", ips=DNS_SERVERS, note="resolvers hard-coded in the binary"),
        Channel("dga", dga=MegadSimDga(), note="synthetic date-based DGA"),
    ),
    references=("FireEye, 'Smashing the Mega-d/Ozdok botnet in 24 hours' (2009)",),
    synthetic=True,
)
