"""The timeline file: when each action of the plan takes effect, checked against the plan.

Day 0 is the operation's first day. A step is one action on one subject: the
registry of a TLD seizes its planned names (``seize``), a hard-coded resolver or
C&C address is shut or redirected (``take-down``), a network's resolvers apply
the plan's RPZ (``rpz``), or a hold ends (``hold-ends``: one subject, or all).
Every mistake is one line naming the file, the line and the key.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from sinkhole import emulate, families, tlds
from sinkhole.exceptions import DgaError, SinkholeError
from sinkhole.operation import MAX_HOLD_DAYS, Operation, locate
from sinkhole.plan import Plan
from sinkhole.simulate import Seized

Action = Literal["seize", "take-down", "rpz", "hold-ends"]


class TimelineError(SinkholeError):
    """The timeline file is invalid."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Step(_Model):
    """One action and the day it takes effect."""

    day: StrictInt | dt.date
    action: Action
    tld: str | None = None
    address: str | None = None
    network: str | int | None = None
    note: str = ""

    @model_validator(mode="after")
    def _subject(self) -> Step:
        given = [k for k in ("tld", "address", "network") if getattr(self, k) is not None]
        wanted = {"seize": "tld", "take-down": "address", "rpz": "network"}.get(self.action)
        if wanted is not None and given != [wanted]:
            raise ValueError(f'action "{self.action}" takes `{wanted}` (and no other subject)')
        if self.action == "hold-ends" and len(given) > 1:
            raise ValueError('action "hold-ends" takes one of tld, address, network, or none')
        return self


class Horizon(_Model):
    """How long to simulate, and the population that walks the chain."""

    days: Annotated[int, Field(ge=1, le=MAX_HOLD_DAYS)] | None = None
    machines: Annotated[int, Field(ge=1, le=5_000_000)] = 264_000
    seed: int = 1


class _File(_Model):
    timeline: Horizon = Horizon()
    step: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Timeline:
    """A validated timeline: from which day (0-based) each action holds, and until when."""

    days: int
    machines: int = 264_000
    seed: int = 1
    seize: dict[str, int] = field(default_factory=dict)
    take_down: dict[str, int] = field(default_factory=dict)
    rpz: dict[int, int] = field(default_factory=dict)
    #: (kind, subject) -> first day no longer held; ("all", "") for every hold
    ends: dict[tuple[str, str], int] = field(default_factory=dict)

    def end(self, kind: str, subject: str) -> float:
        """The first day the hold on `subject` no longer applies (inf: never ends)."""
        return min(self.ends.get((kind, subject), math.inf), self.ends.get(("all", ""), math.inf))

    def in_force(self, kind: str, subject: str, day: int) -> bool:
        """Whether the action on `subject` holds on `day`."""
        starts = {"tld": self.seize, "address": self.take_down}.get(kind)
        first = starts.get(subject) if starts is not None else self.rpz.get(int(subject))
        return first is not None and first <= day < self.end(kind, subject)


@dataclass(frozen=True)
class Held:
    """What the plan asks for: planned names with their days, addresses with their networks."""

    domains: dict[str, tuple[dt.date, dt.date]]
    addresses: dict[str, str]

    @classmethod
    def from_plan(cls, plan: Plan) -> Held:
        """The plan as computed."""
        return cls(
            {h.domain: (h.first_day, h.last_day) for h in plan.domains.values()},
            {a.ip: a.network for a in plan.addresses},
        )

    @classmethod
    def from_files(cls, folder: Path) -> Held:
        """A plan folder's domains.csv and addresses.csv (possibly edited by hand)."""
        seized = Seized.from_files(folder)
        rows = csv.DictReader(io.StringIO((folder / "addresses.csv").read_text()))
        return cls(seized.domains, {r["ip"]: r.get("network") or r["ip"] for r in rows})


def networks() -> dict[int, int]:
    """The simulated population's networks: ASN -> index in the emulator's ISP profiles."""
    return {p.asn: index for index, p in enumerate(emulate.LAB_PROFILES)}


def load(path: Path, op: Operation, held: Held) -> Timeline:
    """Read and validate a timeline file against the operation and its plan."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TimelineError(f"{path}: no such timeline file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TimelineError(f"{path}: cannot read: {exc}") from None
    return loads(text, op, held, path)


def loads(text: str, op: Operation, held: Held, path: Path | None = None) -> Timeline:
    """Validate timeline TOML text; any problem is one line naming the file and the key."""
    where = str(path) if path else "<timeline>"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TimelineError(f"{where}: malformed TOML: {exc}") from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif not isinstance(error.get("input"), dict | list):
            message += f" (got {error.get('input')!r})"
        raise TimelineError(_at(where, text, loc, message)) from None
    days = parsed.timeline.days or op.operation.hold_days
    last_day = op.operation.start + dt.timedelta(days=days - 1)
    for target in op.targets:
        dga = families.get(target.family).dga
        try:
            if dga is not None:
                dga.check_dates(op.operation.start, last_day)
        except DgaError as exc:
            message = f"{exc} (set [timeline] days to simulate fewer days)"
            raise TimelineError(_at(where, text, ("timeline", "days"), message)) from None
    out = Timeline(days, parsed.timeline.machines, parsed.timeline.seed)
    plan_tlds = {tlds.tld_of(n) for n in held.domains}
    lab = networks()
    for index, step in enumerate(parsed.step):

        def fail(key: str, message: str, index: int = index) -> TimelineError:
            return TimelineError(_at(where, text, ("step", index, key), message))

        day = step.day
        if isinstance(day, dt.date):
            day = (day - op.operation.start).days
        if not 0 <= day < days:
            last = op.operation.start + dt.timedelta(days=days - 1)
            raise fail(
                "day",
                f"day {step.day} is outside the simulated days 0-{days - 1} "
                f"({op.operation.start}..{last}; set [timeline] days to simulate longer)",
            )
        if step.tld is not None:
            tld = step.tld.lower().strip(".")
            if tld not in plan_tlds:
                known = " ".join(f".{t}" for t in sorted(plan_tlds)) or "none"
                raise fail("tld", f"unknown TLD .{tld}: the plan has no names under it ({known})")
            reason = tlds.why_unseizable(tld, op)
            if reason is not None and step.action == "seize":
                raise fail("tld", f"no registry can seize .{tld} ({reason}); use rpz instead")
            subject: tuple[str, str] = ("tld", tld)
        elif step.address is not None:
            try:
                ip = str(ipaddress.ip_address(step.address))
            except ValueError:
                raise fail("address", f"{step.address!r} is not an IP address") from None
            if ip not in held.addresses:
                raise fail("address", f"{ip} is not an address of the plan (addresses.csv)")
            subject = ("address", ip)
        elif step.network is not None:
            text_asn = str(step.network).upper().removeprefix("AS")
            if not text_asn.isdigit() or int(text_asn) not in lab:
                known = ", ".join(f"AS{a}" for a in lab)
                raise fail("network", f"unknown network {step.network!r} (simulated: {known})")
            subject = ("network", str(int(text_asn)))
        else:
            subject = ("all", "")
        kind, key = subject
        starts = {"seize": out.seize, "take-down": out.take_down}
        if step.action in starts:
            table = starts[step.action]
            table[key] = min(table.get(key, day), day)
        elif step.action == "rpz":
            out.rpz[int(key)] = min(out.rpz.get(int(key), day), day)
        else:
            out.ends[(kind, key)] = min(out.ends.get((kind, key), day), day)
    return out


def _at(where: str, text: str, loc: tuple[Any, ...], message: str) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    line = locate(text, loc)
    return f"{where}:{line}: {key}: {message}" if line else f"{where}: {key}: {message}"
