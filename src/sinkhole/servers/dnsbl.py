"""The DNSBL listener (RFC 5782): is this address on the blocklist?

A mail server asks for ``4.3.2.1.<zone>`` (IPv4, octets reversed) or the 32
reversed nibbles of an IPv6 address under the zone, type A or TXT. A listed
address gets an A record 127.0.0.x (the sublist code: which family, see
docs/blocklist.md) and a TXT record with the reason and how to be removed;
an unlisted one NXDOMAIN with the zone's SOA (negative caching, RFC 2308);
the zone's apex its SOA and NS; any name outside the zone REFUSED.

It runs on the sinkhole's DNS machinery: the same hand-written wire parser
(``dnswire``, with its FORMERR/NOTIMP/BADVERS choices), the same UDP loop and
TCP protocol (``dns.DnsUdp``, ``dns.DnsTcp``: limits, idle timeouts, pipelining),
the same per-prefix response-rate limit, the same reply cache keyed on the
query bytes after the ID, and workers sharing the port through SO_REUSEPORT.
Unlike the sinkhole's listener it records no events: its clients are mail
servers, not bots. A UDP answer is bounded by the client's payload size (512
octets without EDNS), as rbldnsd's: a TXT answer is longer than three times
its question, and mail servers should not fall back to TCP for every lookup;
the rate limit bounds what a forged source can draw.

The table is a dict from the reversed name (the labels before the zone, as
the query spells them, lowercased) to a shared group record, so an answer is
one dict lookup. It comes from a callable the caller provides (the blocklist
package; network code does not import analysis code) and is replaced whole:
a worker polls the listing's serial, builds the new table a slice at a time
between packets, then swaps it in with one assignment.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from sinkhole.exceptions import SinkholeError
from sinkhole.servers import claims
from sinkhole.servers import dnswire as wire
from sinkhole.servers.dns import CACHE_SIZE, DnsCounters, RateLimiter, TcpLimits, serve_dns

QTYPE_TXT = 16
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")


def _head(rd: int, arcount: int, rcode: int, answers: int, authority: int, tc: int) -> bytes:
    flags = 0x8400 | (tc << 9) | (rd << 8) | rcode
    return struct.pack("!HHHHH", flags, 1, answers, authority, arcount)


#: A reply's header after the ID, by [RD][ARCOUNT]: [answer, NXDOMAIN + SOA, answer
#: truncated, NXDOMAIN truncated].
_HEADS = [
    [
        (
            _head(rd, ar, 0, 1, 0, 0),
            _head(rd, ar, 3, 0, 1, 0),
            _head(rd, ar, 0, 0, 0, 1),
            _head(rd, ar, 3, 0, 0, 1),
        )
        for ar in (0, 1)
    ]
    for rd in (0, 1)
]
#: QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, the high octet of ARCOUNT 0.
_ONE_QUESTION = b"\x00\x01\x00\x00\x00\x00\x00"
#: Entries taken into a new table per step between packets (a few milliseconds).
LOAD_STEP = 5_000

#: (address text, 127.0.0.x code, TXT template with `$` standing for the address)
Entry = tuple[str, int, str]


class DnsblError(SinkholeError):
    """The DNSBL could not start."""


class Group:
    """What every address listed for one reason shares: its A record and its TXT template."""

    __slots__ = ("a_rr", "code", "template")

    def __init__(self, code: int, template: str, ttl: int) -> None:
        self.code = code
        self.template = template
        self.a_rr = b"\xc0\x0c" + _RR.pack(wire.QTYPE_A, 1, ttl, 4) + bytes((127, 0, 0, code))


def reversed_name(ip: str) -> bytes:
    """The labels a DNSBL query puts before the zone for `ip` (RFC 5782 section 2.1, 2.4)."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return ".".join(reversed(str(addr).split("."))).encode()
    return ".".join(reversed(addr.exploded.replace(":", ""))).encode()


def key_of(ip: str) -> bytes:
    """The table key of `ip`: its reversed labels in wire format, as a query carries them.

    `ip` in canonical form (as the listing keeps it); IPv4 is spelt out without parsing
    (a reload of a million addresses must not take a minute).
    """
    if ":" in ip:
        return wire.encode_name(reversed_name(ip).decode())[:-1]
    octets = ip.split(".")
    octets.reverse()
    return "".join([chr(len(octet)) + octet for octet in octets]).encode()


def address_of(key: bytes) -> str:
    """The address a table key stands for (the inverse of :func:`key_of`)."""
    labels = []
    pos = 0
    while pos < len(key):
        labels.append(key[pos + 1 : pos + 1 + key[pos]].decode())
        pos += key[pos] + 1
    labels.reverse()
    if len(labels) == 4:
        return ".".join(labels)
    return str(ipaddress.IPv6Address(int("".join(labels), 16)))


@dataclass
class DnsblTable:
    """The zone and its listed names; replaced whole on reload."""

    zone: bytes
    names: dict[bytes, Group]
    serial: int = 0
    zone_wire: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.zone_wire = wire.encode_name(self.zone.decode())


def _check_zone(zone: str) -> bytes:
    text = zone.strip().rstrip(".").lower()
    try:
        encoded = wire.encode_name(text)
    except (ValueError, UnicodeError):
        raise DnsblError(f"--zone {zone!r}: not a domain name") from None
    if not text or "." not in text or len(encoded) > 255 - 74:
        # room below it for the 32 nibble labels of an IPv6 query plus the zone
        raise DnsblError(f"--zone {zone!r}: expected a domain of two labels or more, not too long")
    if not all(ch.isalnum() or ch in "-._" for ch in text):
        raise DnsblError(f"--zone {zone!r}: letters, digits, '-' and '.' only")
    return text.encode()


def check_zone(zone: str) -> str:
    """The zone, normalised (lowercase, no trailing dot); DnsblError if it is no domain."""
    return _check_zone(zone).decode()


def table_steps(
    zone: str, entries: Iterable[Entry], ttl: int, serial: int = 0
) -> Iterator[DnsblTable | None]:
    """Build a table a slice at a time: yields None between slices, the table at the end."""
    groups: dict[tuple[int, str], Group] = {}
    names: dict[bytes, Group] = {}
    for count, (ip, code, template) in enumerate(entries, 1):
        key = (code, template)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(code, template, ttl)
        names[key_of(ip)] = group
        if count % LOAD_STEP == 0:
            yield None
    yield DnsblTable(_check_zone(zone), names, serial)


def load_table(zone: str, entries: Iterable[Entry], ttl: int, serial: int = 0) -> DnsblTable:
    """Build a whole table at once (start-up, tests)."""
    for step in table_steps(zone, entries, ttl, serial):
        if step is not None:
            return step
    raise AssertionError("unreachable")


@dataclass
class DnsblCounters:
    """What the DNSBL answered, beyond the shared DNS counters."""

    listed: int = 0
    not_listed: int = 0
    apex: int = 0
    reloads: int = 0


class DnsblHandler:
    """Parses and answers one DNSBL query; shared by the UDP loop and TCP connections."""

    def __init__(self, table: DnsblTable, records: wire.Records, rate_limit: int = 0) -> None:
        self.table = table
        self.records = records
        self.ttl = records.ttl
        self.limiter = RateLimiter(rate_limit)
        self.counters = DnsCounters()
        self.dnsbl = DnsblCounters()
        self.cache: dict[bytes, tuple[bytes, int]] = {}
        #: the SOA record of a negative answer, by where the zone starts in the question
        self.soa_at: dict[int, bytes] = {}

    def replace_table(self, table: DnsblTable, records: wire.Records | None = None) -> None:
        """Answer from `table` (and the SOA/NS `records`) from the next query on."""
        self.table = table
        if records is not None:
            self.records = records
        self.cache = {}
        self.soa_at = {}
        self.dnsbl.reloads += 1

    def handle(self, packet: bytes, src_ip: str, src_port: int, udp: bool) -> bytes | None:
        """The reply to send (None: nothing). The hot path: keep it lean."""
        self.counters.queries += 1
        found = self._fast(packet, udp)
        if found is None:
            key = packet[2:] if udp else b"t" + packet[2:]
            cached = self.cache.get(key)
            if cached is None:
                try:
                    query = wire.parse(packet)
                except wire.MalformedError as error:
                    self.counters.malformed += 1
                    return None if error.rcode is None else wire.error_reply(packet, error.rcode)
                reply, rcode = self._answer(packet, query, udp)
                if len(self.cache) >= CACHE_SIZE:
                    self.cache.clear()
                self.cache[key] = (reply[2:], rcode)
            else:
                tail, rcode = cached
                reply = packet[:2] + tail
        else:
            reply, rcode = found
        limiter = self.limiter
        if udp and limiter.per_second and not limiter.allow(src_ip, b"", rcode):
            self.counters.rate_limited += 1
            return None
        if rcode == wire.REFUSED:
            self.counters.refused += 1
        else:
            self.counters.answered += 1
        return reply

    def _fast(self, packet: bytes, udp: bool) -> tuple[bytes, int] | None:
        """(reply, rcode) to the usual query, A or TXT for a name below the zone with no or
        one bare OPT record; None for anything else (the full parser then decides)."""
        size = len(packet)
        if size < 17 or packet[2] & 0xF8 or packet[4:11] != _ONE_QUESTION or packet[11] > 1:
            return None
        table = self.table
        zone = table.zone_wire
        lowered = packet.lower()
        at = lowered.find(zone, 13)
        if at < 0:
            return None
        end = at + len(zone)
        qend = end + 4
        if packet[end + 2 : qend] != b"\x00\x01" or qend - 12 > wire.MAX_NAME:
            return None
        qtype = packet[end + 1] if not packet[end] else 0
        if qtype != wire.QTYPE_A and qtype != QTYPE_TXT:  # noqa: PLR1714 (hot path)
            return None
        if packet[11]:
            if (
                size != qend + 11
                or packet[qend : qend + 3] != b"\x00\x00\x29"
                or packet[qend + 6]  # EDNS version
                or packet[qend + 9 : qend + 11] != b"\x00\x00"
            ):
                return None
            limit = max(512, (packet[qend + 3] << 8) | packet[qend + 4]) if udp else 65535
            opt = wire.OPT_DO if packet[qend + 7] & 0x80 else wire.OPT
        elif size != qend:
            return None
        else:
            limit = 512 if udp else 65535
            opt = b""
        name = lowered[12:at]
        group = table.names.get(name)
        rd = packet[2] & 1  # QR, opcode, AA, TC are 0 (checked above); only RD is echoed
        more = 1 if opt else 0
        if group is None:
            pos = 12
            while pos < at:  # the labels before the zone must be labels
                length = packet[pos]
                if not 0 < length < 64:
                    return None
                pos += length + 1
            if pos != at:
                return None
            self.dnsbl.not_listed += 1
            soa = self.soa_at.get(at)
            if soa is None:
                soa = self.soa_at[at] = self.records.soa(at, qend)
            head = _HEADS[rd][more][1]
            rcode, records = wire.NXDOMAIN, soa
        else:
            self.dnsbl.listed += 1
            records = group.a_rr if qtype == wire.QTYPE_A else self._txt(group, name)
            head = _HEADS[rd][more][0]
            rcode = wire.NOERROR
        reply = b"".join((packet[:2], head, packet[12:qend], records, opt))
        if len(reply) > limit:  # too big for this UDP query: TC, the client asks over TCP
            reply = b"".join((packet[:2], _HEADS[rd][more][2 + (rcode == wire.NXDOMAIN)],
                              packet[12:qend], opt))  # fmt: skip
        return reply, rcode

    def _answer(self, packet: bytes, query: wire.Query, udp: bool) -> tuple[bytes, int]:
        """(reply, rcode) to a query no cache knows."""
        limit = (query.payload if query.edns else 512) if udp else 65535
        if not query.question:
            reply = wire.build(packet, query, wire.NOERROR, None, -1, False, False, limit)
            return reply, wire.NOERROR
        zone = self.table.zone
        qname = query.qname
        labels = query.label_wire
        below = qname.endswith(b"." + zone)
        apex_index = len(labels) - (zone.count(b".") + 1)
        if (
            not (below or qname == zone)
            or query.clean > apex_index  # a label with a dot in it where the zone starts
            or query.qclass not in (1, 255)
        ):
            return wire.build(packet, query, wire.REFUSED, None, -1, False, False, limit), 5
        qtype = query.qtype
        if qtype in (wire.QTYPE_AXFR, wire.QTYPE_IXFR):
            rcode = wire.NOTIMP if udp and qtype == wire.QTYPE_AXFR else wire.REFUSED
            self.counters.zone_transfers += 1
            return wire.build(packet, query, rcode, None, -1, False, False, limit), rcode
        if not below:
            self.dnsbl.apex += 1
            reply = wire.build(packet, query, wire.NOERROR, self.records, 0, True, False, limit)
            return reply, wire.NOERROR
        if query.edns and query.edns_version:
            return wire.build(packet, query, wire.NOERROR, None, -1, False, False, limit), 0
        name = packet[12 : labels[apex_index]].lower()
        group = self.table.names.get(name)
        question = packet[12 : query.question_end]
        here = 12 + len(question)
        if group is None:
            self.dnsbl.not_listed += 1
            soa = self.records.soa(labels[apex_index], here)
            return self._reply(query, question, wire.NXDOMAIN, b"", 0, soa, limit), 3
        self.dnsbl.listed += 1
        answer = b""
        count = 0
        if qtype in (wire.QTYPE_A, wire.QTYPE_ANY):
            answer, count = group.a_rr, 1
        if qtype in (QTYPE_TXT, wire.QTYPE_ANY):
            answer += self._txt(group, name)
            count += 1
        if count:
            return self._reply(query, question, wire.NOERROR, answer, count, b"", limit), 0
        soa = self.records.soa(labels[apex_index], here)  # NODATA: the SOA, no answer
        return self._reply(query, question, wire.NOERROR, b"", 0, soa, limit), 0

    def _txt(self, group: Group, name: bytes) -> bytes:
        template = group.template
        text = template.replace("$", address_of(name)) if "$" in template else template
        data = text.encode("utf-8")[:255]
        return (
            b"\xc0\x0c"
            + _RR.pack(QTYPE_TXT, 1, self.ttl, len(data) + 1)
            + bytes((len(data),))
            + data
        )

    def _reply(
        self,
        query: wire.Query,
        question: bytes,
        rcode: int,
        answer: bytes,
        n_an: int,
        authority: bytes,
        limit: int,
    ) -> bytes:
        flags = 0x8000 | (query.flags & 0x7900) | 0x0400 | rcode
        opt, n_ar = (wire.OPT_DO if query.do else wire.OPT, 1) if query.edns else (b"", 0)
        n_ns = 1 if authority else 0
        head = _HEADER.pack(query.ident, flags, 1, n_an, n_ns, n_ar)
        reply = head + question + answer + authority + opt
        if len(reply) > limit:
            # too big for this UDP query: truncated, the client asks again over TCP
            head = _HEADER.pack(query.ident, flags | 0x0200, 1, 0, 0, n_ar)
            reply = head + question + opt
        return reply


# -- the process: a parent that folds and watches, workers that answer -------------------


@dataclass
class DnsblConfig:
    """Everything `sinkhole dnsbl serve` runs with."""

    zone: str
    host: str
    port: int
    nameservers: tuple[str, ...]
    hostmaster: str
    ttl: int = 300
    workers: int = 1
    rate_limit: int = 1000
    #: seconds between two looks at the listing's serial (in each worker)
    poll: float = 1.0
    #: seconds between two folds of the store into the listing (in the parent)
    refresh: float = 60.0
    limits: TcpLimits = field(default_factory=TcpLimits)


@dataclass
class Source:
    """Where the listing comes from: its serial, its entries, and how to bring it up to date."""

    serial: Callable[[], int]
    entries: Callable[[], Iterable[Entry]]
    #: fold the store's new events into the listing; returns a line to print, or None
    refresh: Callable[[], str | None] | None = None


def records_for(config: DnsblConfig, serial: int) -> wire.Records:
    """The zone's SOA (its serial: the listing's) and NS record bytes."""
    return wire.Records((), (), config.nameservers, config.hostmaster, config.ttl, serial)


class _Worker:
    def __init__(
        self, index: int, config: DnsblConfig, source: Source, table: DnsblTable, pipe: Connection
    ) -> None:
        self.index = index
        self.config = config
        self.source = source
        self.pipe = pipe
        records = records_for(config, table.serial)
        self.handlers = [
            DnsblHandler(table, records, config.rate_limit),
            DnsblHandler(table, records, config.rate_limit),
        ]
        self.table = table

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
        loop.add_signal_handler(signal.SIGINT, stopping.set)
        loop.add_reader(self.pipe.fileno(), stopping.set)  # the parent is gone (or says stop)
        config = self.config
        try:
            udp, tcp = await serve_dns(
                self.handlers[0],
                self.handlers[1],
                config.host,
                config.port,
                config.limits,
                reuse_port=True,
                workers=config.workers,
            )
        except OSError as exc:
            self.pipe.send(("error", f"cannot listen on {config.host}:{config.port}: {exc}"))
            return
        self.pipe.send(("ready", len(self.table.names)))
        gc.freeze()
        watcher = asyncio.create_task(self._watch())
        await stopping.wait()
        watcher.cancel()
        udp.close()
        tcp.close()

    async def _watch(self) -> None:
        """Take in a new listing whenever its serial changes."""
        while True:
            await asyncio.sleep(self.config.poll)
            try:
                serial = self.source.serial()
                if serial == self.table.serial:
                    continue
                new: DnsblTable | None = None
                for step in table_steps(
                    self.config.zone, self.source.entries(), self.config.ttl, serial
                ):
                    new = step
                    await asyncio.sleep(0)
            except SinkholeError as exc:
                _to_stderr(f"worker {self.index}: keeping the old listing: {exc.message}")
                continue
            if new is not None:
                self.table = new
                records = records_for(self.config, new.serial)
                for handler in self.handlers:
                    handler.replace_table(new, records)  # no query sees half of it
                gc.collect()
                gc.freeze()


def _to_stderr(line: str) -> None:
    sys.stderr.write(f"sinkhole: {line}\n")
    sys.stderr.flush()


def _worker_main(
    index: int,
    config: DnsblConfig,
    source: Source,
    pipe: Connection,
    held: list[socket.socket],
    parent: int,
    siblings: list[Connection],
) -> None:
    from sinkhole.servers.worker import die_with_parent

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not die_with_parent(parent):
        return
    for sock in held:
        sock.close()
    # the parent's ends of this worker's pipe and the earlier ones', inherited through fork:
    # held open here they would hide the parent's close (the stop signal) from the workers
    for other in siblings:
        other.close()
    # each worker builds its own table: one built in the parent and shared through fork
    # would be copied page by page anyway (the parent freeing it writes to every page)
    try:
        table = load_table(config.zone, source.entries(), config.ttl, source.serial())
    except SinkholeError as exc:
        pipe.send(("error", exc.message))
        return
    worker = _Worker(index, config, source, table, pipe)
    try:
        import uvloop

        uvloop.run(worker.run())
    except ImportError:
        asyncio.run(worker.run())


def serve(
    config: DnsblConfig,
    source: Source,
    say: Callable[[str], None] = print,
    stop_after: float | None = None,
) -> None:
    """Answer DNSBL queries until SIGTERM/SIGINT (or `stop_after` seconds)."""
    import multiprocessing

    deadline = None if stop_after is None else time.monotonic() + stop_after
    check_zone(config.zone)
    if not 1 <= config.workers <= 64:
        raise DnsblError(f"--workers {config.workers}: expected 1 to 64")
    source.serial()  # a missing or damaged listing: one clear error before any fork
    ports, held = claims.claim(
        [(config.host, config.port, (socket.SOCK_DGRAM, socket.SOCK_STREAM))]
    )
    config.port = ports[0]
    ctx = multiprocessing.get_context("fork")
    flags = {"stop": False}

    def on_signal(_signum: int, _frame: Any) -> None:
        flags["stop"] = True

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    procs: list[Any] = []
    pipes: list[Connection] = []
    try:
        for index in range(config.workers):
            mine, theirs = ctx.Pipe(duplex=True)
            pipes.append(mine)
            proc = ctx.Process(
                target=_worker_main,
                args=(index, config, source, theirs, held, os.getpid(), list(pipes)),
                name=f"sinkhole-dnsbl-w{index}",
            )
            proc.start()
            theirs.close()
            procs.append(proc)
        listed = 0
        for pipe in pipes:
            try:
                status, detail = pipe.recv()
            except EOFError:
                status, detail = "error", "a worker exited while starting"
            if status != "ready":
                raise DnsblError(str(detail))
            listed = int(detail)
        claims.release(held)
        shown = f"[{config.host}]" if ":" in config.host else config.host
        say(f"listed addresses: {listed - 2:,} (+2 test points); zone: {config.zone}")
        say(f"listening dnsbl {shown}:{config.port}")
        say("ready")
        with contextlib.suppress(AttributeError):
            sys.stdout.flush()
        next_fold = time.monotonic()  # the first fold at once: what serve wrote meanwhile
        while not flags["stop"] and all(p.is_alive() for p in procs):
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if source.refresh is not None and now >= next_fold:
                try:
                    line = source.refresh()
                except SinkholeError as exc:
                    _to_stderr(f"listing not updated: {exc.message}")
                else:
                    if line:
                        say(line)
                next_fold = time.monotonic() + config.refresh
            time.sleep(0.05)
        if not flags["stop"] and not all(p.is_alive() for p in procs) and deadline is None:
            raise DnsblError("a DNSBL worker stopped unexpectedly; the others were stopped")
    finally:
        for pipe in pipes:
            pipe.close()  # end-of-file: the workers stop
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        claims.release(held)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
