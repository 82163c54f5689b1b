"""RIPE-style RPSL database dumps: `inetnum`/`inet6num` objects and their abuse contact.

An address block's abuse contact is the `abuse-mailbox` of the role its
`abuse-c` names, or of its organisation's `abuse-c`; a block without one
inherits its parent's (the flattening in `table` does that). The block's
`country:` is kept too. Objects are separated by blank lines; `%` and `#`
lines are comments; a line starting with space, tab or `+` continues the
attribute above.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path

from sinkhole.attribution.table import Builder, Table, bad_row, lines, sample

KIND = "rpsl"

_KEY = re.compile(rb"^([a-z][a-z0-9-]*):")
_CLASSES = {b"inetnum", b"inet6num", b"role", b"person", b"organisation", b"mntner", b"aut-num",
            b"route", b"route6", b"as-set", b"domain", b"irt"}  # fmt: skip

Object = tuple[int, list[tuple[str, str]]]


def taste(start: bytes) -> bool:
    """Whether the file opens like an RPSL dump."""
    for line in sample(start):
        if line.startswith((b"%", b"#")):
            continue
        key = _KEY.match(line)
        return key is not None and key.group(1) in _CLASSES
    return False


def load(path: Path, name: str) -> Table:
    """Address blocks with country and abuse contact."""
    blocks: list[Object] = []
    mailbox: dict[str, str] = {}  # nic-hdl of a role (or person) -> abuse-mailbox
    org_abuse: dict[str, str] = {}  # organisation -> its abuse-c
    for number, attrs in _objects(path):
        kind = attrs[0][0]
        if kind in ("inetnum", "inet6num"):
            blocks.append((number, attrs))
        elif kind in ("role", "person", "irt"):
            box = _first(attrs, "abuse-mailbox")
            handle = _first(attrs, "nic-hdl") or (attrs[0][1] if kind == "irt" else "")
            if box and handle:
                mailbox[handle.upper()] = box
        elif kind == "organisation":
            abuse_c = _first(attrs, "abuse-c")
            if abuse_c:
                org_abuse[attrs[0][1].upper()] = abuse_c
    builder = Builder(name, KIND)
    for number, attrs in blocks:
        kind, value = attrs[0]
        handle = _first(attrs, "abuse-c") or org_abuse.get(_first(attrs, "org").upper(), "")
        contact = mailbox.get(handle.upper(), "")
        country = _first(attrs, "country").upper()
        try:
            if kind == "inetnum":
                low, sep, high = value.partition("-")
                if not sep:
                    raise ValueError(f"inetnum {value!r}: expected FIRST - LAST")
                first = ipaddress.IPv4Address(low.strip())
                last = ipaddress.IPv4Address(high.strip())
                if last < first:
                    raise ValueError(f"inetnum {value!r} ends before it starts")
                builder.add(4, int(first), int(last), country=country, abuse_contact=contact)
            else:
                net = ipaddress.IPv6Network(value, strict=False)
                builder.add(
                    6,
                    int(net.network_address),
                    int(net.broadcast_address),
                    country=country,
                    abuse_contact=contact,
                )
        except ValueError as exc:
            raise bad_row(path, number, str(exc)) from None
    return builder.build()


def _first(attrs: list[tuple[str, str]], key: str) -> str:
    return next((value for k, value in attrs if k == key), "")


def _objects(path: Path) -> Iterator[Object]:
    """(first line number, [(key, value), …]) per object."""
    attrs: list[tuple[str, str]] = []
    start = 0
    for number, line in lines(path):
        if not line.strip():
            if attrs:
                yield start, attrs
            attrs = []
            continue
        if line.startswith(("%", "#")):
            continue
        if line[0] in " \t+":
            if attrs:  # a continuation line adds to the attribute above
                key, value = attrs[-1]
                attrs[-1] = (key, f"{value} {line[1:].strip()}".strip())
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise bad_row(path, number, f"expected `key: value`, got {line[:60]!r}")
        if not attrs:
            start = number
        # trailing `# comments` are not part of a value
        attrs.append((key.strip().lower(), value.split("#", 1)[0].strip()))
    if attrs:
        yield start, attrs
