"""Zone files for the people who serve seized names: NSD, BIND and RPZ.

Two layouts for authoritative servers:

* ``shared`` (default): one zone file, ``sinkhole.zone``, written with names
  relative to the origin, and a server configuration (``nsd.conf``,
  ``named.conf``) that loads it once per seized domain. A million seized
  domains cost one file and a million configuration lines.
* ``per-domain``: one file per seized domain under ``zones/``, each with its
  own ``$ORIGIN``, for registries and tools that want a file a zone.

Every zone answers the apex and any name below it (``*``) with the sinkhole
addresses. The RPZ zone lets an ISP's resolver redirect every planned name
(and its subdomains) to the sinkhole without touching the registries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, TextIO

from sinkhole.operation import Sinkhole

Layout = Literal["shared", "per-domain"]
TEMPLATE = "sinkhole.zone"


def serial(day: dt.date) -> int:
    """A YYYYMMDDnn zone serial for `day`."""
    return int(day.strftime("%Y%m%d")) * 100


def _soa(sink: Sinkhole, day: dt.date, primary: str) -> list[str]:
    return [
        f"$TTL {sink.ttl}",
        f"@\tIN\tSOA\t{primary}. {sink.hostmaster}. ({serial(day)} 3600 600 1209600 {sink.ttl})",
    ]


def zone_text(sink: Sinkhole, day: dt.date, origin: str | None = None) -> str:
    """A sinkhole zone: SOA, NS, and A/AAAA at the apex and under a wildcard."""
    lines = [f"$ORIGIN {origin}."] if origin else []
    lines += _soa(sink, day, sink.nameservers[0])
    lines += [f"@\tIN\tNS\t{ns}." for ns in sink.nameservers]
    for owner in ("@", "*"):
        lines += [f"{owner}\tIN\tA\t{ip}" for ip in sink.ipv4]
        lines += [f"{owner}\tIN\tAAAA\t{ip}" for ip in sink.ipv6]
    return "\n".join(lines) + "\n"


def write_rpz(out: TextIO, sink: Sinkhole, day: dt.date, names: Iterable[str]) -> None:
    """An RPZ zone that rewrites each name and its subdomains to the sinkhole."""
    out.write(f"$ORIGIN {sink.rpz_origin}.\n")
    out.write("\n".join(_soa(sink, day, sink.nameservers[0])) + "\n")
    out.write(f"@\tIN\tNS\t{sink.nameservers[0]}.\n")
    records = [("A", ip) for ip in sink.ipv4] + [("AAAA", ip) for ip in sink.ipv6]
    for name in names:
        for owner in (name, f"*.{name}"):
            for rtype, ip in records:
                out.write(f"{owner}\tIN\t{rtype}\t{ip}\n")


def write_zones(
    folder: Path, sink: Sinkhole, day: dt.date, names: list[str], layout: Layout = "shared"
) -> list[Path]:
    """Zone files and NSD/BIND configuration for `names`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if layout == "shared":
        template = folder / TEMPLATE
        template.write_text(zone_text(sink, day))
        written.append(template)
        files = dict.fromkeys(names, TEMPLATE)
    else:
        files = {}
        for name in names:
            path = folder / f"{name}.zone"
            path.write_text(zone_text(sink, day, origin=name))
            files[name] = path.name
    nsd = folder / "nsd.conf"
    with nsd.open("w") as out:
        out.write("# NSD zones for the seized domains; include from nsd.conf, zonesdir = here\n")
        for name, file in files.items():
            out.write(f'zone:\n\tname: "{name}"\n\tzonefile: "{file}"\n')
    bind = folder / "named.conf"
    with bind.open("w") as out:
        out.write("// BIND zones for the seized domains; set `directory` to this folder\n")
        for name, file in files.items():
            out.write(f'zone "{name}" {{ type primary; file "{file}"; }};\n')
    written += [nsd, bind]
    if layout == "per-domain":
        written += [folder / f for f in files.values()]
    return written
