"""Emulated infected machines with a known truth, for tests, benchmarks and the demo.

A population of N machines, each with a stable identity (its bot id), an ISP
from the lab network table, a time zone and a daily on-line pattern, and a
check-in interval. Addresses belong to *holders*: a machine on its own line,
or a NAT gateway shared by several machines (a household router, or a
carrier-grade NAT on mobile networks). A holder keeps its address for the
ISP's lease period and is then renumbered at random within the ISP's range
(periodic renumbering is the commonest pattern measured on real ISPs; a lease
of 0 means a static address).

Behaviour follows the family's fallback chain. The chain is flattened into
*contacts*: each static domain, each hard-coded resolver, then the DGA. Every
check-in tries one contact. A contact that is not seized reaches the
botmaster and the bot stays with it (the sinkhole never sees it again); a
seized contact leads to the sinkhole, which answers "no task", so after
``retries`` failed check-ins the bot moves to the next contact, wrapping
around after the last. DNS lookups of domains go through the ISP's resolver,
which caches answers for the zone TTL; lookups through a hard-coded resolver
come straight from the bot's address.

Offline mode writes the events the sinkhole would have recorded straight
into the store (same schema, same writer) with a ground-truth file beside
them. Everything is deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sinkhole import attribution, families
from sinkhole.events import private
from sinkhole.events.schema import SCHEMA
from sinkhole.events.writer import EventWriter
from sinkhole.exceptions import SinkholeError
from sinkhole.operation import Operation
from sinkhole.plan import Plan

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Called as progress(done, total) while events are generated.
Progress = Callable[[int, int], None]


class EmulateError(SinkholeError):
    """The emulator was asked for something it will not do."""


@dataclass(frozen=True)
class IspProfile:
    """How one lab ISP's customers are connected."""

    asn: int
    share: float
    lease_hours: float
    nat_share: float
    nat_size: int
    tz_hours: float


#: The lab ISPs (ASNs as in the lab attribution dataset), from static fibre to CGNAT mobile.
LAB_PROFILES: tuple[IspProfile, ...] = (
    IspProfile(64496, 0.18, 24 * 7, 0.05, 3, -5),
    IspProfile(64497, 0.14, 24, 0.10, 3, 1),
    IspProfile(64498, 0.12, 4, 0.30, 64, 5.5),
    IspProfile(64499, 0.06, 0, 0.05, 2, 9),
    IspProfile(64500, 0.10, 12, 0.15, 3, -3),
    IspProfile(64501, 0.08, 72, 0.08, 3, 0),
    IspProfile(64502, 0.07, 0, 0.02, 2, -8),
    IspProfile(64503, 0.10, 24, 0.25, 4, 8),
    IspProfile(64504, 0.05, 6, 0.30, 64, 1),
    IspProfile(64505, 0.03, 0, 0.20, 8, 1),
    IspProfile(64506, 0.02, 0, 0.0, 1, 1),
    IspProfile(64507, 0.05, 24, 0.10, 3, 3),
)

#: Addresses reserved at the start of each ISP range (its resolvers live there).
RESERVED = 256
#: The ISP resolver's address is this offset into the ISP's range.
RESOLVER_OFFSET = 53
DNS_TTL = 300

#: The ground truth of who was behind which address, one row per stretch.
SPAN_SCHEMA = pa.schema(
    [
        ("address", pa.string()),
        ("bot_id", pa.string()),
        ("first_seen", pa.timestamp("us", tz="UTC")),
        ("last_seen", pa.timestamp("us", tz="UTC")),
    ]
)


#: The behaviours `--set KEY=VALUE` may change (see Settings).
BEHAVIOURS = (
    "tz_spread_hours",
    "evening_share",
    "always_on",
    "day_off",
    "new_share",
    "cleanup_per_day",
    "interval_spread",
    "jitter",
    "requests_per_checkin",
    "outage_hours",
    "lease_spread",
)
#: Behaviours only the offline emulator has.
OFFLINE_ONLY = ("requests_per_checkin", "outage_hours")


@dataclass(frozen=True)
class Settings:
    """Emulation parameters with their defaults."""

    machines: int = 264_000
    days: float = 7.0
    seed: int = 1
    interval_minutes: float = 60.0
    always_on: float = 0.25
    retries: int = 1
    version: int = 3
    profiles: tuple[IspProfile, ...] = LAB_PROFILES
    # Behaviours that break estimates tuned on a tidy world (issue 11). The defaults keep
    # the tidy world (every machine in its ISP's zone, every day, all window long).
    tz_spread_hours: float = 0.0  # machine's zone: the ISP's + normal(0, this) hours
    evening_share: float = 0.0  # machines on line a few evening hours only
    day_off: float = 0.0  # chance a machine (not always-on) stays off a local day
    new_share: float = 0.0  # machines first infected during the window
    cleanup_per_day: float = 0.0  # daily chance an infected machine is cleaned for good
    interval_spread: float = 0.1  # each bot's interval: interval * U(1 - s, 1 + s)
    jitter: float = 0.0  # each check-in moved by U(-j, j) of the interval
    requests_per_checkin: int = 1  # HTTP requests per check-in, 1.5 s apart
    outage_hours: float = 0.0  # one sinkhole outage this long, mid-window
    lease_spread: float = 0.0  # each line's lease: the ISP's * lognormal(0, this)

    def with_behaviours(self, pairs: list[str], live: bool = False) -> Settings:
        """These settings with `KEY=VALUE` behaviours set (one clear error for a bad one)."""
        changes: dict[str, Any] = {}
        for pair in pairs:
            key, sep, text = pair.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in BEHAVIOURS:
                raise EmulateError(
                    f"--set {pair!r}: expected KEY=VALUE with KEY one of {', '.join(BEHAVIOURS)}"
                )
            if live and key in OFFLINE_ONLY:
                raise EmulateError(f"--set {key}: offline only (add --offline)")
            try:
                number = float(text)
                changes[key] = int(number) if key == "requests_per_checkin" else number
            except (ValueError, OverflowError):
                raise EmulateError(f"--set {pair!r}: {text!r} is not a number") from None
            if key == "requests_per_checkin" and number != int(number):
                raise EmulateError(f"--set {pair!r}: a whole number of requests")
        return replace(self, **changes).check()

    def check(self) -> Settings:
        """These settings, or one clear error for the first value out of range."""
        bounds = {
            "always_on": (0.0, 1.0),
            "tz_spread_hours": (0.0, 12.0),
            "evening_share": (0.0, 1.0),
            "day_off": (0.0, 1.0),
            "new_share": (0.0, 1.0),
            "cleanup_per_day": (0.0, 1.0),
            "interval_spread": (0.0, 0.9),
            "jitter": (0.0, 0.45),
            "requests_per_checkin": (1, 20),
            "outage_hours": (0.0, 24.0 * 366),
            "lease_spread": (0.0, 3.0),
        }
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if not low <= value <= high:  # NaN fails too
                raise EmulateError(f"{name} = {value!r}: expected {low} to {high}")
        return self


def splitmix(values: U64) -> U64:
    """A fast, well-mixed 64-bit hash (SplitMix64's finaliser), vectorised."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


@dataclass
class Population:
    """N machines, their holders (own line or NAT) and their daily rhythm."""

    settings: Settings
    isp: I64
    bot_id: U64
    holder: I64
    always_on: Bools
    wake: F64
    awake_hours: F64
    interval: F64
    phase: F64
    holder_isp: I64
    holder_offset: F64
    tz: F64  # hours east of UTC, per machine
    born: F64  # seconds since the start: when the machine was infected (0: before)
    cleaned: F64  # seconds since the start: when it was cleaned up (inf: never)
    lease_factor: F64  # per holder: its lease is the ISP's times this
    base: I64 = field(init=False)
    size: I64 = field(init=False)

    def __post_init__(self) -> None:
        nets = {n.asn: n for n in attribution.lab().networks}
        base, size = [], []
        for profile in self.settings.profiles:
            net = ipaddress.ip_network(nets[profile.asn].prefix)
            base.append(int(net.network_address))
            size.append(net.num_addresses)
        self.base = np.array(base, dtype=np.int64)
        self.size = np.array(size, dtype=np.int64)

    @classmethod
    def build(cls, settings: Settings) -> Population:
        """Draw a population (deterministic for settings.seed)."""
        if settings.machines < 1:
            raise EmulateError("the population needs at least one machine")
        rng = np.random.default_rng(settings.seed)
        n = settings.machines
        shares = np.array([p.share for p in settings.profiles])
        isp = rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int64)
        bot_id = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
        holder = np.empty(n, dtype=np.int64)
        holder_isp: list[int] = []
        next_holder = 0
        for index, profile in enumerate(settings.profiles):
            members = np.flatnonzero(isp == index)
            rng.shuffle(members)
            natted = round(len(members) * profile.nat_share)
            behind, alone = members[:natted], members[natted:]
            groups = max(1, -(-len(behind) // max(profile.nat_size, 1))) if len(behind) else 0
            if groups:
                holder[behind] = next_holder + np.arange(len(behind)) % groups
                holder_isp += [index] * groups
                next_holder += groups
            holder[alone] = next_holder + np.arange(len(alone))
            holder_isp += [index] * len(alone)
            next_holder += len(alone)
        settings.check()
        spread = settings.interval_spread
        interval = settings.interval_minutes * 60 * rng.uniform(1 - spread, 1 + spread, size=n)
        always_on = rng.random(n) < settings.always_on
        wake = rng.uniform(6, 10, size=n)
        awake_hours = rng.uniform(11, 17, size=n)
        phase = rng.uniform(0, 1, size=n) * interval
        holder_offset = rng.uniform(0, 1, size=next_holder)
        # the behaviours below draw from their own stream: the tidy world stays as it was
        more = np.random.default_rng([settings.seed, 11])
        tz = np.array([p.tz_hours for p in settings.profiles], dtype=np.float64)[isp]
        if settings.tz_spread_hours > 0:
            tz = tz + more.normal(0, settings.tz_spread_hours, size=n)
        evening = ~always_on & (more.random(n) < settings.evening_share)
        wake = np.where(evening, more.uniform(17, 20, size=n), wake)
        awake_hours = np.where(evening, more.uniform(2, 5, size=n), awake_hours)
        duration = settings.days * 86400.0
        born = np.where(more.random(n) < settings.new_share, more.uniform(0, duration, size=n), 0.0)
        cleaned = np.full(n, np.inf)
        if settings.cleanup_per_day > 0:
            lasts = more.exponential(86400.0 / settings.cleanup_per_day, size=n)
            cleaned = born + lasts
        lease_factor = np.ones(next_holder)
        if settings.lease_spread > 0:
            lease_factor = more.lognormal(0.0, settings.lease_spread, size=next_holder)
        return cls(
            settings=settings,
            isp=isp,
            bot_id=bot_id,
            holder=holder,
            always_on=always_on,
            wake=wake,
            awake_hours=awake_hours,
            interval=interval,
            phase=phase,
            holder_isp=np.array(holder_isp, dtype=np.int64),
            holder_offset=holder_offset,
            tz=tz,
            born=born,
            cleaned=cleaned,
            lease_factor=lease_factor,
        )

    @property
    def machines(self) -> int:
        """How many machines there are."""
        return len(self.isp)

    def lease_seconds(self) -> F64:
        """Each holder's lease length in seconds (0: static)."""
        hours = np.array([p.lease_hours for p in self.settings.profiles])
        seconds = hours[self.holder_isp] * 3600.0 * self.lease_factor
        return np.asarray(seconds, dtype=np.float64)

    def addresses(self, holders: I64, seconds: F64) -> U64:
        """The IPv4 address (as an integer) of each holder at each time (s since start)."""
        lease = self.lease_seconds()[holders]
        offset = self.holder_offset[holders] * np.where(lease > 0, lease, 1.0)
        epoch = np.where(lease > 0, np.floor((seconds + offset) / np.where(lease > 0, lease, 1)), 0)
        key = (holders.astype(np.uint64) << np.uint64(24)) ^ epoch.astype(np.uint64)
        key ^= np.uint64(self.settings.seed) << np.uint64(52)
        isp = self.holder_isp[holders]
        span = (self.size[isp] - 2 * RESERVED).astype(np.uint64)
        return (self.base[isp] + RESERVED).astype(np.uint64) + splitmix(key) % span

    def resolver_address(self, isp: I64) -> U64:
        """The ISP resolver each ISP's customers use."""
        return (self.base[isp] + RESOLVER_OFFSET).astype(np.uint64)

    def online(self, machines: I64, seconds: F64, start: dt.datetime) -> Bools:
        """Whether each machine is on line and infected at each time (its local rhythm)."""
        hour0 = start.hour + start.minute / 60
        local_hours = hour0 + seconds / 3600.0 + self.tz[machines]
        local = local_hours % 24.0
        awake = (local - self.wake[machines]) % 24.0 < self.awake_hours[machines]
        on = self.always_on[machines] | awake
        if self.settings.day_off > 0:
            day = np.floor(local_hours / 24.0).astype(np.int64) + 1024
            key = (machines.astype(np.uint64) << np.uint64(16)) ^ day.astype(np.uint64)
            key ^= np.uint64(self.settings.seed) << np.uint64(48)
            chance = (splitmix(key) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
            on &= self.always_on[machines] | (chance >= self.settings.day_off)
        infected = (seconds >= self.born[machines]) & (seconds < self.cleaned[machines])
        return np.asarray(on & infected, dtype=np.bool_)

    def bot_hex(self, machines: I64) -> list[str]:
        """Bot ids as the 16 hex digits the megad-sim protocol carries."""
        return [f"{int(v):016x}" for v in self.bot_id[machines]]


@dataclass(frozen=True)
class Contact:
    """One thing a bot can try: a static domain, a hard-coded resolver, or the DGA."""

    channel: str
    domain: str | None
    resolver: str | None
    seized: bool


def contacts(op: Operation, plan: Plan, family: str) -> list[Contact]:
    """The flattened fallback chain of `family` as the operation leaves it."""
    target = next((t for t in op.targets if t.family == family), None)
    if target is None:
        raise EmulateError(f"family {family!r} is not a target of the operation")
    fam = families.get(family)
    seized_ips = {a.ip for a in plan.addresses}
    out: list[Contact] = []
    statics: list[str] = []
    for channel in fam.channels:
        if channel.kind == "static-domains":
            statics = list(channel.domains if target.use_family_lists else ()) + list(
                target.static_domains
            )
            out += [Contact("static-domains", d, None, d in plan.domains) for d in statics]
        elif channel.kind == "dns-servers":
            ips = list(channel.ips if target.use_family_lists else ()) + list(target.dns_servers)
            name = statics[0] if statics else None
            out += [Contact("dns-servers", name, ip, ip in seized_ips) for ip in ips]
        elif channel.kind == "dga" and channel.dga is not None:
            out.append(Contact("dga", None, None, True))
    if not out:
        raise EmulateError(f"family {family!r} has no channel the emulator can follow")
    return out


@dataclass
class Truth:
    """What really happened: machines, addresses and who was behind them."""

    machines: int = 0
    population: int = 0
    events: int = 0
    checkins: int = 0
    per_day: list[dict[str, Any]] = field(default_factory=list)
    per_hour: list[dict[str, Any]] = field(default_factory=list)
    per_isp: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_channel: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    addresses_file: str = ""

    def write(self, path: Path) -> None:
        """Save as JSON (documented in docs/emulator.md), 0600: it lists bot addresses."""
        write_truth(path, vars(self))


def write_truth(path: Path, document: dict[str, Any]) -> None:
    """Write a ground-truth document as JSON, private (0600 in a 0700 folder if new)."""
    private.folder(path.parent)
    private.write_text(path, json.dumps(document, indent=2, default=str) + "\n")


def ip_strings(values: U64) -> pa.Array:
    """IPv4 integers as dotted-quad strings (Arrow, vectorised)."""
    octets = [
        pc.cast(
            pa.array(((values >> np.uint64(shift)) & np.uint64(255)).astype(np.uint8)), pa.string()
        )
        for shift in (24, 16, 8, 0)
    ]
    return pc.binary_join_element_wise(*octets, ".")


def _decode(indices: I64, dictionary: pa.Array) -> pa.Array:
    """dictionary[indices] as a plain string array."""
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), dictionary).cast(
        pa.string()
    )


def _unique_strings(values: U64) -> pa.Array:
    """Dotted quads for many addresses, formatting each distinct one once."""
    uniques, inverse = np.unique(values, return_inverse=True)
    return _decode(inverse.astype(np.int64), ip_strings(uniques))


def _schedule(pop: Population, first: int, last: int, duration: float) -> tuple[I64, F64]:
    """Every check-in time (seconds since start) of machines [first, last)."""
    machines = np.arange(first, last, dtype=np.int64)
    counts = (
        np.floor((duration - pop.phase[machines]) / pop.interval[machines]).astype(np.int64) + 1
    )
    counts = np.maximum(counts, 0)
    who = np.repeat(machines, counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(len(who), dtype=np.int64) - np.repeat(starts, counts)
    when = pop.phase[who] + k * pop.interval[who]
    jitter = pop.settings.jitter
    if jitter > 0:  # under half an interval: each machine's check-ins stay in order
        key = (who.astype(np.uint64) << np.uint64(24)) ^ k.astype(np.uint64)
        key ^= np.uint64(pop.settings.seed) << np.uint64(56) | np.uint64(1 << 55)
        shift = (splitmix(key) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        when = when + (2 * shift - 1) * jitter * pop.interval[who]
        inside = (when >= 0) & (when < duration)
        who, when = who[inside], when[inside]
    return who, when


def _running_index(who: I64) -> I64:
    """0, 1, 2 … within each run of equal (sorted) machine ids."""
    if not len(who):
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(who)) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(who)])))
    return np.asarray(np.arange(len(who)) - np.repeat(starts, lengths), dtype=np.int64)


def _contact_index(step: I64, chain: list[Contact]) -> I64:
    """Which contact each check-in uses: advance on failure, stop at the first unseized one."""
    seized = [c.seized for c in chain]
    if all(seized):
        return np.asarray(step % len(chain), dtype=np.int64)
    stop = seized.index(False)
    return np.asarray(np.minimum(step, stop), dtype=np.int64)


@dataclass
class _Tally:
    """Ground-truth accumulators across chunks (chunks hold disjoint machines)."""

    days: dict[int, int] = field(default_factory=dict)
    hours: dict[int, int] = field(default_factory=dict)
    day_addresses: list[U64] = field(default_factory=list)
    isp_addresses: list[U64] = field(default_factory=list)
    spans: list[pa.Table] = field(default_factory=list)
    channels: dict[str, int] = field(default_factory=dict)

    def add_counts(self, target: dict[int, int], keys: I64) -> None:
        values, counts = np.unique(keys, return_counts=True)
        for key, count in zip(values.tolist(), counts.tolist(), strict=True):
            target[key] = target.get(key, 0) + count


class _Offline:
    """One offline run: the population, its chain, and the ground truth being gathered."""

    def __init__(
        self, op: Operation, plan: Plan, settings: Settings, family: str, begin: dt.datetime
    ) -> None:
        self.settings = settings
        self.chain = contacts(op, plan, family)
        self.pop = Population.build(settings)
        self.begin = begin
        self.begin_us = int(begin.timestamp() * 1_000_000)
        self.sink_ip = op.sinkhole.ipv4[0] if op.sinkhole.ipv4 else op.sinkhole.ipv6[0]
        target = next(t for t in op.targets if t.family == family)
        dga = families.get(family).dga
        self.days = int(np.ceil(settings.days)) + 1
        # name ids: one per contact, then one per day for the DGA's first seized name
        names = [c.domain or "" for c in self.chain]
        for day in range(self.days):
            date = (begin + dt.timedelta(days=day)).date()
            generated = dga.generate(date, **target.dga_params) if dga else [""]
            held = [n for n in generated if n in plan.domains]
            names.append(held[0] if held else generated[0])
        self.names = pa.array(names, pa.string())
        self.channels = pa.array([c.channel for c in self.chain], pa.string())
        bots = [f"{int(v):016x}" for v in self.pop.bot_id]
        version = settings.version
        self.bot_hex = pa.array(bots, pa.string())
        self.urls = pa.array([f"/cfg/{b}?v={version}&os=pc-{b[:6]}" for b in bots], pa.string())
        self.machine_names = pa.array([f"pc-{b[:6]}" for b in bots], pa.string())
        buckets = int(settings.days * 86400 // DNS_TTL) + 2
        self.dns_seen = np.zeros(len(settings.profiles) * len(names) * buckets, dtype=np.bool_)
        self.buckets = buckets
        self.tally = _Tally()
        self.reached = np.zeros(self.pop.machines, dtype=np.bool_)
        self.checkins = 0
        self._addr_ids: tuple[I64, U64] = (np.zeros(0, np.int64), np.zeros(0, np.uint64))

    def chunk(self, first: int, last: int) -> pa.Table:
        """Events of machines [first, last)."""
        pop, settings = self.pop, self.settings
        who, when = _schedule(pop, first, last, settings.days * 86400.0)
        keep = pop.online(who, when, self.begin)
        who, when = who[keep], when[keep]
        contact = _contact_index(_running_index(who) // max(settings.retries, 1), self.chain)
        seized = np.array([c.seized for c in self.chain])[contact]
        who, when, contact = who[seized], when[seized], contact[seized]
        if settings.outage_hours > 0:  # the sinkhole was down: nothing reached it
            middle, half = settings.days * 43200.0, settings.outage_hours * 1800.0
            up = (when < middle - half) | (when >= middle + half)
            who, when, contact = who[up], when[up], contact[up]
        addr = pop.addresses(pop.holder[who], when)
        self._gather(who, when, contact, addr)
        return self._events(who, when, contact, addr)

    def _gather(self, who: I64, when: F64, contact: I64, addr: U64) -> None:
        # check-ins come sorted by machine, then time: runs and change points replace sorting
        tally, pop = self.tally, self.pop
        self.checkins += len(who)
        self.reached[who] = True
        if not len(who):
            return
        new_machine = np.concatenate(([True], who[1:] != who[:-1]))
        day = (when // 86400).astype(np.int64)
        hour = (when // 3600).astype(np.int64)
        new_day = new_machine | np.concatenate(([True], day[1:] != day[:-1]))
        new_hour = new_machine | np.concatenate(([True], hour[1:] != hour[:-1]))
        for target, values in ((tally.days, day[new_day]), (tally.hours, hour[new_hour])):
            counts = np.bincount(values)
            for key in np.flatnonzero(counts).tolist():
                target[key] = target.get(key, 0) + int(counts[key])
        new_addr = new_machine | np.concatenate(([True], addr[1:] != addr[:-1]))
        first_day = new_addr | new_day
        tally.day_addresses.append(
            np.unique((day[first_day].astype(np.uint64) << np.uint64(32)) | addr[first_day])
        )
        isp = pop.isp[who[new_addr]].astype(np.uint64)
        tally.isp_addresses.append(np.unique((isp << np.uint64(32)) | addr[new_addr]))
        counts = np.bincount(contact, minlength=len(self.chain))
        for index, c in enumerate(self.chain):
            tally.channels[c.channel] = tally.channels.get(c.channel, 0) + int(counts[index])
        # who was behind which address: one row per stretch of the same address
        starts = np.flatnonzero(new_addr)
        ends = np.concatenate((starts[1:], [len(who)])) - 1
        tally.spans.append(
            pa.table(
                {
                    "address": ip_strings(addr[starts]),
                    "bot_id": self.bot_hex.take(pa.array(who[starts])),
                    "first_seen": pa.array(
                        self.begin_us + (when[starts] * 1e6).astype(np.int64)
                    ).cast(pa.timestamp("us", tz="UTC")),
                    "last_seen": pa.array(self.begin_us + (when[ends] * 1e6).astype(np.int64)).cast(
                        pa.timestamp("us", tz="UTC")
                    ),
                }
            )
        )
        self._addr_ids = (np.cumsum(new_addr) - 1, addr[new_addr])

    def _events(self, who: I64, when: F64, contact: I64, addr: U64) -> pa.Table:
        pop = self.pop
        n = len(who)
        stamps = self.begin_us + (when * 1_000_000).astype(np.int64)
        day = (when // 86400).astype(np.int64)
        is_dga = np.array([c.channel == "dga" for c in self.chain])[contact]
        name_id = np.where(is_dga, len(self.chain) + day, contact)
        ids, distinct = self._addr_ids  # from _gather: each stretch's address, formatted once
        bot_ip = _decode(ids, ip_strings(distinct))
        who_idx = pa.array(who)
        version = str(self.settings.version)
        http = {
            "timestamp": stamps + 50_000,
            "protocol": pa.repeat(pa.scalar("tcp"), n),
            "application": pa.repeat(pa.scalar("http"), n),
            "src_ip": bot_ip,
            "src_port": (32768 + splitmix(stamps.astype(np.uint64)) % np.uint64(28000)).astype(
                np.int32
            ),
            "dst_ip": pa.repeat(pa.scalar(self.sink_ip), n),
            "dst_port": np.full(n, 80, dtype=np.int32),
            "family": pa.repeat(pa.scalar("megad-sim"), n),
            "channel": _decode(contact, self.channels),
            "bot_id": self.bot_hex.take(who_idx),
            "version": pa.repeat(pa.scalar(version), n),
            "http_method": pa.repeat(pa.scalar("GET"), n),
            "http_url": self.urls.take(who_idx),
            "http_host": _decode(name_id, self.names),
            "http_agent": pa.repeat(pa.scalar(f"megad-sim/{version}"), n),
            "machine_name": self.machine_names.take(who_idx),
        }
        # lookups through a hard-coded resolver come from the bot's own address
        is_resolver = np.array([c.channel == "dns-servers" for c in self.chain])[contact]
        direct = np.flatnonzero(is_resolver)
        # lookups through the ISP resolver: one per resolver, name and TTL window (its cache)
        via = np.flatnonzero(~is_resolver)
        isp = pop.isp[who[via]]
        bucket = (when[via] // DNS_TTL).astype(np.int64)
        slot = (isp * len(self.names) + name_id[via]) * self.buckets + bucket
        fresh = np.flatnonzero(~self.dns_seen[slot])  # resolver caches that have expired
        slots, first_index = np.unique(slot[fresh], return_index=True)
        self.dns_seen[slots] = True
        cached = np.sort(via[fresh[first_index]])
        rows = np.concatenate((direct, cached))
        m = len(rows)
        sources = pa.concat_arrays(
            [
                bot_ip.take(pa.array(direct)),
                _unique_strings(pop.resolver_address(pop.isp[who[cached]])),
            ]
        )
        dns = {
            "timestamp": stamps[rows],
            "protocol": pa.repeat(pa.scalar("udp"), m),
            "application": pa.repeat(pa.scalar("dns"), m),
            "src_ip": sources,
            "src_port": (1024 + splitmix(stamps[rows].astype(np.uint64)) % np.uint64(60000)).astype(
                np.int32
            ),
            "dst_ip": pa.repeat(pa.scalar(self.sink_ip), m),
            "dst_port": np.full(m, 53, dtype=np.int32),
            "family": pa.repeat(pa.scalar("megad-sim"), m),
            "channel": _decode(contact[rows], self.channels),
            "dns_qname": _decode(name_id[rows], self.names),
            "dns_qtype": np.ones(m, dtype=np.int32),
            "dns_rcode": np.zeros(m, dtype=np.int32),
        }
        requests = _table(http, n)
        k = self.settings.requests_per_checkin
        if k > 1:  # several requests a check-in, on one connection, 1.5 s apart
            requests = requests.take(pa.array(np.repeat(np.arange(n), k)))
            later = np.repeat(stamps + 50_000, k) + np.tile(np.arange(k) * 1_500_000, n)
            stamp = SCHEMA.field("timestamp")
            index = requests.schema.get_field_index("timestamp")
            requests = requests.set_column(
                index, stamp, pa.array(later, pa.int64()).cast(stamp.type)
            )
        return pa.concat_tables([requests, _table(dns, m)])

    def truth(self) -> Truth:
        """The ground truth of the run."""
        tally, pop, begin = self.tally, self.pop, self.begin
        day_addr = (
            np.unique(np.concatenate(tally.day_addresses))
            if tally.day_addresses
            else np.zeros(0, np.uint64)
        )
        addr_days, addr_counts = np.unique(day_addr >> np.uint64(32), return_counts=True)
        per_day_addresses = dict(zip(addr_days.tolist(), addr_counts.tolist(), strict=True))
        isp_addr = (
            np.unique(np.concatenate(tally.isp_addresses))
            if tally.isp_addresses
            else np.zeros(0, np.uint64)
        )
        isp_ids, isp_counts = np.unique(isp_addr >> np.uint64(32), return_counts=True)
        per_isp_addresses = dict(zip(isp_ids.tolist(), isp_counts.tolist(), strict=True))
        truth = Truth(
            machines=int(self.reached.sum()),
            population=pop.machines,
            checkins=self.checkins,
            per_channel=dict(tally.channels),
            settings=_settings_json(self.settings, self.chain, begin),
        )
        truth.per_day = [
            {
                "date": str((begin + dt.timedelta(days=d)).date()),
                "machines": count,
                "addresses": per_day_addresses.get(d, 0),
            }
            for d, count in sorted(tally.days.items())
        ]
        truth.per_hour = [
            {"hour": (begin + dt.timedelta(hours=h)).isoformat(), "machines": count}
            for h, count in sorted(tally.hours.items())
        ]
        for index, profile in enumerate(pop.settings.profiles):
            members = pop.isp == index
            shared = np.bincount(pop.holder, minlength=len(pop.holder_isp))
            behind = int((shared[pop.holder[members]] > 1).sum())
            truth.per_isp[str(profile.asn)] = {
                "machines": int((members & self.reached).sum()),
                "addresses": per_isp_addresses.get(index, 0),
                "lease_hours": profile.lease_hours,
                "nat_share": profile.nat_share,
                "nat_share_realised": behind / max(int(members.sum()), 1),
            }
        return truth


def _settings_json(settings: Settings, chain: list[Contact], begin: dt.datetime) -> dict[str, Any]:
    return {
        "machines": settings.machines,
        "days": settings.days,
        "seed": settings.seed,
        "interval_minutes": settings.interval_minutes,
        "always_on": settings.always_on,
        "retries": settings.retries,
        "tz_spread_hours": settings.tz_spread_hours,
        "evening_share": settings.evening_share,
        "day_off": settings.day_off,
        "new_share": settings.new_share,
        "cleanup_per_day": settings.cleanup_per_day,
        "interval_spread": settings.interval_spread,
        "jitter": settings.jitter,
        "requests_per_checkin": settings.requests_per_checkin,
        "outage_hours": settings.outage_hours,
        "lease_spread": settings.lease_spread,
        "start": begin.isoformat(),
        "contacts": [vars(c) for c in chain],
        "isps": [vars(p) for p in settings.profiles],
    }


def offline(
    op: Operation,
    plan: Plan,
    settings: Settings,
    writer: EventWriter,
    family: str | None = None,
    start: dt.datetime | None = None,
    progress: Progress | None = None,
    chunk: int = 16_000,
    addresses_file: Path | None = None,
) -> Truth:
    """Write the events the sinkhole would record for the population into `writer`."""
    fam = family or op.targets[0].family
    begin = start or dt.datetime.combine(op.operation.start, dt.time(), tzinfo=dt.UTC)
    run = _Offline(op, plan, settings, fam, begin)
    events = 0
    for first in range(0, run.pop.machines, chunk):
        last = min(first + chunk, run.pop.machines)
        batch = run.chunk(first, last)
        events += writer.write_table(batch)
        if progress is not None:
            progress(last, run.pop.machines)
    truth = run.truth()
    truth.events = events
    if addresses_file is not None:
        private.folder(addresses_file.parent)
        spans = run.tally.spans or [SPAN_SCHEMA.empty_table()]
        with private.open_file(addresses_file) as handle:
            pq.write_table(pa.concat_tables(spans), handle, compression="zstd")
        truth.addresses_file = addresses_file.name
    return truth


def _table(columns: dict[str, Any], rows: int) -> pa.Table:
    arrays = []
    for f in SCHEMA:
        if f.name in columns:
            values = columns[f.name]
            if f.name == "timestamp":
                arrays.append(pa.array(values, pa.int64()).cast(f.type))
            elif isinstance(values, pa.Array):
                arrays.append(values.cast(f.type))
            else:
                arrays.append(pa.array(values, f.type))
        else:
            arrays.append(pa.nulls(rows, f.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
