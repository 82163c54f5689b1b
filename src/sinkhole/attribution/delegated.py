"""RIR delegated statistics: `registry|cc|type|start|value|date|status[|extensions]`.

They give a country per allocation only (an IPv4 `value` is an address count,
an IPv6 one a prefix length); version, summary and ASN lines are skipped, and
so is space with no country (available, reserved, `ZZ`).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from sinkhole.attribution.table import Builder, Table, bad_row, lines, sample

KIND = "rir-delegated"

_ROW = re.compile(rb"^[a-z]+\|[A-Za-z*]*\|(ipv4|ipv6|asn|\*)\|[^|]*\|[^|]*\|")
_VERSION = re.compile(rb"^\d+(\.\d+)?\|[a-z]+\|")


def taste(start: bytes) -> bool:
    """Whether the file opens like delegated statistics."""
    body = [ln for ln in sample(start)[:30] if not ln.startswith(b"#")]
    return bool(body) and all(_ROW.match(ln) or _VERSION.match(ln) for ln in body)


def load(path: Path, name: str) -> Table:
    """Allocations and assignments with their country."""
    builder = Builder(name, KIND)
    for number, line in lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("|")
        if len(parts) < 7 or parts[2] not in ("ipv4", "ipv6") or parts[1] in ("*", "", "ZZ"):
            continue  # version line, summary line, ASN or unassigned space
        try:
            first = ipaddress.ip_address(parts[3])
            value = int(parts[4])
            if parts[2] == "ipv4":
                if first.version != 4 or value < 1:
                    raise ValueError(f"{parts[3]}|{parts[4]} is not an IPv4 block")
                last = int(first) + value - 1
            else:
                net = ipaddress.ip_network(f"{parts[3]}/{value}")
                last = int(net.broadcast_address)
            if last >= 1 << (32 if first.version == 4 else 128):
                raise ValueError(f"{parts[3]}|{parts[4]} runs past the end of the address space")
            builder.add(first.version, int(first), last, country=parts[1].upper())
        except ValueError as exc:
            raise bad_row(path, number, str(exc)) from None
    return builder.build()
