"""A takedown over time: day by day, which escape routes stay open while a seizure rolls out.

A timeline (TOML) says when each action of the plan takes effect: the registry of
a TLD seizes its planned names from day N, a hard-coded resolver or C&C address is
taken down on day N, a network's resolvers apply the plan's RPZ from day N, a hold
ends on day N. Day 0 is the operation's first day.

The herders are assumed to do the worst they can: register any DGA name nobody
holds, re-point any domain left to them, keep any resolver or address that stays
up; a peer-to-peer channel is never closed. The emulator's population (its ISPs,
daily rhythm and check-in interval) walks the emulator's flattened fallback chain
(`emulate.contacts`) under the emulator's rule: a bot tries one contact per
check-in, moves on after `retries` failures, and stays with the first one that
reaches a live C&C. Each day is a handful of array operations over every machine:
264k machines live through a month in about a second.

RPZ rewrites the plan's names (those in ``rpz.zone``) for the customers of the
networks that apply it; lookups through a hard-coded resolver bypass it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sinkhole import emulate, families, tlds
from sinkhole.emulate import Contact, Population, Settings
from sinkhole.operation import Operation
from sinkhole.plan import Plan
from sinkhole.timeline_file import Held, Timeline, TimelineError, load, loads, networks

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
DAY = 86400.0

__all__ = [
    "Day",
    "Held",
    "Result",
    "Route",
    "Timeline",
    "TimelineError",
    "chain",
    "load",
    "loads",
    "networks",
    "report",
    "run",
]


@dataclass
class Route:
    """One way bots still reach a live C&C on a day, and who can close it."""

    channel: str
    subject: str
    act: str
    reason: str
    names: list[str] = field(default_factory=list)
    networks: list[int] = field(default_factory=list)
    machines: int = 0

    def key(self) -> tuple[str, str, str, str]:
        """What identifies the route from day to day."""
        return (self.channel, self.subject, self.act, self.reason)


@dataclass
class Day:
    """One simulated day."""

    day: int
    date: dt.date
    reached: int
    machines: int
    per_channel: dict[str, int]
    routes: list[Route]

    @property
    def share(self) -> float:
        """The share of machines that reached a live C&C."""
        return self.reached / self.machines if self.machines else 0.0


@dataclass
class Result:
    """One family's days under the timeline."""

    family: str
    days: list[Day]

    @property
    def first_contained(self) -> int | None:
        """The first day on which no route was open to any machine, if any."""
        return next((d.day for d in self.days if not d.routes), None)

    def reopened(self) -> list[tuple[int, list[Route]]]:
        """Days on which routes opened again after a day of full containment."""
        out = []
        for before, after in zip(self.days, self.days[1:], strict=False):
            if not before.routes and after.routes:
                out.append((after.day, after.routes))
        return out

    @property
    def open_at_end(self) -> list[Route]:
        """The routes still open on the last simulated day."""
        return self.days[-1].routes if self.days else []


def chain(op: Operation, family: str) -> list[Contact]:
    """The emulator's flattened fallback chain, plus what it does not emulate (IPs, p2p).

    Channels come in the family's fallback order; the analysts' additions for channels
    the family does not declare come last, as `simulate` walks them.
    """
    empty = Plan(op, {}, [], [], [], [])
    try:
        emulated = emulate.contacts(op, empty, family)
    except emulate.EmulateError:
        emulated = []
    target = next(t for t in op.targets if t.family == family)
    out: list[Contact] = []
    kinds = set()
    for channel in families.get(family).channels:
        kinds.add(channel.kind)
        if channel.kind == "static-ips":
            ips = (channel.ips if target.use_family_lists else ()) + target.static_ips
            out += [Contact("static-ips", None, ip, False) for ip in dict.fromkeys(ips)]
        elif channel.kind == "p2p":
            out.append(Contact("p2p", None, None, False))
        else:
            out += [c for c in emulated if c.channel == channel.kind]
    extra = (
        (
            "static-domains",
            [Contact("static-domains", d, None, False) for d in target.static_domains],
        ),
        ("dns-servers", [Contact("dns-servers", None, ip, False) for ip in target.dns_servers]),
        ("static-ips", [Contact("static-ips", None, ip, False) for ip in target.static_ips]),
    )
    for kind, contacts in extra:
        if kind not in kinds:
            out += contacts
    return out


class _World:
    """Who holds what on a day, and why a name or address is still open."""

    def __init__(self, op: Operation, held: Held, timeline: Timeline) -> None:
        self.op, self.held, self.timeline = op, held, timeline
        self.unseizable = tlds.unseizable_tlds(op, {tlds.tld_of(n) for n in held.domains})
        # per name, what does not change from day to day: its TLD, why no registry holds it
        # (if so), its planned days; a year of a big DGA asks about each name many times
        self._names: dict[str, tuple[str, tuple[str, str] | None, tuple[dt.date, dt.date] | None]]
        self._names = {}
        self._registry: dict[tuple[str, int], tuple[str, str] | None] = {}

    def name_open(self, name: str, day: int) -> tuple[str, str] | None:
        """(who must act, why) when the registry does not hold `name` on `day`, else None."""
        known = self._names.get(name)
        if known is None:
            tld = tlds.tld_of(name)
            reason = self.unseizable.get(tld) or tlds.why_unseizable(tld, self.op)
            nobody = (
                None
                if reason is None
                else (f"RPZ at the bots' resolvers (no registry for .{tld})", reason)
            )
            known = self._names[name] = (tld, nobody, self.held.domains.get(name))
        tld, nobody, span = known
        if nobody is not None:
            return nobody
        if span is None:
            return _NOT_PLANNED
        date = self.op.operation.start + dt.timedelta(days=day)
        if not span[0] <= date <= span[1]:
            return "the plan", f"the plan holds it {span[0]}..{span[1]} only (re-plan it longer)"
        key = (tld, day)
        if key not in self._registry:
            self._registry[key] = self._registry_open(tld, day)
        return self._registry[key]

    def _registry_open(self, tld: str, day: int) -> tuple[str, str] | None:
        registry = f"registry of .{tld}"
        first = self.timeline.seize.get(tld)
        if first is None:
            return registry, "never seizes (no seize step in the timeline)"
        if day < first:
            return registry, f"seizes from day {first}"
        end = self.timeline.end("tld", tld)
        if day >= end:
            return registry, f"hold ended on day {int(end)}"
        return None

    def rpz(self, day: int) -> list[int]:
        """The ASNs whose resolvers apply the RPZ on `day`."""
        return [a for a in self.timeline.rpz if self.timeline.in_force("network", str(a), day)]

    def address_open(self, ip: str, day: int) -> tuple[str, str] | None:
        """(who must act, why) when `ip` is still up on `day`, else None."""
        network = self.held.addresses.get(ip)
        if network is None:
            return f"the network of {ip}", "not in the plan"
        act = f"the network of {ip} ({network})"
        first = self.timeline.take_down.get(ip)
        if first is None:
            return act, "stays up (no take-down step in the timeline)"
        if day < first:
            return act, f"taken down from day {first}"
        end = self.timeline.end("address", ip)
        if day >= end:
            return act, f"back up: hold ended on day {int(end)}"
        return None


def run(op: Operation, held: Held, timeline: Timeline) -> list[Result]:
    """Simulate every target family's population under the timeline, day by day."""
    settings = Settings(machines=timeline.machines, days=float(timeline.days), seed=timeline.seed)
    pop = Population.build(settings)
    return [_run_family(op, held, timeline, pop, t.family) for t in op.targets]


def _run_family(
    op: Operation, held: Held, timeline: Timeline, pop: Population, family: str
) -> Result:
    world = _World(op, held, timeline)
    contacts = chain(op, family)
    asns = [p.asn for p in pop.settings.profiles]
    n, size, retries = pop.machines, len(contacts), max(pop.settings.retries, 1)
    pos = np.zeros(n, dtype=np.int64)
    fails = np.zeros(n, dtype=np.int64)
    rhythm = _Rhythm(pop)
    days: list[Day] = []
    lists = _dga_lists(op, timeline, family)
    for day in range(timeline.days):
        date = op.operation.start + dt.timedelta(days=day)
        names = lists[day] if lists else []
        routes = _Routes(world, asns, day)
        route_of = np.stack([routes.contact(c, names) for c in contacts], axis=1)
        pos, fails, reached = _walk(
            pop.isp, pos, fails, rhythm.checkins(day), route_of >= 0, retries
        )
        # machines per (network, contact) they reached, then per route and channel
        hits = np.bincount(pop.isp[reached] * size + pos[reached], minlength=len(asns) * size)
        per_channel: Counter[str] = Counter()
        for k, c in zip(*np.nonzero(hits.reshape(len(asns), size)), strict=True):
            count = int(hits[k * size + c])
            per_channel[contacts[c].channel] += count
            routes.found[route_of[k, c]].machines += count
        for index, r in enumerate(routes.found):
            r.networks = [asns[k] for k in range(len(asns)) if (route_of[k] == index).any()]
        found = [r for r in routes.found if r.networks]
        days.append(Day(day, date, int(reached.sum()), n, dict(per_channel), found))
    return Result(family, days)


class _Routes:
    """The routes open on one day, and which one each network's bots take at each contact."""

    def __init__(self, world: _World, asns: list[int], day: int) -> None:
        self.world, self.asns, self.day = world, asns, day
        self.rpz = set(world.rpz(day))
        self.found: list[Route] = []
        self._index: dict[tuple[str, str, str, str], int] = {}

    def add(self, channel: str, subject: str, why: tuple[str, str], name: str = "") -> int:
        """The index of the route (made on first use), with `name` among its names."""
        key = (channel, subject, *why)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.found)
            self.found.append(Route(channel, subject, why[0], why[1]))
        if name:
            self.found[index].names.append(name)
        return index

    def contact(self, contact: Contact, names: list[str]) -> I64:
        """Per network: the route a bot at `contact` takes today (-1: closed)."""
        world, day = self.world, self.day
        out = np.full(len(self.asns), -1, dtype=np.int64)
        rpz = np.array([asn in self.rpz for asn in self.asns], dtype=np.bool_)
        if contact.channel == "p2p":
            out[:] = self.add("p2p", "peer-to-peer", _P2P)
        elif contact.channel in ("dns-servers", "static-ips"):
            assert contact.resolver is not None
            up = world.address_open(contact.resolver, day)
            if up is not None:  # lookups through a hard-coded resolver bypass any RPZ
                out[:] = self.add(contact.channel, contact.resolver, up)
        elif contact.channel == "static-domains":
            assert contact.domain is not None
            why = world.name_open(contact.domain, day)
            if why is not None:
                out[:] = self.add("static-domains", contact.domain, why)
                if contact.domain in world.held.domains:  # in rpz.zone
                    out[rpz] = -1
        elif contact.channel == "dga":
            first_any = first_unrewritten = -1
            for name in names:
                why = world.name_open(name, day)
                if why is None:
                    continue
                index = self.add("dga", f".{tlds.tld_of(name)}", why, name)
                if first_any < 0:
                    first_any = index
                if first_unrewritten < 0 and name not in world.held.domains:
                    first_unrewritten = index
            out[:] = first_any
            out[rpz] = first_unrewritten
        return out


_NOT_PLANNED = ("the plan", "not in the plan (re-plan with a longer window)")
_P2P = ("no seizure: peer poisoning or clean-up", "peer-to-peer, never seized")


def _dga_lists(op: Operation, timeline: Timeline, family: str) -> list[list[str]]:
    """Each simulated day's DGA names in the bots' order (repeats dropped), made in batches.

    The same lists `generate` gives day by day; a DGA that computes several periods
    together (Necurs: a year of 4-day buckets as NumPy lanes) does it in one call.
    """
    dga = families.get(family).dga
    if dga is None:
        return []
    target = next(t for t in op.targets if t.family == family)
    first = op.operation.start
    dga.check_dates(first, first + dt.timedelta(days=timeline.days - 1))
    params = dga.params(target.dga_params)
    keys_per_day = [
        dga.keys_for_day(first + dt.timedelta(days=day)) for day in range(timeline.days)
    ]
    keys = sorted({k for ks in keys_per_day for k in ks})
    made: dict[dt.date, list[str]] = {}
    for at in range(0, len(keys), 32):
        batch = keys[at : at + 32]
        made.update(zip(batch, dga.domains_for_keys(batch, params), strict=True))
    lists: dict[tuple[dt.date, ...], list[str]] = {}
    out = []
    for day_keys in keys_per_day:
        key = tuple(day_keys)
        if key not in lists:
            lists[key] = list(dict.fromkeys(n for k in day_keys for n in made[k]))
        out.append(lists[key])
    return out


def _walk(
    isp: I64, pos: I64, fails: I64, checkins: I64, open_mask: Bools, retries: int
) -> tuple[I64, I64, Bools]:
    """One day of the emulator's fallback rule for every machine at once.

    A check-in tries the contact at `pos`; a closed one counts a failure and after
    `retries` of them the bot moves to the next contact (wrapping around); an open one
    reaches the C&C and the bot stays. Returns the new positions, failures and who reached.
    """
    size = open_mask.shape[1]
    # distance from each start position to the next open contact (size: none is open)
    ahead = (np.arange(size)[:, None] + np.arange(size)[None, :]) % size
    rolled = open_mask[:, ahead]  # [network, start, offset]
    anything = rolled.any(axis=2)
    distance = np.where(anything, rolled.argmax(axis=2), size)
    j = distance[isp, pos]
    needed = np.where(j == 0, 1, retries - fails + (j - 1) * retries + 1)
    reached = (j < size) & (checkins >= needed)
    total = fails + checkins
    new_pos = np.where(reached, (pos + j) % size, (pos + total // retries) % size)
    new_fails = np.where(reached, 0, total % retries)
    return new_pos.astype(np.int64), new_fails.astype(np.int64), reached


class _Rhythm:
    """The emulator's check-in schedule and daily rhythm, counted per machine and day.

    The same schedule `emulate` draws check-in by check-in (phase + k x interval, on
    line when always on or inside the local waking hours, infected from `born` until
    `cleaned`), counted per day with interval arithmetic instead of one row per check-in.
    """

    def __init__(self, pop: Population) -> None:
        self.pop = pop
        on = pop.always_on
        self.steady = np.flatnonzero(on)
        self.waking = np.flatnonzero(~on)
        w = self.waking
        self.interval = (pop.interval[self.steady], pop.interval[w])
        self.phase = (pop.phase[self.steady], pop.phase[w])
        # seconds since the start at which a machine's waking hours begin, modulo a day
        self.wake_at = np.mod((pop.wake[w] - pop.tz[w]) * 3600.0, DAY)
        self.awake = pop.awake_hours[w] * 3600.0
        self.duration = pop.settings.days * DAY
        # infected all along (the emulator's default): no per-machine clipping needed
        self.infected = (pop.born, pop.cleaned)
        self.always = not pop.born.any() and bool(np.isinf(pop.cleaned).all())

    @staticmethod
    def _count(phase: F64, interval: F64, low: F64 | float, high: F64 | float) -> F64:
        """Check-ins with a time in [low, high), per machine."""
        lo = np.maximum(np.ceil((low - phase) / interval), 0.0)
        hi = np.ceil((high - phase) / interval)
        return np.asarray(np.maximum(hi - lo, 0.0), dtype=np.float64)

    def checkins(self, day: int) -> I64:
        """How many check-ins each machine makes on line on `day` (0-based)."""
        begin, end = day * DAY, min((day + 1) * DAY, self.duration + 1e-6)
        out = np.zeros(self.pop.machines, dtype=np.int64)
        start: F64 | float = begin
        stop: F64 | float = end
        for part, index in enumerate((self.steady, self.waking)):
            if not self.always:
                born, cleaned = self.infected
                start = np.maximum(begin, born[index])
                stop = np.minimum(end, cleaned[index])
            phase, interval = self.phase[part], self.interval[part]
            if part == 0:
                out[index] = self._count(phase, interval, start, stop)
                continue
            # the waking stretch that began the day before, and the one that begins today
            total = np.zeros(len(index))
            for shift in (-DAY, 0.0):
                opens = begin + shift + self.wake_at
                low = np.maximum(opens, start)
                high = np.minimum(opens + self.awake, stop)
                total += self._count(phase, interval, low, np.maximum(high, low))
            out[index] = total
        return out


def report(op: Operation, results: list[Result]) -> dict[str, Any]:
    """The results as one JSON-ready document."""

    def routes(items: list[Route]) -> list[dict[str, Any]]:
        return [vars(r) for r in items]

    return {
        "operation": op.operation.name,
        "start": op.operation.start.isoformat(),
        "families": [
            {
                "family": r.family,
                "machines": r.days[0].machines if r.days else 0,
                "first_contained_day": r.first_contained,
                "reopened": [{"day": d, "routes": routes(rs)} for d, rs in r.reopened()],
                "open_at_end": routes(r.open_at_end),
                "per_day": [
                    {
                        "day": d.day,
                        "date": d.date.isoformat(),
                        "reached": d.reached,
                        "share": round(d.share, 6),
                        "per_channel": d.per_channel,
                        "routes": routes(d.routes),
                    }
                    for d in r.days
                ],
            }
            for r in results
        ],
    }
