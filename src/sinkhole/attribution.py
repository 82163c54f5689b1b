"""IP -> network: ASN, prefix, AS name, country and abuse contact.

Datasets are tables of prefixes; lookups are a binary search over their
sorted, non-overlapping ranges (most specific prefix wins where they nest).
The lab dataset shipped with sinkhole maps 127.0.0.0/8 sub-ranges to
fictional networks with documentation and private ASNs, so the demo, the
emulator and the tests run without any download.
"""

from __future__ import annotations

import bisect
import csv
import io
import ipaddress
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from sinkhole.exceptions import SinkholeError


class AttributionError(SinkholeError):
    """An attribution dataset could not be read."""


@dataclass(frozen=True)
class Network:
    """What is known about the network an address belongs to."""

    prefix: str
    asn: int
    as_name: str
    country: str
    abuse_contact: str


class Dataset:
    """A prefix table with fast lookups (IPv4 and IPv6 kept apart)."""

    def __init__(self, networks: list[Network]) -> None:
        self.networks = networks
        self._tables: dict[int, tuple[list[int], list[int], list[Network]]] = {}
        by_version: dict[int, list[tuple[int, int, Network]]] = {4: [], 6: []}
        for net in networks:
            parsed = ipaddress.ip_network(net.prefix, strict=False)
            by_version[parsed.version].append(
                (int(parsed.network_address), int(parsed.broadcast_address), net)
            )
        for version, rows in by_version.items():
            # longer prefixes last, so a nested range overrides its parent below
            rows.sort(key=lambda r: (r[0], -(r[1] - r[0])))
            self._tables[version] = (
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
            )

    def lookup(self, ip: str) -> Network | None:
        """The most specific network holding `ip`, or None."""
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        starts, ends, nets = self._tables[addr.version]
        value = int(addr)
        index = bisect.bisect_right(starts, value) - 1
        # walk back over ranges that start before `value` until one holds it; nesting is
        # shallow in real tables, so a few steps suffice
        for candidate in range(index, max(index - 64, -1), -1):
            if value <= ends[candidate]:
                return nets[candidate]
        return None


def load_csv(path: Path | str) -> Dataset:
    """A dataset from a CSV with columns prefix, asn, as_name, country, abuse_contact."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AttributionError(f"{path}: cannot read attribution dataset: {exc.strerror}") from None
    return _parse(text, str(path))


def lab() -> Dataset:
    """The shipped lab dataset."""
    text = files("sinkhole").joinpath("data/lab-networks.csv").read_text(encoding="utf-8")
    return _parse(text, "lab-networks.csv")


def _parse(text: str, where: str) -> Dataset:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    networks = []
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        try:
            ipaddress.ip_network(row["prefix"], strict=False)
            networks.append(
                Network(
                    row["prefix"],
                    int(row["asn"]),
                    row["as_name"],
                    row["country"],
                    row["abuse_contact"],
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise AttributionError(f"{where}: row {number}: {exc}") from None
    return Dataset(networks)
