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
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sinkhole.blocklist import policy, state
from sinkhole.blocklist.state import BlocklistError
from sinkhole.events import private

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


def write_stix(root: Path, handle: IO[str], zone: Zone) -> int:
    """A STIX 2.1 bundle: Malware per family, Indicators for addresses and C&C domains."""
    import stix2  # type: ignore[import-untyped]

    identity = stix2.Identity(name=zone.org, identity_class="organization")
    malware: dict[str, Any] = {}
    objects: list[Any] = [identity]

    def family_object(name: str | None) -> Any:
        key = name or "unknown"
        if key not in malware:
            malware[key] = stix2.Malware(
                name=key, is_family=True, created_by_ref=identity,
                description=f"{key}: bots seen by the sinkhole of {zone.operation}",
            )  # fmt: skip
            objects.append(malware[key])
        return malware[key]

    count = 0
    with state.connect(root) as con:
        for ip, family, _code, first, _last, expires, _asn, _name, reason, _src in _rows(con):
            start = _time(first) or dt.datetime.now(dt.UTC)
            until = _time(expires)
            indicator = _Indicator(
                name=f"bot address {ip}", description=reason, pattern=_address_pattern(ip),
                pattern_type="stix", valid_from=start,
                valid_until=until if until is not None and until > start else None,
                indicator_types=["compromised"], created_by_ref=identity,
            )  # fmt: skip
            objects.append(indicator)
            if family:
                objects.append(_relation(stix2, indicator, family_object(family), identity))
            count += 1
        for domain, family, first in con.execute(
            "SELECT domain, family, first_seen FROM domains ORDER BY domain"
        ):
            indicator = _Indicator(
                name=f"C&C domain {domain}", pattern=f"[domain-name:value = '{domain}']",
                pattern_type="stix", valid_from=_time(first),
                indicator_types=["malicious-activity"],
                description=f"{family or 'botnet'} C&C domain, seized and sinkholed",
                created_by_ref=identity,
            )  # fmt: skip
            objects.append(indicator)
            objects.append(_relation(stix2, indicator, family_object(family), identity))
            count += 1
    handle.write(stix2.Bundle(objects=objects, allow_custom=False).serialize(pretty=False))
    handle.write("\n")
    return count


def _relation(stix2: Any, source: Any, target: Any, identity: Any) -> Any:
    return stix2.Relationship(source, "indicates", target, created_by_ref=identity)


def _stix_indicator() -> Any:
    import stix2

    class FastIndicator(stix2.v21.Indicator):  # type: ignore[misc]
        """An Indicator whose pattern we wrote from a checked address or domain.

        stix2 runs its ANTLR pattern parser on every Indicator (about 0.5 ms each, minutes
        for a quarter of a million addresses); our patterns have one fixed shape, and a
        test parses a whole bundle back with stix2's own validating classes.
        """

        def _check_object_constraints(self) -> None:
            pattern_type = self.get("pattern_type")
            self._inner["pattern_type"] = "sinkhole-checked"
            try:
                super()._check_object_constraints()
            finally:
                self._inner["pattern_type"] = pattern_type

    return FastIndicator


class _LazyIndicator:
    """Builds the fast Indicator class on first use (stix2 is imported only for STIX)."""

    cls: Any = None

    def __call__(self, **kwargs: Any) -> Any:
        if self.cls is None:
            self.cls = _stix_indicator()
        return self.cls(**kwargs)


_Indicator = _LazyIndicator()


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
    tmp = folder / f".{out.name}.{os.getpid()}.tmp"
    try:
        with private.open_file(tmp, "w", encoding="utf-8", buffering=1 << 20) as handle:
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
