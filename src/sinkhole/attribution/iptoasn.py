"""iptoasn.com TSV: `range_start range_end AS_number country_code AS_description`, tab-separated.

Ranges are inclusive and need not be CIDR-aligned; AS 0 marks space nobody
announces (skipped) and the country `None` an unknown one.
"""

from __future__ import annotations

import re
from pathlib import Path

from sinkhole.attribution.table import Builder, Table, address, bad_row, lines, sample

KIND = "iptoasn"

_ROW = re.compile(rb"^[0-9A-Fa-f:.]+\t[0-9A-Fa-f:.]+\t\d+\t[^\t]*\t[^\t]*$")


def taste(start: bytes) -> bool:
    """Whether the file opens like an iptoasn TSV."""
    body = sample(start)[:20]
    return bool(body) and all(_ROW.match(ln) for ln in body)


def load(path: Path, name: str) -> Table:
    """Ranges with ASN, country and AS name."""
    builder = Builder(name, KIND)
    for number, line in lines(path):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            if len(parts) < 5:
                raise ValueError(f"expected 5 tab-separated fields, got {len(parts)}")
            asn = int(parts[2])
            if asn == 0:
                continue
            version, first = address(parts[0])
            other, last = address(parts[1])
            if version != other or last < first:
                raise ValueError(f"{parts[0]} - {parts[1]} is not a range")
            country = "" if parts[3] in ("None", "") else parts[3].upper()
            builder.add(version, first, last, asn, parts[4].strip(), country)
        except ValueError as exc:
            raise bad_row(path, number, str(exc)) from None
    return builder.build()
