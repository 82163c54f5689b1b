"""The demo's blocklist act: list the week's bots, then ask the DNSBL as a mail server would.

Builds the listing from the offline week's store (judged at the week's last
event, so the act says the same whatever day it runs), serves it from a DNSBL
listener on a free loopback port inside this process (the same handler and
UDP/TCP loops `sinkhole dnsbl serve` runs), and looks a few addresses up with
dnspython: two listed bots (A and TXT), an address never seen, and the RFC 5782
test points. Takes a few seconds on the 264k-machine week.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from sinkhole import attribution, operation
from sinkhole.blocklist import policy, state
from sinkhole.events import store
from sinkhole.servers import claims, dnsbl
from sinkhole.servers.dns import TcpLimits, serve_dns

ZONE = "dnsbl.sinkhole.example"


@contextlib.contextmanager
def _serving(handler: dnsbl.DnsblHandler) -> Iterator[tuple[str, int]]:
    """The handler on 127.0.0.1 (UDP and TCP), in a thread of this process."""
    loop = asyncio.new_event_loop()
    # a free port for UDP and TCP, held (SO_REUSEPORT) until the listener has it, as
    # `sinkhole dnsbl serve` claims its port: no window for another program to take it
    ports, held = claims.claim([("127.0.0.1", 0, (socket.SOCK_DGRAM, socket.SOCK_STREAM))])
    port = ports[0]
    started = threading.Event()
    servers: list[Any] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            servers.extend(
                loop.run_until_complete(
                    serve_dns(handler, handler, "127.0.0.1", port, TcpLimits(), reuse_port=True)
                )
            )
        finally:
            claims.release(held)
        started.set()
        loop.run_forever()
        for server in servers:
            server.close()
        loop.close()

    thread = threading.Thread(target=run, name="demo-dnsbl", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the demo DNSBL did not start")
    try:
        yield "127.0.0.1", port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _name(ip: str) -> str:
    return dnsbl.reversed_name(ip).decode() + "." + ZONE


def _ask(address: tuple[str, int], ip: str, rdtype: str, tcp: bool) -> dict[str, Any]:
    query = dns.message.make_query(_name(ip), rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    reply = send(query, address[0], port=address[1], timeout=3)
    data = [rd.to_text() for rrset in reply.answer for rd in rrset]
    return {"ip": ip, "type": rdtype, "transport": "tcp" if tcp else "udp",
            "rcode": dns.rcode.to_text(reply.rcode()), "answer": data}  # fmt: skip


def run(op: operation.Operation, root: Path, networks: attribution.Attributor) -> dict[str, Any]:
    """Build the listing from the store at `root` and answer a few DNSBL lookups.

    Returns {"listed", "delisted", "excluded", "build_seconds", "lookups": [...]} for the
    demo to print; every lookup is a real DNS query over loopback.
    """
    began = time.monotonic()
    last = store.query(
        root, lambda con: con.execute("SELECT max(timestamp) FROM events").fetchone()
    )
    as_of = last[0] if last and last[0] is not None else dt.datetime.now(dt.UTC)
    sender = op.notify.from_address or "cert@sinkhole.example"
    counts = policy.build(root, networks, as_of=as_of, removal=f"write to {sender}")
    built = time.monotonic() - began
    with state.connect(root) as con:
        bots = [row[0] for row in con.execute(
            "SELECT ip FROM listing WHERE source = 'seen' ORDER BY last_seen DESC LIMIT 2"
        )]  # fmt: skip
    sink = op.sinkhole
    table = dnsbl.load_table(ZONE, policy.entries(root), sink.ttl, counts.serial)
    config = dnsbl.DnsblConfig(ZONE, "127.0.0.1", 0, sink.nameservers, sink.hostmaster, sink.ttl)
    records = dnsbl.records_for(config, counts.serial)
    handler = dnsbl.DnsblHandler(table, records, rate_limit=0)
    lookups: list[dict[str, Any]] = []
    with _serving(handler) as address:
        for ip in bots:
            lookups.append(_ask(address, ip, "A", tcp=False))
            lookups.append(_ask(address, ip, "TXT", tcp=True))
        for ip in ("192.0.2.1", "127.0.0.2", "127.0.0.1", "::ffff:7f00:2"):
            lookups.append(_ask(address, ip, "A", tcp=False))
    return {
        "listed": counts.listed,
        "delisted": counts.delisted,
        "excluded": counts.excluded,
        "build_seconds": round(built, 1),
        "seconds": round(time.monotonic() - began, 1),
        "lookups": lookups,
    }
