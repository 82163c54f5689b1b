"""Live proof that a takedown holds: every planned name, asked of the resolvers given.

Each planned name (the whole window, or the names held on one day) is resolved
through each resolver the operator names, and only through those: the queries go
straight to them (dnspython's asyncio query functions, never the system's stub
resolver), concurrently and at a bounded rate. A name lands when every address in
the answer is a sinkhole address; anything else is open: NXDOMAIN, NODATA, another
address, SERVFAIL, REFUSED, a timeout. Open names are grouped by TLD and by who
must act: the registry of the TLD, or (for names no registry can seize) whoever
runs the resolver, through RPZ.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
from aiolimiter import AsyncLimiter

from sinkhole import tlds
from sinkhole.exceptions import SinkholeError
from sinkhole.operation import Operation, parse_address

#: Called as progress(done, total) while names are checked.
Progress = Callable[[int, int], None]

LANDS = "sinkhole"
STATUSES = (LANDS, "nxdomain", "nodata", "other", "servfail", "refused", "timeout", "error")


class VerifyError(SinkholeError):
    """The verification was asked for something it will not do."""


@dataclass(frozen=True)
class Resolver:
    """One resolver to ask: an address and a port."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Resolver:
        """HOST[:PORT] (IPv6 as [HOST]:PORT, or bare); the port defaults to 53."""
        try:  # a bare IPv6 address (::1) would otherwise read as HOST ':' PORT '1'
            return cls(str(ipaddress.ip_address(text.strip())), 53)
        except ValueError:
            pass
        try:
            host, port = parse_address(text, default_port=53)
        except ValueError as exc:
            raise VerifyError(f"--resolver {text!r}: {exc}") from None
        if port == 0:
            raise VerifyError(f"--resolver {text!r}: port 0 is no resolver's port")
        return cls(host, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    """What one resolver said about one name."""

    name: str
    resolver: str
    status: str
    addresses: tuple[str, ...] = ()
    detail: str = ""

    @property
    def lands(self) -> bool:
        """Whether the name led to the sinkhole."""
        return self.status == LANDS

    @property
    def text(self) -> str:
        """The answer as one field: the addresses, else the detail, else '-'."""
        return ",".join(self.addresses) or self.detail or "-"


def names_to_check(domains: dict[str, tuple[dt.date, dt.date]], day: dt.date | None) -> list[str]:
    """Every planned name, or those the plan holds on `day`, sorted by TLD then name."""
    chosen = [n for n, (a, b) in domains.items() if day is None or a <= day <= b]
    return sorted(chosen, key=lambda n: (tlds.tld_of(n), n))


def who_acts(name: str, op: Operation) -> str:
    """Who can make `name` land: its TLD's registry, or the resolver's operator (RPZ)."""
    tld = tlds.tld_of(name)
    if tlds.why_unseizable(tld, op) is not None:
        return f"the resolver's operator: RPZ (no registry for .{tld})"
    return f"registry of .{tld}"


async def _ask(
    name: str,
    resolver: Resolver,
    qtype: dns.rdatatype.RdataType,
    sinkhole: frozenset[str],
    timeout: float,
    tries: int,
    limiter: AsyncLimiter,
) -> Answer:
    where = str(resolver)
    query = dns.message.make_query(name, qtype)
    for _ in range(tries):
        async with limiter:  # every try is a query: each one waits for the bucket
            pass
        try:
            reply, _tcp = await dns.asyncquery.udp_with_fallback(
                query, resolver.host, timeout=timeout, port=resolver.port
            )
            break
        except dns.exception.Timeout:
            continue
        except (OSError, dns.exception.DNSException) as exc:
            return Answer(name, where, "error", detail=type(exc).__name__)
    else:
        return Answer(name, where, "timeout", detail=f"no answer in {tries} x {timeout:g} s")
    rcode = reply.rcode()
    if rcode != dns.rcode.NOERROR:
        status = {
            dns.rcode.NXDOMAIN: "nxdomain",
            dns.rcode.SERVFAIL: "servfail",
            dns.rcode.REFUSED: "refused",
        }.get(rcode, "error")
        return Answer(name, where, status, detail=dns.rcode.to_text(rcode))
    found = sorted(
        {
            str(ipaddress.ip_address(rdata.address))
            for rrset in reply.answer
            if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
            for rdata in rrset
        }
    )
    if not found:
        return Answer(name, where, "nodata", detail="NOERROR, no address")
    status = LANDS if set(found) <= sinkhole else "other"
    return Answer(name, where, status, tuple(found))


def _combined(answers: list[Answer]) -> Answer:
    """One name's answers for A and AAAA as one: the first failure (an error, NXDOMAIN...)
    if any; else it lands when every address found is the sinkhole's, and is "other"
    (showing the addresses that are not) when any is not."""
    first = answers[0]
    for answer in answers:
        if answer.status not in (LANDS, "other", "nodata"):
            return answer
    if all(answer.status == "nodata" for answer in answers):
        return first
    stray = [answer for answer in answers if answer.status == "other"]
    # an open name shows where it points instead (the sinkhole's own addresses are news
    # only when every answer lands)
    chosen = stray or answers
    found = tuple(sorted({a for answer in chosen for a in answer.addresses}))
    return Answer(first.name, first.resolver, "other" if stray else LANDS, found)


async def check(
    names: list[str],
    resolvers: list[Resolver],
    sinkhole: Iterable[str],
    rate: float = 200.0,
    concurrency: int = 64,
    timeout: float = 2.0,
    tries: int = 2,
    progress: Progress | None = None,
) -> list[Answer]:
    """Ask every resolver about every name; at most `rate` queries a second in all."""
    addresses = frozenset(str(ipaddress.ip_address(a)) for a in sinkhole)
    versions = {ipaddress.ip_address(a).version for a in addresses}
    # a dual-stack sinkhole: both records are asked, so an AAAA pointing elsewhere (a
    # v6-capable bot's way out) is found even when the A record lands
    qtypes = [t for v, t in ((4, dns.rdatatype.A), (6, dns.rdatatype.AAAA)) if v in versions]
    qtypes = qtypes or [dns.rdatatype.A]
    limiter = AsyncLimiter(max(rate, 0.1), 1.0)
    gate = asyncio.Semaphore(max(concurrency, 1))
    total, done = len(names) * len(resolvers), 0

    async def one(name: str, resolver: Resolver) -> Answer:
        nonlocal done
        async with gate:
            found = [
                await _ask(name, resolver, qtype, addresses, timeout, tries, limiter)
                for qtype in qtypes
            ]
        answer = _combined(found)
        done += 1
        if progress is not None:
            progress(done, total)
        return answer

    # tasks are made as slots free up, so a million names never sit in memory as coroutines
    answers: list[Answer] = []
    pending: set[asyncio.Task[Answer]] = set()
    jobs = ((n, r) for n in names for r in resolvers)
    for name, resolver in jobs:
        if len(pending) >= 4 * max(concurrency, 1):
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            answers += [t.result() for t in finished]
        pending.add(asyncio.create_task(one(name, resolver)))
    if pending:
        finished, _ = await asyncio.wait(pending)
        answers += [t.result() for t in finished]
    if progress is not None:
        progress(total, total)
    return answers


def report(op: Operation, answers: list[Answer], resolvers: list[Resolver]) -> dict[str, Any]:
    """Open names grouped by TLD and who must act, with the counts."""
    open_answers = sorted(
        (a for a in answers if not a.lands),
        key=lambda a: (who_acts(a.name, op), tlds.tld_of(a.name), a.name, a.resolver),
    )
    groups: dict[tuple[str, str], Counter[str]] = {}
    for a in open_answers:
        groups.setdefault((who_acts(a.name, op), tlds.tld_of(a.name)), Counter())[a.status] += 1
    names = {a.name for a in answers}
    return {
        "operation": op.operation.name,
        "resolvers": [str(r) for r in resolvers],
        "names": len(names),
        "queries": len(answers),
        "landed": sum(a.lands for a in answers),
        "open": [
            {
                "name": a.name,
                "tld": tlds.tld_of(a.name),
                "status": a.status,
                "answer": a.text,
                "resolver": a.resolver,
                "act": who_acts(a.name, op),
            }
            for a in open_answers
        ],
        "groups": [
            {"act": act, "tld": tld, "open": sum(c.values()), "statuses": dict(c)}
            for (act, tld), c in groups.items()
        ],
    }


def chosen_names(
    op: Operation,
    domains: dict[str, tuple[dt.date, dt.date]],
    resolvers: list[Resolver],
    day: dt.date | None = None,
) -> list[str]:
    """The planned names to check (all, or those held on `day`); errors before any query."""
    if not resolvers:
        raise VerifyError("give at least one --resolver HOST:PORT to ask")
    if day is not None and not op.operation.start <= day <= op.operation.end:
        raise VerifyError(
            f"--day {day}: outside the operation's window {op.operation.start}..{op.operation.end}"
        )
    names = names_to_check(domains, day)
    if not names:
        raise VerifyError("the plan has no names to check" + (f" on {day}" if day else ""))
    return names


def run(
    op: Operation,
    names: list[str],
    resolvers: list[Resolver],
    day: dt.date | None = None,
    rate: float = 200.0,
    concurrency: int = 64,
    timeout: float = 2.0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Check `names` (from `chosen_names`) through `resolvers`; the report of what is open."""
    sinkhole = (*op.sinkhole.ipv4, *op.sinkhole.ipv6)
    answers = asyncio.run(
        check(names, resolvers, sinkhole, rate, concurrency, timeout, progress=progress)
    )
    document = report(op, answers, resolvers)
    document["day"] = day.isoformat() if day else None
    return document
