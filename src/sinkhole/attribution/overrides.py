"""The overrides CSV (the shape of the shipped lab table): it wins over every other dataset.

A header `prefix,asn,as_name,country,abuse_contact`, `#` comment lines; any
field but the prefix may be empty. A row that gives `asn` and no prefix sets
its other fields (the abuse contact, typically) for every prefix of that ASN,
whichever dataset attributed the address to it.
"""

from __future__ import annotations

import csv
import ipaddress
from pathlib import Path

from sinkhole.attribution.table import Builder, Table, bad_row, lines, sample

KIND = "overrides"

HEADER = ("prefix", "asn", "as_name", "country", "abuse_contact")


def taste(start: bytes) -> bool:
    """Whether the file opens with the overrides header."""
    for line in sample(start):
        if line.startswith(b"#"):
            continue
        names = [n.strip() for n in line.decode("utf-8", "replace").lower().split(",")]
        return names[:1] == ["prefix"] and "asn" in names
    return False


def load(path: Path, name: str) -> Table:
    """Prefix rows and per-ASN rows."""
    builder = Builder(name, KIND)
    header: list[str] = []
    for number, line in lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            [row] = list(csv.reader([line]))
        except (csv.Error, ValueError) as exc:
            raise bad_row(path, number, str(exc)) from None
        if not header:
            header = [n.strip().lower() for n in row]
            missing = [n for n in ("prefix", "asn") if n not in header]
            unknown = [n for n in header if n not in HEADER]
            if missing or unknown:
                raise bad_row(
                    path, number, f"header must name {', '.join(HEADER)} (got {line[:80]!r})"
                )
            continue
        if len(row) != len(header):
            raise bad_row(path, number, f"expected {len(header)} fields, got {len(row)}")
        fields = {k: v.strip() for k, v in zip(header, row, strict=True)}
        try:
            text = fields.get("asn", "").upper().removeprefix("AS")
            if text and not text.isdigit():
                raise ValueError(f"asn {fields['asn']!r} is not an AS number")
            asn = int(text) if text else 0
            if not 0 <= asn < 2**32:
                raise ValueError(f"AS number {asn} out of range")
            attrs = {
                "as_name": fields.get("as_name", ""),
                "country": fields.get("country", "").upper(),
                "abuse_contact": fields.get("abuse_contact", ""),
            }
            if fields["prefix"]:
                ipaddress.ip_network(fields["prefix"], strict=False)
                builder.add_network(fields["prefix"], asn=asn, **attrs)
            elif asn:
                builder.by_asn[asn] = {k: v for k, v in attrs.items() if v}
            else:
                raise ValueError("a row needs a prefix or an asn")
        except ValueError as exc:
            raise bad_row(path, number, str(exc)) from None
    if not header:
        raise bad_row(path, 1, f"no header line ({','.join(HEADER)})")
    return builder.build()
