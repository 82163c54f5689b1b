"""Who can seize a name: the registry of its top-level domain, or nobody.

A seizure works because an ICANN-rooted TLD has a registry that a court order
or an abuse request can reach. Some TLDs bots use have none:

* ``.bit``: Namecoin. Names live in the Namecoin block chain and are read by
  Namecoin-aware resolvers and plug-ins; nobody can take one away from its
  owner's key (namecoin.org; Necurs' DGA draws 1 name in 43 from it, Bader 2015).
* ``.onion``: Tor onion services, a special-use name outside the DNS (RFC 7686).
* Emercoin EmerDNS (``.emc``, ``.coin``, ``.lib``, ``.bazar``): names in the
  Emercoin block chain (emercoin.com EmerDNS documentation; BazarLoader's
  ``.bazar`` C&C, 2020).
* OpenNIC's own TLDs, served by an alternative root with volunteer operators and
  no registry under ICANN's contracts (OpenNIC Project TLD list,
  wiki.opennic.org, checked 2024: .bbs .chan .cyb .dyn .epic .geek .gopher .indy
  .libre .neo .null .o .oss .oz .parody .pirate).

An operation can add ICANN TLDs whose registry will not act
(``[registries] not_cooperating``). Names under any of these stay open unless
the resolvers the bots use rewrite them (the plan's ``rpz.zone``) or those
resolvers are themselves sinkholed.
"""

from __future__ import annotations

from sinkhole.operation import Operation

_NAMECOIN = "Namecoin (.bit): names live in a block chain, there is no registry"
_ONION = "Tor onion service (RFC 7686 special-use name): not in the DNS"
_EMERCOIN = "Emercoin EmerDNS: names live in a block chain, there is no registry"
_OPENNIC = "OpenNIC alternative root: no registry under ICANN's contracts"

#: TLDs outside the ICANN root, with why no registry can seize their names.
ALTERNATIVE_ROOTS: dict[str, str] = {
    "bit": _NAMECOIN,
    "onion": _ONION,
    **dict.fromkeys(("emc", "coin", "lib", "bazar"), _EMERCOIN),
    **dict.fromkeys(
        (
            "bbs", "chan", "cyb", "dyn", "epic", "geek", "gopher", "indy",
            "libre", "neo", "null", "o", "oss", "oz", "parody", "pirate",
        ),
        _OPENNIC,
    ),
}  # fmt: skip

#: What an operation can do instead about names no registry will seize.
ALTERNATIVES = (
    "RPZ at cooperating resolvers (the plan's rpz.zone)",
    "sinkhole the resolvers the bots use for these names",
)


def tld_of(name: str) -> str:
    """The top-level domain of `name` (lowercase, no dot)."""
    return name.rstrip(".").rpartition(".")[2].lower()


def why_unseizable(tld: str, op: Operation) -> str | None:
    """Why no registry will seize names under `tld` for `op`, or None when one can."""
    reason = ALTERNATIVE_ROOTS.get(tld)
    if reason is not None:
        return reason
    if tld in op.registries.not_cooperating:
        return f"the registry of .{tld} does not cooperate (operation: registries.not_cooperating)"
    return None


def unseizable_tlds(op: Operation, tlds: set[str]) -> dict[str, str]:
    """The TLDs among `tlds` that no registry will seize for `op`, with the reason."""
    out = {}
    for tld in sorted(tlds):
        reason = why_unseizable(tld, op)
        if reason is not None:
            out[tld] = reason
    return out
