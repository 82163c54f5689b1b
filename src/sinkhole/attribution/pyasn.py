"""pyasn `.dat` files (pyasn_util_convert.py output): `; comment` lines, then `prefix<TAB>asn`."""

from __future__ import annotations

import re
from pathlib import Path

from sinkhole.attribution.table import Builder, Table, bad_row, lines, sample

KIND = "pyasn"

_ROW = re.compile(rb"^[0-9A-Fa-f:.]+/\d{1,3}\t\d+\s*$", re.MULTILINE)


def taste(start: bytes) -> bool:
    """Whether the file opens like a pyasn dump."""
    body = [ln for ln in sample(start)[:50] if not ln.startswith(b";")]
    return bool(body) and all(_ROW.match(ln) for ln in body)


def load(path: Path, name: str) -> Table:
    """Prefixes and their origin ASN."""
    builder = Builder(name, KIND)
    for number, line in lines(path):
        if not line.strip() or line.startswith(";"):
            continue
        prefix, sep, asn = line.partition("\t")
        try:
            if not sep:
                raise ValueError("expected prefix<TAB>asn")
            builder.add_network(prefix.strip(), asn=int(asn))
        except ValueError as exc:
            raise bad_row(path, number, str(exc)) from None
    return builder.build()
