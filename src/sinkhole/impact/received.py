"""A spam trap message's sender: the first external hop of its Received headers.

Each server a message passes prepends a ``Received:`` header naming the client
it took the message from (``from helo (rdns [192.0.2.10]) by mx.example ...;
date``), so the topmost header was written by the trap's own server and names
the machine that handed it the message: for spam straight from a bot, the bot.
Hops are skipped while they are the trap's own: headers without an address
(local delivery), a content filter handing the message back on localhost
(``from localhost (localhost [127.0.0.1])``), and clients in the trusted
networks given. The hop's time is the date after its ``;`` (the Date header
when that is missing: a sender writes that one, so it is the fallback only).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

import pyarrow as pa

from sinkhole.impact import mta

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]

_FROM = re.compile(r"^\s*from\s+(.*?)(?:\s+by\s|;|$)", re.IGNORECASE | re.DOTALL)
_ADDRESS = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]")
_PARSER = BytesHeaderParser(policy=compat32)
#: Header blocks larger than this are malformed (a trap message's headers are a few kB).
MAX_HEADER_BYTES = 1 << 20


def _when(text: str) -> dt.datetime | None:
    try:
        stamp = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if stamp is None:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def first_external_hop(message: Message, trusted: Networks = ()) -> tuple[str, dt.datetime] | None:
    """(client address, time) of the first hop outside the trap, or None."""
    for header in message.get_all("Received") or []:
        text = " ".join(str(header).split())
        found = _FROM.match(text)
        if not found:
            continue
        part = found.group(1)
        where = _ADDRESS.search(part)
        if where is None:
            continue
        try:
            address = ipaddress.ip_address(where.group(1))
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        name = part.split()[0].lower() if part.split() else ""
        if address.is_loopback and name in ("localhost", "localhost.localdomain", "(localhost"):
            continue
        if any(address in net for net in trusted):
            continue
        _, _, date = text.rpartition(";")
        when = _when(date) if ";" in text else None
        if when is None:
            when = _when(str(message.get("Date", "")))
        if when is None:
            return None
        return str(address), when
    return None


@dataclass
class Tally:
    """Messages counted per (address, second), with the ones that could not be placed."""

    counts: Counter[tuple[str, int]] = field(default_factory=Counter)
    lines: int = 0
    malformed: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, raw: bytes, where: str, trusted: Networks) -> None:
        """Count one message from its header bytes."""
        self.lines += 1
        if len(raw) > MAX_HEADER_BYTES:
            self.bad(f"{where}: headers over {MAX_HEADER_BYTES} bytes")
            return
        hop = first_external_hop(_PARSER.parsebytes(raw), trusted)
        if hop is None:
            self.bad(f"{where}: no Received header with a client address and a date")
            return
        address, when = hop
        self.counts[(address, int(when.timestamp()))] += 1

    def bad(self, example: str) -> None:
        """Count one message that could not be placed."""
        self.malformed += 1
        if len(self.examples) < 3:
            self.examples.append(example)

    def scan(self) -> mta.Scan:
        """The tally as the parsers' common result."""
        table = pa.table(
            {
                "ip": pa.array([k[0] for k in self.counts], pa.string()),
                "second": pa.array([k[1] for k in self.counts], pa.int64()),
                "kind": pa.array(["message"] * len(self.counts), pa.string()),
                "n": pa.array(list(self.counts.values()), pa.int64()),
            },
            schema=mta.SCHEMA,
        )
        return mta.Scan(table, self.lines, self.malformed, self.examples)
