"""orchard: the Orchard botnet's DGA, seeded by the date and by Bitcoin's genesis address (2022).

Orchard (360 Netlab, "Orchard, a new botnet using Bitcoin's genesis block
info for DGA", 2022-08; J. Bader's reimplementation, first named
XMRig_Genesis, in baderj/domain_generation_algorithms ``orchard/``) makes
its C&C names from two seeds, and the second is a public input that is not a
date: the balance and transaction count of Bitcoin's genesis address
1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa as they stand on the day (anyone can
change them by sending a few satoshi to the address, so the second list can
move at any time).

The algorithm in words: for each seed string, its MD5 in lower-case hex is cut
into four 8-digit labels, each under ``.com``, ``.net``, ``.org`` and
``.duckdns.org`` (label-major: 16 names).

* date seed: ``YYYY-MM-DD`` followed by ``ojena.duckdns.org``;
* balance seed: the JSON text
  ``{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa":{"final_balance":B,"n_tx":N,"total_received":B}}``
  with the balance ``B`` in satoshi and the transaction count ``N`` (the
  ``balance`` and ``transactions`` parameters; ``balance=-1``, the default,
  leaves the balance names out because the figures of a given day have to be
  looked up in the block chain).

Names under ``duckdns.org`` are subdomains of a dynamic-DNS service: the
service, not a registry, has to take them down.

Active years: 2022-2023. Netlab saw this DGA version from mid 2022 (the
published list is for 2022-09-29); we add the year after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

GENESIS_ADDRESS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
SUFFIXES = (".com", ".net", ".org", ".duckdns.org")
_DATE_TAIL = "ojena.duckdns.org"


def names_of(seed: str) -> list[str]:
    """The 16 names one seed string gives."""
    digest = hashlib.md5(seed.encode("ascii")).hexdigest()
    return [digest[i : i + 8] + suffix for i in (0, 8, 16, 24) for suffix in SUFFIXES]


def balance_seed(balance: int, transactions: int) -> str:
    """The seed string the bot builds from the genesis address's figures."""
    return (
        f'{{"{GENESIS_ADDRESS}":{{"final_balance":{balance},"n_tx":{transactions},'
        f'"total_received":{balance}}}}}'
    )


class OrchardDga(BaseDga):
    """Orchard: 16 MD5 names from the date (and 16 from the genesis address's balance, if given)."""

    name = "orchard"
    info = DgaInfo(
        period="daily",
        per_period=16,
        tlds=("com", "net", "org"),
        seeding="time-dependent",
        active_years=(2022, 2023),
        params=(
            DgaParam(
                "balance",
                -1,
                "the genesis address's balance in satoshi on the day (-1: leave those names out)",
                minimum=-1,
            ),
            DgaParam("transactions", 0, "the genesis address's transaction count", minimum=0),
        ),
        reference="360 Netlab, 'Orchard, a new botnet using Bitcoin's genesis block info for "
        "DGA' (2022); baderj/domain_generation_algorithms orchard/",
        notes="with a balance the list has 32 names; .duckdns.org names need the DDNS service",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The date names of `key`, then the balance names when a balance is given."""
        out = names_of(key.isoformat() + _DATE_TAIL)
        balance, transactions = int(params["balance"]), int(params["transactions"])
        if balance >= 0:
            out += names_of(balance_seed(balance, transactions))
        elif transactions:
            raise DgaError("orchard: transactions= needs balance= too")
        return out


FAMILY = Family(
    name="orchard",
    summary="Orchard botnet (2022): MD5 names from the date and Bitcoin's genesis address",
    channels=(
        Channel(
            "dga",
            dga=OrchardDga(),
            note="the balance names move whenever someone pays the genesis address; "
            "the .duckdns.org names are for DuckDNS, not a registry",
        ),
    ),
    references=(
        "360 Netlab, 'Orchard, a new botnet using Bitcoin's genesis block info for DGA' (2022)",
        "baderj/domain_generation_algorithms, orchard/ (example list)",
    ),
)
