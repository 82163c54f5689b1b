"""Live emulation: real packets from emulated bots to a running sinkhole, on loopback only.

Each emulated machine sends its DNS lookups and its check-ins from its own
127.x.y.z address (Linux lets a process bind any loopback address), on a
simulated clock that runs `speed` times faster than real time. Unlike the
offline mode, a live bot decides from the answers it really gets: a name the
sinkhole answers leads to a check-in that yields "no task", so the bot falls
back along its chain; a name the sinkhole refuses is, in this lab, still the
botmaster's, and the bot stays with it. Runs are bounded in check-ins and in
time, and stop by themselves; any target outside 127.0.0.0/8 and ::1 is
refused before a packet is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dns.message
import dns.rcode
import numpy as np

from sinkhole import families
from sinkhole.emulate import (
    DNS_TTL,
    Contact,
    EmulateError,
    Population,
    Settings,
    _schedule,
    contacts,
    ip_strings,
)
from sinkhole.families.megad_sim import checkin_http
from sinkhole.operation import Operation
from sinkhole.plan import Plan

Address = tuple[str, int]

#: Hard ceilings, whatever is asked: a live run is a test, not a load generator.
MAX_CHECKINS = 200_000
MAX_SECONDS = 600.0
#: Seconds past the duration that check-ins already under way may take to finish.
GRACE_SECONDS = 1.5


def check_loopback(address: Address, what: str) -> None:
    """Refuse any target that is not on this machine's loopback."""
    try:
        ip = ipaddress.ip_address(address[0])
    except ValueError:
        raise EmulateError(f"{what} target {address[0]!r} is not an IP address") from None
    if not ip.is_loopback:
        raise EmulateError(
            f"{what} target {address[0]} is not a loopback address: the emulator only sends "
            "to 127.0.0.0/8 or ::1"
        )


@dataclass
class Targets:
    """Where the sinkhole listens."""

    dns: Address
    http: Address
    resolver: Address | None = None

    def check(self) -> None:
        """Every target must be loopback."""
        for kind, address in self.named():
            check_loopback(address, kind)

    def named(self) -> list[tuple[str, Address]]:
        """(kind, address) for every target."""
        out = [("dns", self.dns), ("http", self.http)]
        return out + ([("resolver", self.resolver)] if self.resolver is not None else [])

    def describe(self) -> str:
        """`dns 127.0.0.1:5353, http 127.0.0.1:8080`, as `sinkhole serve` prints its listeners."""
        return ", ".join(f"{kind} {_shown(address)}" for kind, address in self.named())

    def probe(self, timeout: float = 2.0) -> None:
        """Fail fast when nothing listens at a target (a TCP connect each; DNS listens on TCP too).

        A connect that sends nothing leaves no event in the store, so the truth stays exact.
        """
        for kind, address in self.named():
            family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                try:
                    sock.connect(address)
                except OSError as exc:
                    reason = exc.strerror or type(exc).__name__
                    raise EmulateError(
                        f"no sinkhole at {kind} {_shown(address)} ({reason.lower()}): start "
                        "`sinkhole serve` with the same operation first, or aim with "
                        "--target KIND=HOST:PORT"
                    ) from None


def _shown(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class LiveTruth:
    """What the live bots did, for comparison with the store."""

    machines: int = 0
    population: int = 0
    checkins: int = 0
    failed: int = 0
    dns_queries: int = 0
    absorbed: int = 0
    per_channel: dict[str, int] = field(default_factory=dict)
    checkins_by_bot: dict[str, int] = field(default_factory=dict)
    addresses_by_bot: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""
    #: Scheduled check-ins never sent: the emulator fell behind and the duration ran out.
    skipped: int = 0
    #: Check-ins still under way when the grace time ran out; the store may or may not hold them.
    cut: int = 0


class _Bot:
    __slots__ = ("absorbed", "contact", "failures")

    def __init__(self) -> None:
        self.contact = 0
        self.failures = 0
        self.absorbed = False


class LiveRun:
    """One bounded live run."""

    def __init__(
        self,
        op: Operation,
        plan: Plan,
        settings: Settings,
        targets: Targets,
        duration: float,
        family: str | None = None,
        concurrency: int = 128,
    ) -> None:
        targets.check()
        if not 0 < duration <= MAX_SECONDS:
            raise EmulateError(
                f"duration {duration}: expected more than 0 and at most {MAX_SECONDS:.0f} s"
            )
        self.op = op
        self.family = family or op.targets[0].family
        self.chain: list[Contact] = contacts(op, plan, self.family)
        self.target = next(t for t in op.targets if t.family == self.family)
        self.dga = families.get(self.family).dga
        self.settings = settings
        self.targets = targets
        self.duration = duration
        self.speed = settings.days * 86400.0 / duration
        # machines that are always on check in every interval: if they alone are too many,
        # say so now rather than after building the population
        floor = settings.machines * settings.always_on * settings.days * 1440
        if floor / settings.interval_minutes > MAX_CHECKINS:
            raise EmulateError(
                f"{settings.machines:,} machines for {settings.days:g} days make more than "
                f"{MAX_CHECKINS:,} check-ins, a live run's limit (fewer machines or days, "
                "or use --offline)"
            )
        self.pop = Population.build(settings)
        self.begin = dt.datetime.combine(op.operation.start, dt.time(), tzinfo=dt.UTC)
        self.concurrency = concurrency
        self.bots = [_Bot() for _ in range(self.pop.machines)]
        self.cache: dict[tuple[str, str], float] = {}
        self.truth = LiveTruth(population=self.pop.machines)
        self._started = 0
        self._dga_lists: dict[dt.date, list[str]] = {}

    def schedule(self) -> tuple[list[int], list[float]]:
        """Every check-in (machine, simulated seconds), in time order."""
        who, when = _schedule(self.pop, 0, self.pop.machines, self.settings.days * 86400.0)
        keep = self.pop.online(who, when, self.begin)
        who, when = who[keep], when[keep]
        order = np.argsort(when, kind="stable")
        if len(order) > MAX_CHECKINS:
            raise EmulateError(
                f"{len(order):,} check-ins asked for; a live run allows at most {MAX_CHECKINS:,} "
                "(fewer machines or days, or use --offline)"
            )
        return who[order].tolist(), when[order].tolist()

    async def run(self, progress: Callable[[int, int], None] | None = None) -> LiveTruth:
        """Play the schedule against the sinkhole; returns what the bots did."""
        who, when = self.schedule()
        began = time.monotonic()
        deadline = began + self.duration
        tasks: set[asyncio.Task[None]] = set()
        started = 0
        try:
            # the deadline is hard: a run that falls behind its schedule stops on time
            # and says how much it left unsent, rather than overrunning
            started = await asyncio.wait_for(
                self._play(who, when, began, tasks, progress), timeout=self.duration + 0.2
            )
        except TimeoutError:
            started = self._started
        self.truth.skipped = len(who) - started
        if tasks:
            left = max(0.0, deadline + GRACE_SECONDS - time.monotonic())
            _done, pending = await asyncio.wait(tasks, timeout=left)
            for task in pending:
                task.cancel()
            self.truth.cut = len(pending)
            if pending:
                await asyncio.wait(pending)
        self.truth.seconds = time.monotonic() - began
        self.truth.machines = len(self.truth.checkins_by_bot)
        return self.truth

    async def _play(
        self,
        who: list[int],
        when: list[float],
        began: float,
        tasks: set[asyncio.Task[None]],
        progress: Callable[[int, int], None] | None,
    ) -> int:
        """Start each check-in at its time; returns how many were started."""
        gate = asyncio.Semaphore(self.concurrency)
        self._started = 0
        for machine, sim in zip(who, when, strict=True):
            delay = began + sim / self.speed - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            task = asyncio.create_task(self._checkin(machine, sim, gate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            self._started += 1
            if progress is not None and self._started % 500 == 0:
                progress(self._started, len(who))
        return self._started

    async def _checkin(self, machine: int, sim: float, gate: asyncio.Semaphore) -> None:
        try:
            await self._walk(machine, sim)
        except Exception as exc:  # one bad check-in must not end the run; say what it was
            self.truth.failed += 1
            if not self.truth.error:
                self.truth.error = f"{type(exc).__name__}: {exc}"
        finally:
            gate.release()

    def _address(self, machine: int, sim: float) -> str:
        addr = self.pop.addresses(np.array([self.pop.holder[machine]]), np.array([sim]))
        return str(ip_strings(addr)[0])

    def _resolver(self, machine: int) -> str:
        return str(ip_strings(self.pop.resolver_address(np.array([self.pop.isp[machine]])))[0])

    async def _walk(self, machine: int, sim: float) -> None:
        bot = self.bots[machine]
        contact = self.chain[bot.contact]
        bot_ip = self._address(machine, sim)
        bot_id = f"{int(self.pop.bot_id[machine]):016x}"
        if contact.channel == "dns-servers":
            target = self.targets.resolver or self.targets.dns
            name = contact.domain or ""
            answered = await self._lookup(bot_ip, target, name, cached=False, sim=sim)
        elif contact.channel == "dga":
            name, answered = await self._dga_lookup(machine, sim)
        else:
            name = contact.domain or ""
            answered = await self._lookup(
                self._resolver(machine), self.targets.dns, name, cached=True, sim=sim
            )
        if answered is None:
            self.truth.failed += 1
            return
        if not answered:
            # refused: in this lab the name is still the botmaster's; the bot stays with it
            bot.absorbed = True
            self.truth.absorbed += 1
            return
        ok = await self._http(bot_ip, bot_id, name)
        if not ok:
            self.truth.failed += 1
            return
        self.truth.checkins += 1
        self.truth.per_channel[contact.channel] = self.truth.per_channel.get(contact.channel, 0) + 1
        self.truth.checkins_by_bot[bot_id] = self.truth.checkins_by_bot.get(bot_id, 0) + 1
        seen = self.truth.addresses_by_bot.setdefault(bot_id, [])
        if bot_ip not in seen:
            seen.append(bot_ip)
        # "no task" from a sinkhole: count a failure and fall back along the chain
        bot.failures += 1
        if bot.failures >= self.settings.retries:
            bot.failures = 0
            bot.contact = (bot.contact + 1) % len(self.chain)

    async def _dga_lookup(self, machine: int, sim: float) -> tuple[str, bool | None]:
        date = (self.begin + dt.timedelta(seconds=sim)).date()
        names = self._dga_lists.get(date)
        if names is None and self.dga is not None:
            names = self._dga_lists[date] = self.dga.generate(date, **self.target.dga_params)[:1]
        if not names:
            return "", None
        # the day's first name: seized, it leads to the sinkhole; refused, to the botmaster
        name = names[0]
        answered = await self._lookup(
            self._resolver(machine), self.targets.dns, name, cached=True, sim=sim
        )
        return name, answered

    async def _lookup(
        self, src: str, target: Address, name: str, cached: bool, sim: float
    ) -> bool | None:
        """True: answered by the sinkhole; False: refused; None: no answer."""
        if cached:
            key = (src, name)
            expires = self.cache.get(key)
            if expires is not None and sim < expires:
                return True
        query = dns.message.make_query(name, "A")
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            try:
                if family == socket.AF_INET:
                    sock.bind((src, 0))
                sock.connect(target)
                await loop.sock_sendall(sock, query.to_wire())
                data = await asyncio.wait_for(loop.sock_recv(sock, 4096), 3)
            except (OSError, TimeoutError):
                return None
        self.truth.dns_queries += 1
        try:
            reply = dns.message.from_wire(data)
        except Exception:
            return None
        if reply.rcode() != dns.rcode.NOERROR or not reply.answer:
            return False
        if cached:
            self.cache[(src, name)] = sim + DNS_TTL
        return True

    async def _http(self, src: str, bot_id: str, host: str) -> bool:
        request = checkin_http(
            bot_id, self.settings.version, f"pc-{bot_id[:6]}", host or "unknown.example"
        )
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.targets.http[0],
                    self.targets.http[1],
                    local_addr=(src, 0) if ":" not in self.targets.http[0] else None,
                ),
                5,
            )
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            return head.startswith(b"HTTP/1.1 200")
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def run_live(
    op: Operation,
    plan: Plan,
    settings: Settings,
    targets: Targets,
    duration: float,
    progress: Callable[[int, int], None] | None = None,
) -> LiveTruth:
    """Run a live emulation to completion (uvloop when available)."""
    live = LiveRun(op, plan, settings, targets, duration)
    try:
        import uvloop

        return uvloop.run(live.run(progress))
    except ImportError:
        return asyncio.run(live.run(progress))


def truth_json(truth: LiveTruth) -> dict[str, Any]:
    """The live ground truth as JSON (documented in docs/emulator.md)."""
    return {"mode": "live", **vars(truth)}
