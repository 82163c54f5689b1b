"""ip-location-db ASN CSV (npm `@ip-location-db/asn`): `start,end,asn,"org"`, no header.

Both forms are read: addresses as text (`asn-ipv4.csv`) and as integers
(`asn-ipv4-num.csv`, where an integer above 2**32-1 or a `-ipv6-num` file is IPv6).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sinkhole.attribution.table import Builder, Table, address, bad_row, lines, sample

KIND = "ip-location-db"

_ROW = re.compile(rb'^[0-9A-Fa-f:.]+,[0-9A-Fa-f:.]+,\d+,("([^"]|"")*"|[^"]*)$')


def taste(start: bytes) -> bool:
    """Whether the file opens like an ip-location-db ASN CSV."""
    body = sample(start)[:20]
    return bool(body) and all(_ROW.match(ln) for ln in body)


def load(path: Path, name: str) -> Table:
    """Ranges with ASN and organisation name."""
    builder = Builder(name, KIND)
    six = "ipv6" in path.name
    numbered = ((number, row) for number, row in lines(path) if row.strip())
    for number, line in numbered:
        try:
            row = line.split(",") if '"' not in line else next(csv.reader([line]))
            if len(row) != 4:
                raise ValueError(f"expected start,end,asn,org, got {len(row)} fields")
            if row[0].isdigit() and row[1].isdigit():
                first, last = int(row[0]), int(row[1])
                version = 6 if six or last > 0xFFFFFFFF else 4
            else:
                (version, first), (other, last) = address(row[0]), address(row[1])
                if version != other:
                    raise ValueError(f"{row[0]} - {row[1]} mixes IPv4 and IPv6")
            if last < first:
                raise ValueError(f"{row[0]} - {row[1]} ends before it starts")
            builder.add(version, first, last, int(row[2]), row[3].strip())
        except ValueError as exc:
            raise bad_row(path, number, str(exc)) from None
    return builder.build()
