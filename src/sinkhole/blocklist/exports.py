"""Exports of the listing for the tools defenders run.

- ``rbldnsd``: one rbldnsd *combined* dataset (an ip4set and an ip6trie under
  the zone's apex, with $SOA and $NS), so ``rbldnsd ... ZONE:combined:FILE``
  answers exactly as ``sinkhole dnsbl serve`` does. Addresses sharing a reason
  share one default line (rbldnsd keeps one copy of it); IPv4 TXT templates
  use rbldnsd's ``$`` for the address; IPv6 entries carry their text whole.
- ``text``: one address per line (firewall sets, plain feeds).
- ``csv``: one row per listed address, with the family, the code, first and last
  contact, expiry, network and reason.
- ``stix``: a STIX 2.1 bundle built with ``stix2``: the family as Malware, an
  Indicator per bot address and per C&C domain seen, each related to the
  family by an ``indicates`` Relationship, created by the operation's Identity.
- ``misp``: a MISP event built with ``pymisp``: ip-src and domain attributes
  tagged with the family.

Every export holds victim addresses: written 0600 to a temporary file in the
target's folder, then renamed over the target (a reader never sees half).
"""

from __future__ import annotations

import csv
import datetime as dt
import ipaddress
import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sinkhole.blocklist import policy, state
from sinkhole.blocklist.state import BlocklistError

FORMATS = ("rbldnsd", "text", "csv", "stix", "misp")
CSV_COLUMNS = ("ip", "family", "code", "first_seen", "last_seen", "expires", "asn", "as_name",
               "reason", "source")  # fmt: skip


@dataclass(frozen=True)
class Zone:
    """What the rbldnsd file says about the zone: its SOA and NS."""

    nameservers: tuple[str, ...]
    hostmaster: str
    ttl: int = 300
    org: str = "sinkhole operator"
    operation: str = "sinkhole listing"


def _time(us: int | None) -> dt.datetime | None:
    return None if us is None else dt.datetime.fromtimestamp(us / 1e6, dt.UTC)


def _rows(con: sqlite3.Connection) -> Iterator[tuple[Any, ...]]:
    yield from con.execute(
        "SELECT ip, family, code, first_seen, last_seen, expires, asn, as_name, reason, source "
        "FROM listing ORDER BY code, reason, ip"
    )


def write_rbldnsd(root: Path, handle: IO[str], zone: Zone) -> int:
    """The rbldnsd combined dataset; returns the addresses written (test points included)."""
    serial = state.serial(root)
    ns = " ".join(zone.nameservers)
    handle.write(
        "# rbldnsd combined dataset written by `sinkhole blocklist export`; serve with\n"
        "#   rbldnsd -b ADDR/PORT ZONE:combined:THIS-FILE\n"
        f"$SOA {zone.ttl} {zone.nameservers[0]} {zone.hostmaster} {serial} 3600 600 1209600 "
        f"{zone.ttl}\n$NS {zone.ttl} {ns}\n$TTL {zone.ttl}\n$DATASET ip4set:sinkhole-ipv4 @\n"
    )
    v6: list[tuple[str, int, str]] = []
    count = 0
    current: tuple[int, str] | None = None
    for ip, code, template in policy.entries(root):
        if ":" in ip:
            v6.append((ip, code, template))
            continue
        if (code, template) != current:
            current = (code, template)
            handle.write(f":{code}:{template}\n")
        handle.write(f"{ip}\n")
        count += 1
    handle.write("$DATASET ip6trie:sinkhole-ipv6 @\n")
    for ip, code, template in v6:
        text = template.replace("$", str(ipaddress.IPv6Address(ip)))
        handle.write(f"{ip} :{code}:{text}\n")
        count += 1
    return count


def write_text(root: Path, handle: IO[str]) -> int:
    """One listed address per line."""
    count = 0
    with state.connect(root) as con:
        for (ip,) in con.execute("SELECT ip FROM listing ORDER BY ip"):
            handle.write(f"{ip}\n")
            count += 1
    return count


def write_csv(root: Path, handle: IO[str]) -> int:
    """One row per listed address."""
    out = csv.writer(handle, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    count = 0
    with state.connect(root) as con:
        for ip, family, code, first, last, expires, asn, as_name, reason, source in _rows(con):
            out.writerow((ip, family or "", code, _iso(first), _iso(last), _iso(expires),
                          asn or "", as_name, reason, source))  # fmt: skip
            count += 1
    return count


def _iso(us: int | None) -> str:
    moment = _time(us)
    return "" if moment is None else moment.isoformat(timespec="seconds")


def _address_pattern(ip: str) -> str:
    kind = "ipv6-addr" if ":" in ip else "ipv4-addr"
    return f"[{kind}:value = '{ip}']"


#: Namespace of the STIX ids we derive (the same address in the same operation: the same id).
_STIX_NAMESPACE = uuid.UUID("6f2f1c0e-8a52-4c37-9d4e-2b1f3c6a7e01")


class _StixWriter:
    """Streams a STIX 2.1 bundle: stix2 objects for the few, their shape copied for the many.

    stix2 validates every property of every object it makes (about 0.3 ms for an
    Indicator and its Relationship: over a minute for a quarter of a million
    addresses). The Identity, each Malware and the first Indicator and Relationship
    of each kind are made by stix2; the others are the same dictionaries with their
    own values, written as they are built. A test parses whole bundles back with
    stix2's validating classes.
    """

    def __init__(self, handle: IO[str], zone: Zone) -> None:
        import stix2  # type: ignore[import-untyped]

        self.stix2 = stix2
        self.handle = handle
        self.zone = zone
        self.now = _stix_time(dt.datetime.now(dt.UTC))
        self.identity = stix2.Identity(name=zone.org, identity_class="organization")
        self.malware: dict[str, Any] = {}
        self.checked: set[str] = set()
        self.count = 0
        bundle = f"bundle--{uuid.uuid5(_STIX_NAMESPACE, zone.operation + self.now)}"
        handle.write(f'{{"type": "bundle", "id": "{bundle}", "objects": [')
        self._put(json.loads(self.identity.serialize()))

    def _put(self, obj: dict[str, Any]) -> None:
        self.handle.write((", " if self.count else "") + json.dumps(obj, ensure_ascii=False))
        self.count += 1

    def family(self, name: str | None) -> str:
        """The id of the family's Malware object (written on first use)."""
        key = name or "unknown"
        if key not in self.malware:
            malware = self.stix2.Malware(
                name=key, is_family=True, created_by_ref=self.identity,
                description=f"{key}: bots seen by the sinkhole of {self.zone.operation}",
            )  # fmt: skip
            self._put(json.loads(malware.serialize()))
            self.malware[key] = malware.id
        return str(self.malware[key])

    def indicator(self, kind: str, value: str, family: str | None, fields: dict[str, Any]) -> None:
        """An Indicator for `value` and its `indicates` Relationship to the family."""
        ident = f"indicator--{uuid.uuid5(_STIX_NAMESPACE, f'{self.zone.operation}/{value}')}"
        obj = {"type": "indicator", "spec_version": "2.1", "id": ident,
               "created_by_ref": self.identity.id, "created": self.now, "modified": self.now,
               "pattern_type": "stix", "pattern_version": "2.1", **fields}  # fmt: skip
        target = self.family(family)
        relation = {"type": "relationship", "spec_version": "2.1",
                    "id": f"relationship--{uuid.uuid5(_STIX_NAMESPACE, ident)}",
                    "created_by_ref": self.identity.id, "created": self.now,
                    "modified": self.now, "relationship_type": "indicates",
                    "source_ref": ident, "target_ref": target}  # fmt: skip
        if kind not in self.checked:  # the first of each shape goes through stix2 in full
            self.stix2.Indicator(**obj)
            self.stix2.Relationship(**relation)
            self.checked.add(kind)
        self._put(obj)
        self._put(relation)

    def close(self) -> None:
        """End the bundle."""
        self.handle.write("]}\n")


def _stix_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def write_stix(root: Path, handle: IO[str], zone: Zone) -> int:
    """A STIX 2.1 bundle: Malware per family, Indicators for addresses and C&C domains."""
    out = _StixWriter(handle, zone)
    out_now = dt.datetime.now(dt.UTC)
    count = 0
    with state.connect(root) as con:
        for ip, family, _code, first, _last, expires, _asn, _name, reason, _src in _rows(con):
            start = _time(first) or dt.datetime.now(dt.UTC)
            until = _time(expires)
            fields = {"name": f"bot address {ip}", "description": reason,
                      "indicator_types": ["compromised"], "pattern": _address_pattern(ip),
                      "valid_from": _stix_time(start)}  # fmt: skip
            if until is not None and until > start:
                fields["valid_until"] = _stix_time(until)
            out.indicator("ipv6" if ":" in ip else "ipv4", ip, family, fields)
            count += 1
        for domain, family, first in con.execute(
            "SELECT domain, family, first_seen FROM domains ORDER BY domain"
        ):
            fields = {"name": f"C&C domain {domain}",
                      "description": f"{family or 'botnet'} C&C domain, seized and sinkholed",
                      "indicator_types": ["malicious-activity"],
                      "pattern": f"[domain-name:value = '{domain}']",
                      "valid_from": _stix_time(_time(first) or out_now)}  # fmt: skip
            out.indicator("domain", domain, family, fields)
            count += 1
    out.close()
    return count


def write_misp(root: Path, handle: IO[str], zone: Zone) -> int:
    """A MISP event: ip-src and domain attributes, tagged with their family."""
    from pymisp import MISPAttribute, MISPEvent

    event = MISPEvent()
    event.info = f"{zone.operation}: bot addresses and C&C domains seen by the sinkhole"
    event.distribution = 0  # this organisation only, until the operator shares it
    event.threat_level_id = 2
    event.analysis = 2
    event.add_tag("tlp:amber")
    count = 0
    families: set[str] = set()
    with state.connect(root) as con:
        for ip, family, _code, first, last, _exp, _asn, _name, reason, _src in _rows(con):
            attribute = event.add_attribute(
                "ip-src", ip, category="Network activity", to_ids=True, comment=reason,
                first_seen=_time(first), last_seen=_time(last),
            )  # fmt: skip
            if family and isinstance(attribute, MISPAttribute):
                attribute.add_tag(f'sinkhole:family="{family}"')
                families.add(family)
            count += 1
        for domain, family, first, last in con.execute(
            "SELECT domain, family, first_seen, last_seen FROM domains ORDER BY domain"
        ):
            attribute = event.add_attribute(
                "domain", domain, category="Network activity", to_ids=True,
                comment=f"{family or 'botnet'} C&C domain, sinkholed",
                first_seen=_time(first), last_seen=_time(last),
            )  # fmt: skip
            if family and isinstance(attribute, MISPAttribute):
                attribute.add_tag(f'sinkhole:family="{family}"')
                families.add(family)
            count += 1
    for family in sorted(families):
        event.add_tag(f'sinkhole:family="{family}"')
    handle.write(event.to_json())
    handle.write("\n")
    return count


def export(root: Path, fmt: str, out: Path, zone: Zone) -> int:
    """Write the listing in `fmt` to `out` (temporary file in its folder, then renamed)."""
    if fmt not in FORMATS:
        raise BlocklistError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    writers: dict[str, Callable[[IO[str]], int]] = {
        "rbldnsd": lambda h: write_rbldnsd(root, h, zone),
        "text": lambda h: write_text(root, h),
        "csv": lambda h: write_csv(root, h),
        "stix": lambda h: write_stix(root, h, zone),
        "misp": lambda h: write_misp(root, h, zone),
    }
    state.serial(root)  # a missing or damaged listing: one clear error before any file
    out = Path(out)
    if out.is_dir():
        raise BlocklistError(f"--out {out}: a folder; give a file name")
    folder = out.parent
    if not folder.is_dir():
        raise BlocklistError(f"--out {out}: no folder {folder}")
    try:
        # a fresh name, created exclusively and 0600 (mkstemp): a link or file planted
        # under a guessable name in a shared folder is never followed or truncated
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise BlocklistError(f"cannot write {out}: {exc.strerror or exc}") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20) as handle:
            count = writers[fmt](handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BlocklistError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
