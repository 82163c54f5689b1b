"""MaxMind DB files (`maxminddb`): GeoLite2/GeoIP2 ASN, Country and City, and look-alikes.

The database type in the metadata says what a record holds: `…ASN`/`…ISP`
give the AS number and organisation, `…Country`/`…City`/`…Enterprise` the
country (`country`, else `registered_country`). Any other type is refused, since
its records mean something else. The whole tree is walked once into a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import maxminddb
from maxminddb.errors import InvalidDatabaseError

from sinkhole.attribution.table import AttributionError, Builder, Table

KIND = "mmdb"

MARKER = b"\xab\xcd\xefMaxMind.com"

_AS_TYPES = ("ASN", "ISP")
_COUNTRY_TYPES = ("Country", "City", "Enterprise")


def taste(path: Path) -> bool:
    """Whether the file ends in a MaxMind DB metadata section."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - 128 * 1024))
            return MARKER in handle.read()
    except OSError:
        return False


def load(path: Path, name: str) -> Table:
    """Every network in the database, with what its type gives."""
    builder = Builder(name, KIND)
    try:
        with maxminddb.open_database(str(path)) as reader:
            kind = str(reader.metadata().database_type)
            as_type = any(t in kind for t in _AS_TYPES)
            if not as_type and not any(t in kind for t in _COUNTRY_TYPES):
                raise AttributionError(
                    f"{path}: MaxMind database type {kind!r} holds neither ASNs nor countries"
                )
            for network, record in reader:
                if not isinstance(record, dict):
                    continue
                if as_type:
                    asn = record.get("autonomous_system_number")
                    if not isinstance(asn, int) or asn == 0:
                        continue
                    org = record.get("autonomous_system_organization")
                    builder.add_network(str(network), asn=asn, as_name=str(org or ""))
                else:
                    country = _country(record)
                    if country:
                        builder.add_network(str(network), country=country)
    except (InvalidDatabaseError, ValueError, OSError, KeyError, TypeError) as exc:
        # the reader says InvalidDatabaseError for a damaged tree, other errors for bad metadata
        message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise AttributionError(f"{path}: not a readable MaxMind DB: {message}") from None
    return builder.build()


def _country(record: dict[Any, Any]) -> str:
    for key in ("country", "registered_country"):
        value = record.get(key)
        if isinstance(value, dict) and isinstance(value.get("iso_code"), str):
            return str(value["iso_code"]).upper()
    return ""
