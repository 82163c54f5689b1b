"""megad-sim: a SYNTHETIC family shaped like Mega-D (Ozdok), for labs and demos.

Mega-D's bots reached their C&C first through a list of reserved domains,
then through hard-coded DNS servers, and last through a date-based domain
generation algorithm; FireEye's 2009 takedown had to seize all three at once.
This family copies that structure with lab resources only: names under
``.example`` and ``.test``, resolvers and addresses in the documentation
ranges. Its DGA is our own design (HMAC-SHA256 over the date) and is NOT
Mega-D's real algorithm, which has not been published.

Its check-in protocol is SYNTHETIC too (our design, NOT Mega-D's), spoken by
the emulated bots and decoded by the sinkhole:

* HTTP: ``GET /cfg/<bot_id>?v=<version>&os=<machine>`` with
  ``User-Agent: megad-sim/<version>`` and the C&C name as ``Host``.
* Raw TCP or UDP: ``b"MGDS"``, one version byte, the 8 bot-id bytes, one
  length byte, then the machine name (ASCII).

``bot_id`` is 8 bytes, written as 16 lowercase hex digits; ``version`` is an
integer 1-255; ``machine`` is 1-63 characters of ``[A-Za-z0-9._-]``. The C&C
answers "no task": ``200 OK`` with an empty body over HTTP, ``b"MGDS\\x00"``
over raw TCP/UDP (5 bytes, never more than a check-in, so no amplification).

Active years: 2026-2027, the lab operation's window (examples/megad-sim.toml
starts 2026-12-01 and holds 30 days). Synthetic: no real bot ever used it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import BotFields, ParamValue

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_TLDS = ("example", "test")
# byte -> letter (b % 26), so a digest slice becomes a label in one translate()
_SPELL = bytes(ord(_LETTERS[b % 26]) for b in range(256))


class MegadSimDga(BaseDga):
    """Synthetic daily DGA: HMAC-SHA256(seed, date|index) spelled as letters."""

    name = "megad-sim"
    info = DgaInfo(
        period="daily",
        per_period=24,
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2026, 2027),
        params=(
            DgaParam("seed", "megad-sim-lab", "HMAC key shared by every bot of a build"),
            DgaParam("count", 24, "domains generated per day", minimum=1, maximum=100_000),
        ),
        notes="synthetic: designed for sinkhole's lab, not taken from any real sample",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's domains: label length 8-15, TLDs alternating."""
        keyed = hmac.new(str(params["seed"]).encode(), key.isoformat().encode(), hashlib.sha256)
        out = []
        for index in range(int(params["count"])):
            mac = keyed.copy()
            mac.update(b"|%d" % index)
            digest = mac.digest()
            label = digest[1 : 9 + digest[0] % 8].translate(_SPELL).decode()
            out.append(f"{label}.{_TLDS[index & 1]}")
        return out


#: The reserved domains the synthetic bots try first.
STATIC_DOMAINS = (
    "update-megad-sim.example",
    "stats-megad-sim.example",
    "relay-megad-sim.test",
    "cfg-megad-sim.test",
)

#: Hard-coded resolvers (documentation addresses, RFC 5737).
DNS_SERVERS = ("192.0.2.53", "198.51.100.53", "203.0.113.53")

#: First bytes of every raw check-in, and of the raw "no task" reply.
MAGIC = b"MGDS"
#: The raw reply: magic + status 0 ("no task").
RAW_REPLY = MAGIC + b"\x00"
CFG_PATH = b"/cfg/"
AGENT = "megad-sim/"

_HEX = frozenset(b"0123456789abcdefABCDEF")
_MACHINE = re.compile(rb"[A-Za-z0-9._-]{1,63}")
#: The check-in exactly as the bots send it: one C-speed match instead of a parse. It
#: matches the URL decoded as Latin-1 (byte for byte, never fails), so the fields come
#: out as text without a decode each.
_CHECKIN = re.compile(r"/cfg/([0-9a-fA-F]{16})\?v=([0-9]{1,3})&os=([A-Za-z0-9._-]{1,63})")


def _check(bot_id: str, version: int, machine: str) -> None:
    if len(bot_id) != 16 or not _HEX.issuperset(bot_id.encode()):
        raise ValueError(f"bot id {bot_id!r}: expected 16 hex digits")
    if not 1 <= version <= 255:
        raise ValueError(f"version {version}: expected 1-255")
    if not _MACHINE.fullmatch(machine.encode()):
        raise ValueError(f"machine name {machine!r}: expected 1-63 of [A-Za-z0-9._-]")


def checkin_http(
    bot_id: str, version: int, machine: str = "lab-pc", host: str = STATIC_DOMAINS[0]
) -> bytes:
    """One synthetic HTTP check-in request, as an emulated bot sends it."""
    _check(bot_id, version, machine)
    return (
        f"GET /cfg/{bot_id.lower()}?v={version}&os={machine} HTTP/1.1\r\n"
        f"Host: {host}\r\nUser-Agent: {AGENT}{version}\r\nAccept: */*\r\n\r\n"
    ).encode()


def checkin_raw(bot_id: str, version: int, machine: str = "lab-pc") -> bytes:
    """One synthetic raw (TCP or UDP) check-in message."""
    _check(bot_id, version, machine)
    name = machine.encode()
    return MAGIC + bytes((version,)) + bytes.fromhex(bot_id) + bytes((len(name),)) + name


class MegadSimDecoder:
    """Decodes the SYNTHETIC megad-sim check-ins described in this module's docstring."""

    name = "megad-sim"
    http_reply = b""
    raw_reply = RAW_REPLY

    def taste(self, data: bytes, port: int) -> float:
        """Certain for the raw magic, fairly sure for the HTTP check-in path."""
        if data.startswith(MAGIC):
            return 1.0
        if data.startswith(b"GET " + CFG_PATH):
            return 0.8
        return 0.0

    def decode_http(
        self, method: bytes, url: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> BotFields | None:
        """bot_id, version and machine_name from ``/cfg/<bot_id>?v=..&os=..``."""
        if not url.startswith(CFG_PATH):
            return None
        exact = _CHECKIN.fullmatch(url.decode("latin-1"))
        if exact is not None:
            bot, number, machine = exact.groups()
            return {
                "bot_id": bot.lower(),
                "version": number if number[0] != "0" else str(int(number)),
                "machine_name": machine,
            }
        path, _, query = url[len(CFG_PATH) :].partition(b"?")
        if len(path) != 16 or not _HEX.issuperset(path):
            return None
        fields = {"bot_id": path.decode("ascii").lower()}
        for part in query.split(b"&")[:8]:
            key, _, value = part.partition(b"=")
            if key == b"v" and value.isdigit() and len(value) <= 3:
                fields["version"] = str(int(value))
            elif key == b"os" and _MACHINE.fullmatch(value):
                fields["machine_name"] = value.decode("ascii")
        if "version" not in fields:
            for name, value in headers:
                if name == b"user-agent" and value.startswith(AGENT.encode()):
                    tail = value[len(AGENT) :]
                    if tail.isdigit() and len(tail) <= 3:
                        fields["version"] = str(int(tail))
        return fields

    def decode_raw(self, payload: bytes) -> BotFields | None:
        """bot_id, version and machine_name from a raw check-in (None if incomplete)."""
        if len(payload) < 14 or not payload.startswith(MAGIC) or payload[4] == 0:
            return None
        size = payload[13]
        name = payload[14 : 14 + size]
        if len(name) != size or not _MACHINE.fullmatch(name):
            return None
        return {
            "bot_id": payload[5:13].hex(),
            "version": str(payload[4]),
            "machine_name": name.decode("ascii"),
        }


FAMILY = Family(
    name="megad-sim",
    summary="SYNTHETIC Mega-D-shaped family: reserved domains, hard-coded resolvers, daily DGA",
    channels=(
        Channel("static-domains", domains=STATIC_DOMAINS, note="reserved domain list"),
        Channel("dns-servers", ips=DNS_SERVERS, note="resolvers hard-coded in the binary"),
        Channel("dga", dga=MegadSimDga(), note="synthetic date-based DGA"),
    ),
    references=("FireEye, 'Smashing the Mega-d/Ozdok botnet in 24 hours' (2009)",),
    synthetic=True,
    decoders=(MegadSimDecoder(),),
)
