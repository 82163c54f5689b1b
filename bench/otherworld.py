"""otherworld: an INDEPENDENT population of infected machines, written into a sinkhole store.

A second world for validating the "distinct infected machines" estimator, written
without looking at the project's own emulator or estimator (only the column values of
an emulated HTTP check-in were copied). Every address is in private or reserved space
(10.0.0.0/8, 172.16.0.0/12, 100.64.0.0/10); no real network appears.

Use::

    truth = generate(root, "mixed-global", machines=20000, days=5, seed=1)
    python -m bench.otherworld ROOT --profile mixed-global --machines 20000 --days 5 --seed 1

``generate`` writes HTTP check-in events of the SYNTHETIC megad-sim family through
``EventWriter(root, "otherworld").write_table`` and returns a truth dict (below).
``World`` + ``generate_world`` make a world from explicit parameters; ``make_world``
builds one from a named profile with overrides; ``Simulation`` exposes the hidden state
(machine of every row, address leases) for tests, never written to the store.

The model
=========

Machines and lines
------------------
``machines`` infected machines (all that are infected at some moment of the window)
are split over ISPs by ``Isp.share``. A machine sits behind a *line* (the address the
sinkhole sees): an office line (a static address with ``2 + Poisson(office_size-2)``
machines behind one NAT), or a home line whose kind is drawn from ``Isp.lines``. Home
lines of the kinds forced, lease, static and fixed-line cgnat host two or three
infected machines with probability ``household_multi`` (default 0.05; Maier et al.,
PAM 2011, saw > 90% of DSL lines behind NAT and ~10% with several hosts active at once,
an upper bound for several *infected* ones). Each line has its own UTC offset, drawn
from its ISP's ``zones`` (several zones per ISP); its machines share it.

Line kinds (how the public address of a line changes):

* ``forced``: the ISP cuts the line every 24 h and the router gets a new address
  (German DSL; Padmanabhan et al., IMC 2016: periodic renumbering most commonly every
  24 h). A share ``reconnect_fixed`` of routers reconnect at a fixed local time drawn
  in ``reconnect_night`` (local hours); the others 24 h after the last connect, so a
  CPE outage shifts their clock. CPE outages (``cpe_outages_per_day``) also change the
  address (Padmanabhan: other changes follow outages at the customer). No address is
  ever held longer than 24 h.
* ``lease``: the address lasts a lognormal time (``lease_median_hours``,
  ``lease_sigma``; a renewal process, started at a random age), plus CPE outages.
* ``session``: a new address at every on-line session of the machine (the PC dials
  PPPoE itself, or a modem stick with public addresses); the line holds no address
  while the machine is off.
* ``static``: one address for the whole window (also every office line).
* ``cgnat``: the subscriber is mapped to one of a small pool of public addresses
  (``cgnat_ratio`` infected subscribers per public address) and a port block of
  ``port_block`` ports (port-block allocation: ``src_port`` lies in the block). The
  mapping is drawn afresh at each session start (``cgnat_per_session``, mobile) or at
  each lease change (fixed line), and also ``cgnat_remaps_per_day`` times a day at
  random (idle mappings expire). CGNAT is reported in > 90% of cellular ASes and
  roughly 13-18% of fixed-line eyeball ASes (Richter et al., IMC 2016, as cited in
  population-facts.md): mobile ISPs here are all cgnat, a few fixed-line ones partly.

Dynamic addresses (forced, lease, session) come from the ISP's pool of
``pool_factor`` addresses per dynamic line, split into ``regions`` prefixes (think BGP
prefixes); a line has a home prefix and a new address comes from it with probability
``same_region`` (default 0.5: Padmanabhan et al. found about half of all changes move
to a different BGP prefix). A new address is drawn from the addresses free at that
moment, at random (``allocation="random"``, RADIUS pools) or the longest-free first
(``"lru"``, DHCP): released addresses are handed to other subscribers, so one address
hosts different machines over time, and a forced reconnect never returns the address
just given up. Cai & Heidemann (IMC 2010) found ~40% of /24 blocks dynamic, > 80% in
China, < 30% in the US: the profiles' line mixes follow that.

Presence (local time of the line's zone)
----------------------------------------
Each machine has a presence class (``classes`` of the world, or of its ISP), its own
habits (its mean start/end times) and day-to-day noise:

* ``always_on``: on all day; off a whole day with ``off_weekday``/``off_weekend``;
  reboots ``reboots_per_day`` (1-10 min off, the bot restarts with a new phase).
* ``office``: weekdays from ~``start_h`` for ~``hours``; off a weekday with
  ``off_weekday`` (leave, sickness), on a weekend day with ``on_weekend``.
  Office-line machines are office class (or always_on with ``office_always_on``).
* ``evening``: ~``start_h`` to ~``end_h`` (up to 03:00 the next day), weekends
  ``weekend_earlier_h`` earlier; whole days off ``off_weekday``/``off_weekend``.
* ``daytime``: Poisson(``sessions``) sessions a day (morning, midday, evening peaks),
  lognormal lengths (median ``median_min``, ``sigma``, at most ``cap_h``); days off.
* ``mobile``: like daytime, more and shorter sessions (laptops on mobile data).

On top, ``away_share`` of machines are away 2-5 whole consecutive days.
Defaults (``PRESENCE``; override e.g. ``presence={"office": {"start_h": 9}}``):
always_on off_weekday .01, off_weekend .02; office start_h 8.25 (habit sd .75 h, day sd
.35 h), hours 8.75 (habit sd .75, day sd .5), off_weekday .06, on_weekend .04; evening
start_h 18.75, end_h 23.5 (habit sd 1 h, day sd .6 h), off_weekday .2, off_weekend .25,
weekend_earlier_h 3.5; daytime sessions 2.4, median_min 80, sigma .8, cap_h 6, off .2;
mobile sessions 5, median_min 30, sigma .9, cap_h 3, off .08. Zones are fixed UTC
offsets as they stand in November (no DST switch inside a window).
Rajab et al. (HotBots 2007) saw a 48,500-member botnet never above 3,000 on line at
once: presence, not membership, drives what the sinkhole sees in an hour.

Infection and check-ins
-----------------------
Machines are infected before the window, or newly during it (each with probability
``infections_per_day * days``, at a uniform time); each is cleaned with hazard
``cleanups_per_day`` (disappears for good). A bot runs while its machine is on line
and infected. It checks in every T: T is drawn per bot from ``checkin_seconds``
((seconds, weight) pairs: builds with different configs), times a per-bot lognormal
factor (``interval_sigma``); every sleep varies by ``±jitter`` (uniform, so the phase
drifts). The first check-in comes ``boot_delay`` seconds after the bot starts (boot,
infection); a bot already running at the window start has a uniform phase. A check-in
is one TCP connection with 1-3 HTTP requests (``requests``: per bot), ``request_gap``
seconds apart; with ``retry_prob`` the bot connects again 20-120 s later.

Sinkhole outages (``outages``: (start hour in the window, hours)) record nothing; a
bot whose check-in failed retries every ``outage_retry`` seconds, so it checks in
within that time after the outage ends and then keeps its interval from there (0: no
retries, the schedule just continues).

Event columns (copied from an emulated megad-sim HTTP check-in): protocol tcp,
application http, src_ip/src_port (home routers keep the host's port 49152-65535,
office NAT picks 1024-65535, CGNAT within the subscriber's block), dst_ip ``sink_ip``
port 80, sensor "otherworld", family megad-sim, channel static-domains (a fixed
reserved name per bot) or dga (``dga_share``: that UTC day's first megad-sim DGA
name), version (``versions``), GET, ``/cfg/?v=<version>``, User-Agent
``megad-sim/<version>``. No column carries a machine identity: bot_id and
machine_name are null and the URL is the same for every bot of a version.

Truth
-----
``machines``: distinct machines with >= 1 recorded event; ``machine_days`` and
``active_per_day`` (UTC days); ``peak_online``: the most infected machines on line in
any UTC hour (bot running, whether or not it checked in then), with
``peak_online_hour``; ``peak_checking_in``: the most machines with a recorded event
in one hour; ``unique_ips``; ``checkins`` (recorded connections); ``events`` (rows);
``infected``, ``new_infections``, ``cleanups``, ``lines``, ``per_isp``, ``pools``
(declared address pools per ISP), ``outages`` and ``params`` (every parameter).
For orientation: Torpig showed ~6.8 addresses per bot id over 10 days
(Stone-Gross et al., CCS 2009); Mega-D was estimated at ~2 addresses per machine over
5 days (FireEye 2009, from Srizbi); an always-on host renumbered every μ shows about
1 + W/μ addresses over a window W.

World parameters (defaults; profiles change some)
-------------------------------------------------
machines=20000, days=5, seed=1, start="2026-11-02" (a Monday, 00:00 UTC),
isps (profile), classes=always_on .18, office .07, evening .35, daytime .32,
mobile .08, office_always_on=0.15, presence=PRESENCE, away_share=0.04,
checkin_seconds=((3600, 1.0),), interval_sigma=0.05, jitter=0.1,
boot_delay=(15, 240) s, requests=((1, .7), (2, .2), (3, .1)), request_gap=(1, 4) s,
retry_prob=0.02, infections_per_day=0.015, cleanups_per_day=0.01,
reboots_per_day=0.1, outages=(), outage_retry=300 s, versions=((3, .8), (2, .2)),
dga_share=0.12, sink_ip="127.0.0.1" (the lab operation examples/megad-sim.toml).

Isp parameters (defaults): share, zones ((utc offset hours, weight), ...), lines
((kind, weight), ...), office_share=0, office_size=6, classes=() (the world's),
household_multi=0.05, reconnect_night=(1, 6), reconnect_fixed=0.6,
lease_median_hours=72, lease_sigma=1.0, cpe_outages_per_day=0.02, pool_factor=6,
regions=4, same_region=0.5, allocation="random", cgnat_ratio=16,
cgnat_per_session=True, cgnat_remaps_per_day=1, port_block=512.
Override one ISP of a profile with ``isp_overrides={"de-dsl": {"pool_factor": 3}}``,
or replace them all with ``isps=[{...}, ...]``.

Address space: ISP number i (at most 16) gets 10.(16i).0.0/12 for dynamic pools,
172.(16+i).0.0/16 for static and office lines and 100.(64+i).0.0/16 for CGNAT pools;
hosts .1-.254 of each /24. ``truth["pools"]`` lists the exact ranges used.

Profiles (``PROFILES``; shares are of the machines):

* ``dsl-europe``: de-dsl .36 (forced 94%, 70% at a fixed night time, 6 prefixes),
  pl-dsl .14 (forced 75%, PPPoE per session 25%), eu-cable .18 (lease, median 96 h,
  lru), eu-fibre .08 (static 60%, lease 240 h), eu-business .16 (85% of machines in
  offices of ~8), eu-mobile .08 (CGNAT); zones UTC+0..+3; check-ins hourly.
* ``mobile-cgnat``: apac-mobile .3, br-mobile .2, eu-mobile .15 (CGNAT per session,
  24-40 subscribers per address), us-cable-cgnat .15 (fixed-line CGNAT 70%),
  latam-3g .1 (public address per session), tr-dsl .1 (forced); check-ins every
  20 min (.5), 30 min (.3), 60 min (.2); more mobile and daytime machines.
* ``mixed-global``: us-cable .17 (lease 168 h, lru), us-business .05 (offices),
  br-broadband .1 (lease + fixed CGNAT), de-dsl .1 (forced), ru-dsl .1 (forced, lease,
  session; UTC+2..+7), cn-broadband .14 (lease 18 h + per session, dense pool),
  in-mobile .12 (CGNAT), jp-fibre .06, au-nbn .05 (UTC+8..+11), eu-mobile .05,
  global-corp .06 (offices of ~12 in five zones); check-ins 20 min (.15), 1 h (.6),
  2 h (.25).
* ``enterprise-nat``: mostly offices of 10-20 machines behind static addresses (EU, US,
  APAC), a little forced DSL and cable; check-ins 1 h (.7) and 2 h (.3);
  office_always_on .25. NAT pulls the address count below the machine count.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import heapq
import ipaddress
import json
import math
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sinkhole.events.schema import SCHEMA
from sinkhole.events.writer import EventWriter
from sinkhole.families.megad_sim import STATIC_DOMAINS, MegadSimDga

DAY = 86_400
US = 1_000_000
DAY_US = DAY * US
KINDS = ("forced", "lease", "session", "static", "cgnat", "office")
K = {name: code for code, name in enumerate(KINDS)}
CLASSES = ("always_on", "office", "evening", "daytime", "mobile")
C = {name: code for code, name in enumerate(CLASSES)}
#: A second name the lab operation adds to the family's reserved list.
HOSTS = (*STATIC_DOMAINS, "mailer-megad-sim.example")
HOST_WEIGHTS = (0.5, 0.15, 0.1, 0.1, 0.15)
#: Per-line time keys: line * SPAN + (time - horizon start); SPAN > any horizon.
SPAN = 1 << 42
NEVER = 1 << 61

PRESENCE: dict[str, dict[str, float]] = {
    "always_on": {"off_weekday": 0.01, "off_weekend": 0.02},
    "office": {
        "start_h": 8.25,
        "start_habit_h": 0.75,
        "start_day_h": 0.35,
        "hours": 8.75,
        "hours_habit": 0.75,
        "hours_day": 0.5,
        "off_weekday": 0.06,
        "on_weekend": 0.04,
    },
    "evening": {
        "start_h": 18.75,
        "end_h": 23.5,
        "habit_h": 1.0,
        "day_h": 0.6,
        "off_weekday": 0.2,
        "off_weekend": 0.25,
        "weekend_earlier_h": 3.5,
    },
    "daytime": {"sessions": 2.4, "median_min": 80.0, "sigma": 0.8, "cap_h": 6.0, "off": 0.2},
    "mobile": {"sessions": 5.0, "median_min": 30.0, "sigma": 0.9, "cap_h": 3.0, "off": 0.08},
}
#: Start-time peaks (local hour, sd hours, weight) of the daytime and mobile sessions.
PEAKS = {
    "daytime": ((8.0, 1.0, 0.25), (13.0, 1.5, 0.25), (19.5, 2.0, 0.5)),
    "mobile": ((8.5, 1.5, 0.3), (13.0, 2.0, 0.3), (19.0, 2.5, 0.4)),
}

Pairs = tuple[tuple[Any, float], ...]


@dataclass(frozen=True)
class Isp:
    """One ISP: its share of the machines, zones, line kinds and address behaviour."""

    name: str
    share: float
    zones: tuple[tuple[float, float], ...]
    lines: tuple[tuple[str, float], ...]
    office_share: float = 0.0
    office_size: float = 6.0
    classes: tuple[tuple[str, float], ...] = ()
    household_multi: float = 0.05
    reconnect_night: tuple[float, float] = (1.0, 6.0)
    reconnect_fixed: float = 0.6
    lease_median_hours: float = 72.0
    lease_sigma: float = 1.0
    cpe_outages_per_day: float = 0.02
    pool_factor: float = 6.0
    regions: int = 4
    same_region: float = 0.5
    allocation: str = "random"
    cgnat_ratio: float = 16.0
    cgnat_per_session: bool = True
    cgnat_remaps_per_day: float = 1.0
    port_block: int = 512

    @classmethod
    def of(cls, value: Isp | dict[str, Any]) -> Isp:
        """An Isp from itself or a dict (lists become tuples)."""
        if isinstance(value, Isp):
            return value
        return cls(**{k: _tupled(v) for k, v in value.items()})


@dataclass
class World:
    """Every parameter of a world (see the module docstring)."""

    isps: tuple[Isp, ...]
    machines: int = 20_000
    days: int = 5
    seed: int = 1
    profile: str = "custom"
    start: str = "2026-11-02"
    classes: tuple[tuple[str, float], ...] = (
        ("always_on", 0.18),
        ("office", 0.07),
        ("evening", 0.35),
        ("daytime", 0.32),
        ("mobile", 0.08),
    )
    office_always_on: float = 0.15
    presence: dict[str, dict[str, float]] = field(default_factory=lambda: copy.deepcopy(PRESENCE))
    away_share: float = 0.04
    checkin_seconds: tuple[tuple[float, float], ...] = ((3600.0, 1.0),)
    interval_sigma: float = 0.05
    jitter: float = 0.1
    boot_delay: tuple[float, float] = (15.0, 240.0)
    requests: tuple[tuple[int, float], ...] = ((1, 0.7), (2, 0.2), (3, 0.1))
    request_gap: tuple[float, float] = (1.0, 4.0)
    retry_prob: float = 0.02
    infections_per_day: float = 0.015
    cleanups_per_day: float = 0.01
    reboots_per_day: float = 0.1
    outages: tuple[tuple[float, float], ...] = ()
    outage_retry: float = 300.0
    versions: tuple[tuple[int, float], ...] = ((3, 0.8), (2, 0.2))
    dga_share: float = 0.12
    sink_ip: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.isps = tuple(Isp.of(i) for i in self.isps)
        for name in ("classes", "checkin_seconds", "boot_delay", "requests", "request_gap"):
            setattr(self, name, _tupled(getattr(self, name)))
        self.outages = _tupled(self.outages)
        self.versions = _tupled(self.versions)
        merged = copy.deepcopy(PRESENCE)
        for cls_name, values in self.presence.items():
            if cls_name not in merged:
                raise ValueError(f"unknown presence class {cls_name!r}")
            merged[cls_name].update(values)
        self.presence = merged
        self.check()

    @property
    def begin(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.start).replace(tzinfo=dt.UTC)

    def check(self) -> None:
        if not 1 <= len(self.isps) <= 16:
            raise ValueError("a world needs 1 to 16 ISPs")
        if self.machines < 1 or not 1 <= self.days <= 30:
            raise ValueError("machines >= 1 and 1 <= days <= 30")
        for isp in self.isps:
            for kind, _ in isp.lines:
                if kind not in KINDS or kind == "office":
                    raise ValueError(f"{isp.name}: unknown line kind {kind!r}")
            for cls_name, _ in isp.classes:
                if cls_name not in C:
                    raise ValueError(f"{isp.name}: unknown presence class {cls_name!r}")
            if isp.allocation not in ("random", "lru"):
                raise ValueError(f"{isp.name}: allocation is random or lru")
            if not 1 <= isp.regions <= 16:
                raise ValueError(f"{isp.name}: 1 to 16 regions")
        for cls_name, _ in self.classes:
            if cls_name not in C:
                raise ValueError(f"unknown presence class {cls_name!r}")
        for start_h, hours in self.outages:
            if hours <= 0 or start_h < 0:
                raise ValueError("outages are (start hour >= 0, hours > 0)")

    def params(self) -> dict[str, Any]:
        """Every parameter as JSON-ready values."""
        out: dict[str, Any] = dataclasses.asdict(self)
        return json.loads(json.dumps(out))


def _tupled(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_tupled(v) for v in value)
    return value


# -- profiles -------------------------------------------------------------------

_MOBILE = (("mobile", 0.7), ("daytime", 0.15), ("evening", 0.15))
_EU = ((1.0, 0.6), (0.0, 0.2), (2.0, 0.2))


def _dsl_europe() -> dict[str, Any]:
    return {
        "isps": (
            Isp(
                "de-dsl",
                0.36,
                ((1.0, 0.92), (2.0, 0.05), (0.0, 0.03)),
                (("forced", 0.94), ("static", 0.06)),
                office_share=0.04,
                reconnect_fixed=0.7,
                pool_factor=5,
                regions=6,
            ),
            Isp(
                "pl-dsl",
                0.14,
                ((1.0, 0.85), (2.0, 0.15)),
                (("forced", 0.75), ("session", 0.25)),
                reconnect_fixed=0.4,
                cpe_outages_per_day=0.04,
                pool_factor=4,
            ),
            Isp(
                "eu-cable",
                0.18,
                _EU,
                (("lease", 0.95), ("static", 0.05)),
                lease_median_hours=96,
                lease_sigma=1.2,
                allocation="lru",
            ),
            Isp(
                "eu-fibre",
                0.08,
                _EU,
                (("static", 0.6), ("lease", 0.4)),
                office_share=0.1,
                lease_median_hours=240,
            ),
            Isp(
                "eu-business",
                0.16,
                ((1.0, 0.6), (0.0, 0.2), (2.0, 0.15), (3.0, 0.05)),
                (("static", 1.0),),
                office_share=0.85,
                office_size=8,
            ),
            Isp(
                "eu-mobile",
                0.08,
                ((1.0, 0.7), (2.0, 0.2), (0.0, 0.1)),
                (("cgnat", 1.0),),
                classes=_MOBILE,
                cgnat_ratio=24,
            ),
        ),
        "checkin_seconds": ((3600.0, 1.0),),
    }


def _mobile_cgnat() -> dict[str, Any]:
    return {
        "isps": (
            Isp(
                "apac-mobile",
                0.3,
                ((5.5, 0.5), (7.0, 0.2), (8.0, 0.2), (9.0, 0.1)),
                (("cgnat", 1.0),),
                classes=_MOBILE,
                cgnat_ratio=40,
                cgnat_remaps_per_day=2,
            ),
            Isp(
                "br-mobile",
                0.2,
                ((-3.0, 0.8), (-4.0, 0.15), (-5.0, 0.05)),
                (("cgnat", 1.0),),
                classes=_MOBILE,
                cgnat_ratio=24,
            ),
            Isp(
                "eu-mobile",
                0.15,
                ((1.0, 0.6), (2.0, 0.3), (0.0, 0.1)),
                (("cgnat", 1.0),),
                classes=_MOBILE,
                cgnat_ratio=16,
            ),
            Isp(
                "us-cable-cgnat",
                0.15,
                ((-5.0, 0.45), (-6.0, 0.3), (-7.0, 0.1), (-8.0, 0.15)),
                (("cgnat", 0.7), ("lease", 0.3)),
                cgnat_per_session=False,
                cgnat_ratio=8,
                cgnat_remaps_per_day=0.2,
                lease_median_hours=24,
                household_multi=0.08,
            ),
            Isp(
                "latam-3g",
                0.1,
                ((-5.0, 0.5), (-6.0, 0.3), (-3.0, 0.2)),
                (("session", 1.0),),
                classes=_MOBILE,
                pool_factor=3,
                regions=2,
            ),
            Isp("tr-dsl", 0.1, ((3.0, 0.8), (2.0, 0.2)), (("forced", 1.0),), reconnect_fixed=0.3),
        ),
        "checkin_seconds": ((1200.0, 0.5), (1800.0, 0.3), (3600.0, 0.2)),
        "classes": (("always_on", 0.15), ("evening", 0.3), ("daytime", 0.35), ("mobile", 0.2)),
    }


def _mixed_global() -> dict[str, Any]:
    us = ((-5.0, 0.47), (-6.0, 0.29), (-7.0, 0.07), (-8.0, 0.17))
    return {
        "isps": (
            Isp(
                "us-cable",
                0.17,
                us,
                (("lease", 0.9), ("static", 0.1)),
                office_share=0.04,
                lease_median_hours=168,
                lease_sigma=1.3,
                allocation="lru",
                pool_factor=8,
            ),
            Isp(
                "us-business",
                0.05,
                ((-5.0, 0.5), (-6.0, 0.2), (-8.0, 0.3)),
                (("static", 1.0),),
                office_share=0.8,
                office_size=10,
            ),
            Isp(
                "br-broadband",
                0.1,
                ((-3.0, 0.8), (-4.0, 0.15), (-5.0, 0.05)),
                (("lease", 0.5), ("cgnat", 0.5)),
                cgnat_per_session=False,
                lease_median_hours=36,
                cgnat_ratio=10,
                cgnat_remaps_per_day=0.3,
            ),
            Isp(
                "de-dsl",
                0.1,
                ((1.0, 0.92), (2.0, 0.05), (0.0, 0.03)),
                (("forced", 0.94), ("static", 0.06)),
                office_share=0.05,
                reconnect_fixed=0.7,
                regions=6,
            ),
            Isp(
                "ru-dsl",
                0.1,
                ((3.0, 0.55), (5.0, 0.15), (7.0, 0.15), (4.0, 0.1), (2.0, 0.05)),
                (("forced", 0.5), ("lease", 0.3), ("session", 0.2)),
                lease_median_hours=24,
            ),
            Isp(
                "cn-broadband",
                0.14,
                ((8.0, 0.97), (9.0, 0.03)),
                (("lease", 0.5), ("session", 0.4), ("static", 0.1)),
                lease_median_hours=18,
                lease_sigma=0.8,
                pool_factor=3,
                regions=8,
            ),
            Isp(
                "in-mobile",
                0.12,
                ((5.5, 0.9), (5.75, 0.05), (6.0, 0.05)),
                (("cgnat", 1.0),),
                classes=_MOBILE,
                cgnat_ratio=32,
                cgnat_remaps_per_day=2,
            ),
            Isp(
                "jp-fibre",
                0.06,
                ((9.0, 0.9), (10.0, 0.1)),
                (("static", 0.5), ("lease", 0.5)),
                office_share=0.1,
                lease_median_hours=720,
            ),
            Isp(
                "au-nbn",
                0.05,
                ((11.0, 0.55), (10.0, 0.2), (10.5, 0.08), (8.0, 0.12), (9.5, 0.05)),
                (("lease", 0.85), ("static", 0.15)),
                lease_median_hours=240,
            ),
            Isp(
                "eu-mobile",
                0.05,
                ((1.0, 0.6), (2.0, 0.3), (0.0, 0.1)),
                (("cgnat", 1.0),),
                classes=_MOBILE,
                cgnat_ratio=16,
            ),
            Isp(
                "global-corp",
                0.06,
                ((1.0, 0.3), (-5.0, 0.25), (8.0, 0.2), (5.5, 0.15), (0.0, 0.1)),
                (("static", 1.0),),
                office_share=0.9,
                office_size=12,
            ),
        ),
        "checkin_seconds": ((1200.0, 0.15), (3600.0, 0.6), (7200.0, 0.25)),
    }


def _enterprise_nat() -> dict[str, Any]:
    return {
        "isps": (
            Isp(
                "eu-business",
                0.35,
                ((1.0, 0.6), (0.0, 0.2), (2.0, 0.2)),
                (("static", 1.0),),
                office_share=0.9,
                office_size=15,
            ),
            Isp(
                "us-business",
                0.3,
                ((-5.0, 0.5), (-6.0, 0.2), (-8.0, 0.3)),
                (("static", 1.0),),
                office_share=0.9,
                office_size=20,
            ),
            Isp(
                "apac-business",
                0.15,
                ((8.0, 0.5), (9.0, 0.3), (5.5, 0.2)),
                (("static", 0.7), ("lease", 0.3)),
                office_share=0.8,
                office_size=10,
            ),
            Isp("de-dsl", 0.1, ((1.0, 1.0),), (("forced", 1.0),), household_multi=0.1),
            Isp(
                "us-cable",
                0.1,
                ((-5.0, 0.6), (-8.0, 0.4)),
                (("lease", 1.0),),
                lease_median_hours=168,
                allocation="lru",
            ),
        ),
        "checkin_seconds": ((3600.0, 0.7), (7200.0, 0.3)),
        "office_always_on": 0.25,
    }


PROFILES = {
    "dsl-europe": _dsl_europe,
    "mobile-cgnat": _mobile_cgnat,
    "mixed-global": _mixed_global,
    "enterprise-nat": _enterprise_nat,
}


def make_world(
    profile: str = "mixed-global",
    machines: int = 20000,
    days: int = 5,
    seed: int = 1,
    **overrides: Any,
) -> World:
    """The World of a named profile, with `overrides` of any World field.

    ``isp_overrides={"name": {field: value}}`` changes single ISPs of the profile.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    base = PROFILES[profile]()
    isp_overrides = overrides.pop("isp_overrides", None) or {}
    known = {f.name for f in dataclasses.fields(World)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown world parameter(s): {', '.join(unknown)}")
    base.update(overrides)
    isps = [Isp.of(i) for i in base.pop("isps")]
    names = {i.name for i in isps}
    for name in isp_overrides:
        if name not in names:
            raise ValueError(f"no ISP {name!r} in profile {profile!r}")
    isps = [
        dataclasses.replace(i, **{k: _tupled(v) for k, v in isp_overrides.get(i.name, {}).items()})
        for i in isps
    ]
    return World(isps=tuple(isps), machines=machines, days=days, seed=seed, profile=profile, **base)


# -- helpers ----------------------------------------------------------------------


def _pick(rng: np.random.Generator, pairs: Pairs, n: int) -> np.ndarray:
    """n draws of the keys of (key, weight) pairs."""
    keys = np.array([k for k, _ in pairs])
    weights = np.array([w for _, w in pairs], dtype=float)
    return keys[rng.choice(len(keys), size=n, p=weights / weights.sum())]


def _fill(sizes: np.ndarray, total: int) -> np.ndarray:
    """The first sizes that add up to `total` (the last one cut down)."""
    sums = np.cumsum(sizes)
    last = int(np.searchsorted(sums, total))
    out = sizes[: last + 1].copy()
    out[-1] -= sums[last] - total
    return out


def _periodic(
    start: np.ndarray,
    end: np.ndarray,
    first: np.ndarray,
    period: np.ndarray,
    jitter: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Per segment: points start+first, then one every period·(1±jitter), while < end.

    All int64 microseconds; returns (segment index, time) of every point.
    """
    s0 = start + first
    low = np.maximum((period * (1 - jitter)).astype(np.int64), 1)
    n = np.where(end > s0, (end - s0) // low + 1, 0)
    seg = np.repeat(np.arange(len(start)), n)
    if not seg.size:
        return seg, np.zeros(0, np.int64)
    firsts = np.cumsum(n) - n
    if jitter:
        gaps = (period[seg] * rng.uniform(1 - jitter, 1 + jitter, seg.size)).astype(np.int64)
    else:
        gaps = period[seg].astype(np.int64)
    gaps[firsts[n > 0]] = 0
    total = np.cumsum(gaps)
    times = total - total[firsts[seg]] + s0[seg]
    keep = times < end[seg]
    return seg[keep], times[keep]


def _merge(m: np.ndarray, s: np.ndarray, e: np.ndarray, bias: int) -> tuple[np.ndarray, ...]:
    """Union of each machine's intervals (int64 µs, all > -bias), sorted by machine, start."""
    ks = m.astype(np.int64) * SPAN + (s + bias)
    ke = m.astype(np.int64) * SPAN + (e + bias)
    order = np.argsort(ks, kind="stable")
    ks, ke, m = ks[order], ke[order], m[order]
    reach = np.maximum.accumulate(ke)
    new = np.ones(len(ks), dtype=bool)
    new[1:] = ks[1:] > reach[:-1]
    heads = np.flatnonzero(new)
    ends = np.maximum.reduceat(ke, heads) if heads.size else ke[:0]
    mm = m[heads]
    base = mm.astype(np.int64) * SPAN + bias
    return mm, ks[heads] - base, ends - base


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _dotted(values: np.ndarray) -> pa.Array:
    """IPv4 integers as dotted quads, each distinct address formatted once."""
    uniq, inverse = np.unique(values, return_inverse=True)
    parts = [
        pc.cast(pa.array(((uniq >> shift) & 255).astype(np.uint8)), pa.string())
        for shift in (24, 16, 8, 0)
    ]
    text = pc.binary_join_element_wise(*parts, ".")
    return pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), text).cast(
        pa.string()
    )


def _hosts(base: int, first_block: int, blocks: int) -> np.ndarray:
    """Addresses .1-.254 of `blocks` consecutive /24s from base + first_block·256."""
    starts = base + (first_block + np.arange(blocks, dtype=np.int64)) * 256
    return (starts[:, None] + np.arange(1, 255)[None, :]).ravel()


def _cidrs(first: int, last: int) -> list[str]:
    a, b = ipaddress.IPv4Address(int(first)), ipaddress.IPv4Address(int(last))
    return [str(net) for net in ipaddress.summarize_address_range(a, b)]


def _allocate(
    starts: np.ndarray,
    ends: np.ndarray,
    regions: np.ndarray,
    pools: list[np.ndarray],
    policy: str,
    draws: np.ndarray,
) -> np.ndarray:
    """An address for every interval, never one busy at that moment.

    Intervals are served in start order; an address whose interval ended strictly before
    a start is free again (so a line reconnecting never gets back the address it had).
    `random`: a uniform free address of the region; `lru`: the longest-free one.
    """
    free: list[Any] = [deque(p.tolist()) if policy == "lru" else p.tolist() for p in pools]
    busy: list[tuple[int, int, int]] = []
    st, en, rg, uu = starts.tolist(), ends.tolist(), regions.tolist(), draws.tolist()
    out = [0] * len(st)
    lru = policy == "lru"
    for i in np.argsort(starts, kind="stable").tolist():
        s = st[i]
        while busy and busy[0][0] < s:
            _, a, r = heapq.heappop(busy)
            free[r].append(a)
        r = rg[i]
        if not free[r]:
            r = max(range(len(free)), key=lambda k: len(free[k]))
            if not free[r]:
                raise ValueError("address pool exhausted: raise pool_factor")
        lst = free[r]
        if lru:
            a = lst.popleft()
        else:
            j = int(uu[i] * len(lst))
            a = lst[j]
            lst[j] = lst[-1]
            lst.pop()
        heapq.heappush(busy, (en[i], a, r))
        out[i] = a
    return np.array(out, dtype=np.int64)


# -- the simulation ------------------------------------------------------------------


@dataclass
class Block:
    """The recorded events of a range of machines (hidden machine ids included)."""

    machine: np.ndarray  # hidden: never written
    checkin: np.ndarray  # hidden: the connection each request belongs to
    time_us: np.ndarray  # since the window start
    addr: np.ndarray
    port: np.ndarray
    host: np.ndarray
    version: np.ndarray


class Simulation:
    """The world's hidden state: lines, sessions, address leases; events block by block."""

    BLOCK = 8192

    def __init__(self, world: World) -> None:
        self.w = world
        self.rng = np.random.default_rng(world.seed)
        self.window_us = world.days * DAY_US
        self.h0 = -5 * DAY_US
        self.h1 = (world.days + 3) * DAY_US
        self._population()
        self._sessions()
        self._lifecycles()
        self._leases()
        self._bots()

    # -- machines and lines --------------------------------------------------------

    def _population(self) -> None:
        w, rng = self.w, self.rng
        shares = np.array([i.share for i in w.isps], dtype=float)
        counts = rng.multinomial(w.machines, shares / shares.sum())
        l_isp, l_kind, l_zone, l_size = [], [], [], []
        for i, isp in enumerate(w.isps):
            n = int(counts[i])
            if not n:
                continue
            n_off = int(rng.binomial(n, isp.office_share)) if isp.office_share else 0
            parts = []
            if n_off:
                sizes = 2 + rng.poisson(max(isp.office_size - 2.0, 0.0), n_off)
                parts.append((np.full(n_off, K["office"]), sizes, n_off))
            n_home = n - n_off
            if n_home:
                kinds = np.array([K[k] for k in _pick(rng, isp.lines, n_home)])
                shared = np.isin(kinds, [K["forced"], K["lease"], K["static"]])
                if not isp.cgnat_per_session:
                    shared |= kinds == K["cgnat"]
                multi = shared & (rng.random(n_home) < isp.household_multi)
                sizes = 1 + multi * (1 + (rng.random(n_home) < 0.3))
                parts.append((kinds, sizes, n_home))
            for kinds, drawn, total in parts:
                sizes = _fill(drawn, total)
                l_kind.append(kinds[: len(sizes)])
                l_size.append(sizes)
                l_isp.append(np.full(len(sizes), i))
                l_zone.append(_pick(rng, isp.zones, len(sizes)).astype(float))
        self.line_isp = np.concatenate(l_isp)
        self.line_kind = np.concatenate(l_kind)
        self.line_zone = np.concatenate(l_zone)
        self.line_size = np.concatenate(l_size)
        lines = len(self.line_isp)
        self.m_line = np.repeat(np.arange(lines), self.line_size)
        self.n = len(self.m_line)
        self.m_isp = self.line_isp[self.m_line]
        self.m_zone = self.line_zone[self.m_line]
        # presence classes
        office = self.line_kind[self.m_line] == K["office"]
        cls = np.empty(self.n, dtype=np.int64)
        cls[office] = np.where(
            rng.random(int(office.sum())) < w.office_always_on, C["always_on"], C["office"]
        )
        for i, isp in enumerate(w.isps):
            home = np.flatnonzero((self.m_isp == i) & ~office)
            mix = isp.classes or w.classes
            cls[home] = [C[c] for c in _pick(rng, mix, home.size)]
        self.m_class = cls
        # forced-reconnect clocks and home prefixes of the lines
        night = np.array([i.reconnect_night for i in w.isps])[self.line_isp]
        fixed_share = np.array([i.reconnect_fixed for i in w.isps])[self.line_isp]
        self.line_fixed = rng.random(lines) < fixed_share
        self.line_clock = np.where(
            self.line_fixed,
            rng.uniform(night[:, 0], night[:, 1]) * 3600.0,
            rng.uniform(0, DAY, lines),
        )
        regions = np.array([i.regions for i in w.isps])[self.line_isp]
        self.line_region = (rng.random(lines) * regions).astype(np.int64)

    # -- presence ----------------------------------------------------------------

    def _sessions(self) -> None:
        w, rng = self.w, self.rng
        days = np.arange(-1, w.days + 1)
        nd = len(days)
        weekday = (w.begin.weekday() + days) % 7
        weekend = weekday >= 5
        away = rng.random(self.n) < w.away_share
        away_from = rng.integers(-1, w.days + 1, self.n)
        away_len = np.where(away, rng.integers(2, 6, self.n), 0)
        out_m, out_s, out_e = [], [], []
        for name in CLASSES:
            idx = np.flatnonzero(self.m_class == C[name])
            if not idx.size:
                continue
            p = w.presence[name]
            mm = idx.size
            shape = (mm, nd)
            if name == "always_on":
                off = np.where(weekend, p["off_weekend"], p["off_weekday"])
                on = rng.random(shape) >= off
                reboot = rng.random(shape) < w.reboots_per_day
                at = rng.uniform(0, DAY, shape)
                back = at + rng.uniform(60, 600, shape)
                pieces = [
                    (on, np.zeros(shape), np.where(reboot, at, DAY)),
                    (on & reboot & (back < DAY), back, np.full(shape, float(DAY))),
                ]
            elif name == "office":
                start_habit = p["start_h"] + p["start_habit_h"] * rng.standard_normal(mm)
                hours_habit = p["hours"] + p["hours_habit"] * rng.standard_normal(mm)
                start = start_habit[:, None] + p["start_day_h"] * rng.standard_normal(shape)
                hours = hours_habit[:, None] + p["hours_day"] * rng.standard_normal(shape)
                start = np.clip(start, 5.0, 12.0) * 3600
                hours = np.clip(hours, 3.0, 13.0) * 3600
                on = np.where(
                    weekend,
                    rng.random(shape) < p["on_weekend"],
                    rng.random(shape) >= p["off_weekday"],
                )
                pieces = [(on, start, start + hours)]
            elif name == "evening":
                s_habit = p["start_h"] + p["habit_h"] * rng.standard_normal(mm)
                e_habit = p["end_h"] + p["habit_h"] * rng.standard_normal(mm)
                start = s_habit[:, None] + p["day_h"] * rng.standard_normal(shape)
                start = start - weekend * rng.uniform(0, p["weekend_earlier_h"], shape)
                end = e_habit[:, None] + p["day_h"] * rng.standard_normal(shape)
                start = np.clip(start, 6.0, 23.5)
                end = np.clip(np.maximum(end, start + 0.5), None, 27.0)
                off = np.where(weekend, p["off_weekend"], p["off_weekday"])
                on = rng.random(shape) >= off
                pieces = [(on, start * 3600, end * 3600)]
            else:
                k = rng.poisson(p["sessions"], shape)
                k[rng.random(shape) < p["off"]] = 0
                rows = np.repeat(np.arange(mm * nd), k.ravel())
                peaks = PEAKS[name]
                which = rng.choice(len(peaks), rows.size, p=[c for _, _, c in peaks])
                mean = np.array([a for a, _, _ in peaks])[which]
                sd = np.array([b for _, b, _ in peaks])[which]
                start = np.clip(mean + sd * rng.standard_normal(rows.size), 5.0, 24.5) * 3600
                length = np.clip(
                    _lognormal(rng, p["median_min"] * 60, p["sigma"], rows.size),
                    180.0,
                    p["cap_h"] * 3600,
                )
                mach = idx[rows // nd]
                day = days[rows % nd]
                keep = ~((day >= away_from[mach]) & (day < away_from[mach] + away_len[mach]))
                zero = day * DAY - self.m_zone[mach] * 3600
                out_m.append(mach[keep])
                out_s.append((zero + start)[keep])
                out_e.append((zero + start + length)[keep])
                continue
            mach = np.repeat(idx, nd).reshape(shape)
            day = np.broadcast_to(days, shape)
            present = ~((day >= away_from[mach]) & (day < away_from[mach] + away_len[mach]))
            zero = day * DAY - self.m_zone[mach] * 3600
            for on_mask, start, end in pieces:
                sel = on_mask & present & (end > start)
                out_m.append(mach[sel])
                out_s.append((zero + start)[sel])
                out_e.append((zero + end)[sel])
        m = np.concatenate(out_m)
        s = (np.concatenate(out_s) * US).astype(np.int64)
        e = (np.concatenate(out_e) * US).astype(np.int64)
        self.s_machine, self.s_start, self.s_end = _merge(m, s, e, -self.h0)

    def _lifecycles(self) -> None:
        w, rng = self.w, self.rng
        new = rng.random(self.n) < min(w.infections_per_day * w.days, 0.9)
        infect = np.where(new, rng.uniform(0, self.window_us, self.n), -NEVER).astype(np.int64)
        if w.cleanups_per_day > 0:
            wait = rng.exponential(DAY_US / w.cleanups_per_day, self.n)
            clean = np.maximum(infect, 0) + wait.astype(np.int64)
            clean = np.where(clean < self.window_us, clean, NEVER)
        else:
            clean = np.full(self.n, NEVER)
        self.infect, self.clean = infect, clean.astype(np.int64)

    # -- addresses -----------------------------------------------------------------

    def _outages(self, lines: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
        count = self.rng.poisson(rate * (self.h1 - self.h0) / DAY_US, lines.size)
        who = np.repeat(lines, count)
        return who, self.rng.integers(self.h0, self.h1, who.size)

    def _renewal(self, lines: np.ndarray, isp: Isp) -> tuple[np.ndarray, np.ndarray]:
        """Lease changes: lognormal durations from a random age; the horizon start too."""
        rng = self.rng
        median = isp.lease_median_hours * 3600 * US

        def dur(n: int) -> np.ndarray:
            return np.maximum(_lognormal(rng, median, isp.lease_sigma, n), 600 * US)

        cur = self.h0 + (rng.random(lines.size) * dur(lines.size)).astype(np.int64)
        who_all, t_all = [lines, lines], [np.full(lines.size, self.h0), cur]
        who = lines
        while who.size:
            alive = cur < self.h1
            who, cur = who[alive], cur[alive]
            cur = cur + dur(who.size).astype(np.int64)
            inside = cur < self.h1
            who_all.append(who[inside])
            t_all.append(cur[inside])
        who, t = np.concatenate(who_all), np.concatenate(t_all)
        inside = t < self.h1
        return who[inside], t[inside]

    def _forced(self, lines: np.ndarray, isp: Isp) -> tuple[np.ndarray, np.ndarray]:
        """24-hour reconnects at a fixed local time or 24 h after the last connect."""
        rng = self.rng
        clock = ((self.line_clock[lines] - self.line_zone[lines] * 3600) * US).astype(np.int64)
        o_who, o_t = self._outages(lines, isp.cpe_outages_per_day)
        fixed = self.line_fixed[lines]
        grid_days = np.arange(-3, self.w.days + 3, dtype=np.int64) * DAY_US
        f_lines = lines[fixed]
        f_who = np.repeat(f_lines, grid_days.size)
        f_t = (clock[fixed][:, None] + grid_days[None, :]).ravel()
        o_fixed = self.line_fixed[o_who]
        # timer lines: a 24 h clock restarted by every outage
        t_lines = lines[~fixed]
        anchor = clock[~fixed] - 3 * DAY_US
        a_who = np.concatenate([t_lines, o_who[~o_fixed]])
        a_t = np.concatenate([anchor, o_t[~o_fixed]])
        order = np.lexsort((a_t, a_who))
        a_who, a_t = a_who[order], a_t[order]
        nxt = np.full(a_t.size, self.h1 + DAY_US)
        same = a_who[1:] == a_who[:-1]
        nxt[:-1][same] = a_t[1:][same]
        seg, t_t = _periodic(a_t, nxt, np.zeros_like(a_t), np.full(a_t.size, DAY_US), 0.0, rng)
        who = np.concatenate([f_who, o_who[o_fixed], a_who[seg], t_lines])
        t = np.concatenate([f_t, o_t[o_fixed], t_t, anchor - DAY_US])
        return who, t

    def _session_points(self, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The on-line sessions of the single machine of each line (line, start, end)."""
        first_machine = np.cumsum(self.line_size) - self.line_size
        machines = first_machine[lines]
        sel = np.isin(self.s_machine, machines)
        return self.m_line[self.s_machine[sel]], self.s_start[sel], self.s_end[sel]

    def _leases(self) -> None:
        w, rng = self.w, self.rng
        look_line, look_start, look_addr, look_block = [], [], [], []
        self.lease_line, self.lease_start, self.lease_end, self.lease_addr = [], [], [], []
        self.pools: dict[str, dict[str, list[str]]] = {}
        for i, isp in enumerate(w.isps):
            mine = self.line_isp == i
            kind = self.line_kind
            pools: dict[str, list[str]] = {"dynamic": [], "static": [], "cgnat": []}
            self.pools[isp.name] = pools
            # dynamic: forced, lease, session lines share one pool
            parts = []
            for code, make in (
                (K["forced"], self._forced),
                (K["lease"], self._renewal),
            ):
                lines = np.flatnonzero(mine & (kind == code))
                if lines.size:
                    who, t = make(lines, isp)
                    if code == K["lease"]:
                        o_who, o_t = self._outages(lines, isp.cpe_outages_per_day)
                        who, t = np.concatenate([who, o_who]), np.concatenate([t, o_t])
                    order = np.lexsort((t, who))
                    who, t = who[order], t[order]
                    end = np.empty_like(t)
                    end[:-1] = t[1:]
                    last = np.ones(t.size, dtype=bool)
                    last[:-1] = who[1:] != who[:-1]
                    end[last] = t[last] + DAY_US if code == K["forced"] else self.h1 + DAY_US
                    keep = end > t
                    parts.append((who[keep], t[keep], end[keep]))
            sess = np.flatnonzero(mine & (kind == K["session"]))
            if sess.size:
                parts.append(self._session_points(sess))
            if parts:
                who = np.concatenate([p[0] for p in parts])
                start = np.concatenate([p[1] for p in parts])
                end = np.concatenate([p[2] for p in parts])
                n_lines = int(np.unique(who).size)
                size = max(254, math.ceil(isp.pool_factor * n_lines))
                blocks = math.ceil(size / isp.regions / 254)
                stride = ((1 << 20) // isp.regions) // 256
                if blocks > stride:
                    raise ValueError(f"{isp.name}: dynamic pool larger than its /12")
                base = int(ipaddress.IPv4Address("10.0.0.0")) + (i << 20)
                region_pools = [_hosts(base, r * stride, blocks) for r in range(isp.regions)]
                for r in range(isp.regions):
                    first = base + r * stride * 256
                    pools["dynamic"] += _cidrs(first, first + blocks * 256 - 1)
                home = self.line_region[who]
                other = (
                    home + 1 + rng.integers(0, max(isp.regions - 1, 1), who.size)
                ) % isp.regions
                region = np.where(rng.random(who.size) < isp.same_region, home, other)
                addr = _allocate(
                    start, end, region, region_pools, isp.allocation, rng.random(who.size)
                )
                for target, values in zip(
                    (self.lease_line, self.lease_start, self.lease_end, self.lease_addr),
                    (who, start, end, addr),
                    strict=True,
                ):
                    target.append(values)
                look_line.append(who)
                look_start.append(start)
                look_addr.append(addr)
                look_block.append(np.full(who.size, -1))
            # static and office lines: distinct addresses of the ISP's /16, for good
            fixed = np.flatnonzero(mine & np.isin(kind, [K["static"], K["office"]]))
            if fixed.size:
                base = int(ipaddress.IPv4Address("172.16.0.0")) + (i << 16)
                if fixed.size > 256 * 254:
                    raise ValueError(f"{isp.name}: more static lines than its /16 holds")
                slot = rng.choice(256 * 254, fixed.size, replace=False)
                addr = base + (slot // 254) * 256 + slot % 254 + 1
                pools["static"].append(f"172.{16 + i}.0.0/16")
                look_line.append(fixed)
                look_start.append(np.full(fixed.size, self.h0))
                look_addr.append(addr)
                look_block.append(np.full(fixed.size, -1))
            # CGNAT: a few public addresses shared by many subscribers, with port blocks
            cg = np.flatnonzero(mine & (kind == K["cgnat"]))
            if cg.size:
                subscribers = int(self.line_size[cg].sum())
                size = max(4, math.ceil(subscribers / isp.cgnat_ratio))
                blocks = math.ceil(size / 254)
                base = int(ipaddress.IPv4Address("100.64.0.0")) + (i << 16)
                public = _hosts(base, 0, blocks)[:size]
                pools["cgnat"] += _cidrs(public[0], public[-1])
                if isp.cgnat_per_session:
                    who, t, end = self._session_points(cg)
                    count = rng.poisson(isp.cgnat_remaps_per_day * (end - t) / DAY_US)
                    r_who = np.repeat(who, count)
                    r_t = np.repeat(t, count) + (
                        rng.random(r_who.size) * np.repeat(end - t, count)
                    ).astype(np.int64)
                else:
                    who, t = self._renewal(cg, isp)
                    o_who, o_t = self._outages(cg, isp.cpe_outages_per_day)
                    r_who, r_t = self._outages(cg, isp.cgnat_remaps_per_day)
                    who, t = np.concatenate([who, o_who]), np.concatenate([t, o_t])
                who, t = np.concatenate([who, r_who]), np.concatenate([t, r_t])
                n_blocks = (65536 - 1024) // isp.port_block if isp.port_block else 0
                look_line.append(who)
                look_start.append(t)
                look_addr.append(public[rng.integers(0, size, who.size)])
                look_block.append(
                    rng.integers(0, n_blocks, who.size) if n_blocks else np.full(who.size, -2)
                )
        line = np.concatenate(look_line).astype(np.int64)
        offset = np.concatenate(look_start) - self.h0
        if offset.size and (offset.min() < 0 or offset.max() >= SPAN):
            raise AssertionError("an address interval outside the horizon")
        key = line * SPAN + offset
        order = np.argsort(key, kind="stable")
        self.look_key = key[order]
        self.look_line = line[order]
        self.look_addr = np.concatenate(look_addr).astype(np.int64)[order]
        self.look_block = np.concatenate(look_block).astype(np.int64)[order]
        self.lease_line = np.concatenate(self.lease_line) if self.lease_line else np.zeros(0, int)
        self.lease_start = (
            np.concatenate(self.lease_start) if self.lease_start else np.zeros(0, int)
        )
        self.lease_end = np.concatenate(self.lease_end) if self.lease_end else np.zeros(0, int)
        self.lease_addr = np.concatenate(self.lease_addr) if self.lease_addr else np.zeros(0, int)

    def address(self, machine: np.ndarray, time_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(address, port block) of each machine's line at each time (-1: no block)."""
        line = self.m_line[machine].astype(np.int64)
        pos = np.searchsorted(self.look_key, line * SPAN + (time_us - self.h0), side="right") - 1
        if np.any(pos < 0) or np.any(self.look_line[pos] != line):
            raise AssertionError("a check-in outside every address interval of its line")
        return self.look_addr[pos], self.look_block[pos]

    # -- bots ----------------------------------------------------------------------

    def _bots(self) -> None:
        w, rng = self.w, self.rng
        n = self.n
        base = _pick(rng, w.checkin_seconds, n).astype(float)
        self.period = (base * np.exp(w.interval_sigma * rng.standard_normal(n)) * US).astype(
            np.int64
        )
        self.requests = _pick(rng, w.requests, n).astype(np.int64)
        self.version = _pick(rng, w.versions, n).astype(np.int64)
        dga = rng.random(n) < w.dga_share
        self.host = np.where(
            dga, -1, _pick(rng, tuple(zip(range(5), HOST_WEIGHTS, strict=True)), n)
        )

    def checkin_sessions(self, lo: int, hi: int) -> tuple[np.ndarray, ...]:
        """(machine, start, end, fresh) of the bot-running sessions of machines lo..hi-1."""
        a, b = np.searchsorted(self.s_machine, [lo, hi])
        m, s, e = self.s_machine[a:b], self.s_start[a:b], self.s_end[a:b]
        inf, cl = self.infect[m], self.clean[m]
        cs = np.maximum(s, np.maximum(inf, 0))
        ce = np.minimum(e, np.minimum(cl, self.window_us))
        fresh = (s >= 0) | (inf >= s)
        keep = ce > cs
        return m[keep], cs[keep], ce[keep], fresh[keep]

    def blocks(self) -> Iterator[Block]:
        """The recorded events, BLOCK machines at a time."""
        for lo in range(0, self.n, self.BLOCK):
            yield self._block(lo, min(lo + self.BLOCK, self.n))

    def _block(self, lo: int, hi: int) -> Block:
        w, rng = self.w, self.rng
        m, s, e, fresh = self.checkin_sessions(lo, hi)
        period = self.period[m]
        boot = rng.uniform(w.boot_delay[0], w.boot_delay[1], m.size) * US
        first = np.where(fresh, boot, rng.random(m.size) * period).astype(np.int64)
        seg, t = _periodic(s, e, first, period, w.jitter, rng)
        seg_m, seg_end = m, e
        for o_start_h, o_hours in sorted(w.outages):
            o_s, o_e = int(o_start_h * 3600 * US), int((o_start_h + o_hours) * 3600 * US)
            failed = (t >= o_s) & (t < o_e)
            hit = np.unique(seg[failed])
            if not hit.size:
                continue
            drop = np.isin(seg, hit) & (t >= o_s)
            seg, t = seg[~drop], t[~drop]
            if w.outage_retry > 0:
                cont = hit[seg_end[hit] > o_e]
                again = o_e + (rng.random(cont.size) * w.outage_retry * US).astype(np.int64)
                ok = again < seg_end[cont]
                cont, again = cont[ok], again[ok]
                sub, t2 = _periodic(
                    again,
                    seg_end[cont],
                    np.zeros(cont.size, np.int64),
                    self.period[seg_m[cont]],
                    w.jitter,
                    rng,
                )
                offset = seg_m.size
                seg_m = np.concatenate([seg_m, seg_m[cont]])
                seg_end = np.concatenate([seg_end, seg_end[cont]])
                seg, t = np.concatenate([seg, sub + offset]), np.concatenate([t, t2])
        # retries: the same bot connects again 20-120 s later (if still on line)
        again = rng.random(t.size) < w.retry_prob
        t_retry = t[again] + rng.uniform(20, 120, int(again.sum())).astype(np.int64) * US
        ok = t_retry < seg_end[seg[again]]
        seg = np.concatenate([seg, seg[again][ok]])
        t = np.concatenate([t, t_retry[ok]])
        machine = seg_m[seg]
        recorded = self._recorded(t)
        t, machine = t[recorded], machine[recorded]
        order = np.lexsort((machine, t))
        t, machine = t[order], machine[order]
        addr, block = self.address(machine, t)
        kind = self.line_kind[self.m_line[machine]]
        port = np.where(
            kind == K["office"],
            rng.integers(1024, 65536, t.size),
            rng.integers(49152, 65536, t.size),
        )
        pb = np.array([i.port_block for i in w.isps])[self.m_isp[machine]]
        cg = block >= 0
        port[cg] = 1024 + block[cg] * pb[cg] + rng.integers(0, pb[cg])
        # requests of one connection, a few seconds apart, same source port
        k = self.requests[machine]
        checkin = np.repeat(np.arange(t.size), k)
        nth = np.arange(checkin.size) - np.repeat(np.cumsum(k) - k, k)
        gap = rng.uniform(w.request_gap[0], w.request_gap[1], t.size) * US
        rt = t[checkin] + (nth * gap[checkin]).astype(np.int64)
        keep = self._recorded(rt)
        checkin, rt = checkin[keep], rt[keep]
        machine_r = machine[checkin]
        day = rt // DAY_US
        host = self.host[machine_r]
        host = np.where(host < 0, len(HOSTS) + day, host)
        return Block(
            machine=machine_r,
            checkin=checkin + lo * (1 << 32),
            time_us=rt,
            addr=addr[checkin],
            port=port[checkin].astype(np.int32),
            host=host,
            version=self.version[machine_r],
        )

    def _recorded(self, t: np.ndarray) -> np.ndarray:
        ok = (t >= 0) & (t < self.window_us)
        for o_start_h, o_hours in self.w.outages:
            o_s, o_e = o_start_h * 3600 * US, (o_start_h + o_hours) * 3600 * US
            ok &= ~((t >= o_s) & (t < o_e))
        return ok

    # -- output --------------------------------------------------------------------

    def host_names(self) -> list[str]:
        dga = MegadSimDga()
        names = list(HOSTS)
        for d in range(self.w.days):
            date = (self.w.begin + dt.timedelta(days=d)).date()
            names.append(dga.domains_for(date, {"seed": "megad-sim-lab", "count": 1})[0])
        return names

    def table(self, block: Block, names: pa.Array) -> pa.Table:
        """The block's events in the store schema (no hidden column)."""
        n = block.time_us.size
        begin_us = int(self.w.begin.timestamp()) * US
        versions = sorted({v for v, _ in self.w.versions})
        v_index = np.searchsorted(versions, block.version)
        dga = block.host >= len(HOSTS)

        def fixed(value: str | int, dtype: pa.DataType) -> pa.Array:
            return pa.repeat(pa.scalar(value, dtype), n)

        def coded(index: np.ndarray, values: list[str]) -> pa.Array:
            return pa.DictionaryArray.from_arrays(
                pa.array(index.astype(np.int32)), pa.array(values, pa.string())
            ).cast(pa.string())

        columns: dict[str, pa.Array] = {
            "timestamp": pa.array(block.time_us + begin_us, pa.int64()).cast(
                SCHEMA.field("timestamp").type
            ),
            "protocol": fixed("tcp", pa.string()),
            "application": fixed("http", pa.string()),
            "src_ip": _dotted(block.addr),
            "src_port": pa.array(block.port, pa.int32()),
            "dst_ip": fixed(self.w.sink_ip, pa.string()),
            "dst_port": fixed(80, pa.int32()),
            "sensor": fixed("otherworld", pa.string()),
            "family": fixed("megad-sim", pa.string()),
            "channel": coded(dga.astype(np.int64), ["static-domains", "dga"]),
            "version": coded(v_index, [str(v) for v in versions]),
            "http_method": fixed("GET", pa.string()),
            "http_url": coded(v_index, [f"/cfg/?v={v}" for v in versions]),
            "http_host": pa.DictionaryArray.from_arrays(
                pa.array(block.host.astype(np.int32)), names
            ).cast(pa.string()),
            "http_agent": coded(v_index, [f"megad-sim/{v}" for v in versions]),
        }
        arrays = [columns.get(f.name, pa.nulls(n, f.type)) for f in SCHEMA]
        return pa.Table.from_arrays(arrays, schema=SCHEMA)


# -- truth and the entry points ---------------------------------------------------------


def _hours(sim: Simulation, lo: int, hi: int) -> np.ndarray:
    """Distinct machines on line (bot running) per hour of the window, machines lo..hi-1."""
    hours = sim.w.days * 24
    m, s, e, _ = sim.checkin_sessions(lo, hi)
    h0 = s // (3600 * US)
    h1 = (e - 1) // (3600 * US)
    count = h1 - h0 + 1
    rows = np.repeat(np.arange(m.size), count)
    hour = h0[rows] + np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count)
    cells = np.unique(m[rows].astype(np.int64) * hours + hour)
    return np.bincount(cells % hours, minlength=hours)


def run(root: Path, world: World) -> dict[str, Any]:
    """Write the world's events into the store `root`; return its truth."""
    sim = Simulation(world)
    names = pa.array(sim.host_names(), pa.string())
    writer = EventWriter(Path(root), "otherworld")
    days, hours = world.days, world.days * 24
    seen = np.zeros(sim.n, dtype=bool)
    per_day = np.zeros(days, dtype=np.int64)
    online = np.zeros(hours, dtype=np.int64)
    checking = np.zeros(hours, dtype=np.int64)
    addrs: list[np.ndarray] = []
    isp_addrs: list[np.ndarray] = []
    checkins = events = 0
    try:
        for lo in range(0, sim.n, sim.BLOCK):
            hi = min(lo + sim.BLOCK, sim.n)
            block = sim._block(lo, hi)
            if block.time_us.size:
                writer.write_table(sim.table(block, names))
            events += block.time_us.size
            checkins += int(np.unique(block.checkin).size)
            seen[block.machine] = True
            md = np.unique(block.machine.astype(np.int64) * days + block.time_us // DAY_US)
            per_day += np.bincount(md % days, minlength=days)
            mh = np.unique(block.machine.astype(np.int64) * hours + block.time_us // (3600 * US))
            checking += np.bincount(mh % hours, minlength=hours)
            online += _hours(sim, lo, hi)
            addrs.append(np.unique(block.addr))
            isp_addrs.append(
                np.unique(sim.m_isp[block.machine].astype(np.int64) << 32 | block.addr)
            )
    finally:
        writer.close()
    begin = world.begin
    all_addr = np.unique(np.concatenate(addrs)) if addrs else np.zeros(0, np.int64)
    pairs = np.unique(np.concatenate(isp_addrs)) if isp_addrs else np.zeros(0, np.int64)
    per_isp = {}
    for i, isp in enumerate(world.isps):
        per_isp[isp.name] = {
            "machines": int(seen[sim.m_isp == i].sum()),
            "unique_ips": int(((pairs >> 32) == i).sum()),
            "lines": int((sim.line_isp == i).sum()),
        }
    peak = int(online.argmax()) if hours else 0
    return {
        "machines": int(seen.sum()),
        "machine_days": int(per_day.sum()),
        "active_per_day": {
            (begin + dt.timedelta(days=d)).date().isoformat(): int(per_day[d]) for d in range(days)
        },
        "peak_online": int(online.max()),
        "peak_online_hour": (begin + dt.timedelta(hours=peak)).isoformat(),
        "peak_checking_in": int(checking.max()),
        "unique_ips": int(all_addr.size),
        "checkins": checkins,
        "events": events,
        "infected": sim.n,
        "new_infections": int((sim.infect >= 0).sum()),
        "cleanups": int((sim.clean < NEVER).sum()),
        "lines": len(sim.line_isp),
        "office_lines": int((sim.line_kind == K["office"]).sum()),
        "per_isp": per_isp,
        "pools": sim.pools,
        "outages": [
            {
                "start": (begin + dt.timedelta(hours=a)).isoformat(),
                "end": (begin + dt.timedelta(hours=a + b)).isoformat(),
            }
            for a, b in world.outages
        ],
        "profile": world.profile,
        "seed": world.seed,
        "days": world.days,
        "start": begin.isoformat(),
        "params": world.params(),
    }


def generate_world(root: Path, world: World) -> dict[str, Any]:
    """A world from explicit parameters: ``generate_world(root, World(isps=[...], ...))``."""
    return run(root, world)


def generate(
    root: Path,
    profile: str = "mixed-global",
    machines: int = 20000,
    days: int = 5,
    seed: int = 1,
    **overrides: Any,
) -> dict[str, Any]:
    """Write the events of a profile's world into the store `root`; return the truth."""
    return run(root, make_world(profile, machines, days, seed, **overrides))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.otherworld", description=__doc__.split("\n")[0]
    )
    parser.add_argument("root", type=Path, help="event store folder to write")
    parser.add_argument("--profile", default="mixed-global", choices=sorted(PROFILES))
    parser.add_argument("--machines", type=int, default=20000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="override a world parameter, e.g. --set 'outages=[[30, 3]]'",
    )
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = json.loads(value)
    truth = generate(args.root, args.profile, args.machines, args.days, args.seed, **overrides)
    json.dump(truth, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
