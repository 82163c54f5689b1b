"""Bots' fallback logic against what is actually seized: is every escape route closed?

A bot on day D walks its family's channels in order and stops at the first
one that reaches its C&C. A channel is closed on day D when every name it
would try that day is held by the sinkhole and every hard-coded address is
redirected; peer-to-peer channels, and names under a TLD no registry will
seize (`sinkhole.tlds`), are never closed by seizures. The result
says, per family and day, which channels stay open, so a plan edited by hand
(or a registry that did not act) shows where bots would slip through.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field, replace
from pathlib import Path

from sinkhole import families, tlds
from sinkhole.exceptions import PlanError
from sinkhole.families import Channel
from sinkhole.operation import Operation, Target
from sinkhole.plan import Plan


@dataclass
class Seized:
    """What the sinkhole really holds: domains with their days, and redirected IPs."""

    domains: dict[str, tuple[dt.date, dt.date]]
    addresses: set[str]

    @classmethod
    def from_plan(cls, plan: Plan) -> Seized:
        """Everything the plan asks for, as if every registry and ISP had acted."""
        return cls(
            {h.domain: (h.first_day, h.last_day) for h in plan.domains.values()},
            {a.ip for a in plan.addresses},
        )

    @classmethod
    def from_files(cls, folder: Path) -> Seized:
        """Read a plan folder's domains.csv and addresses.csv (possibly edited by hand)."""
        try:
            domains_text = (folder / "domains.csv").read_text()
            address_text = (folder / "addresses.csv").read_text()
            domains = {
                row["domain"]: (
                    dt.date.fromisoformat(row["first_day"]),
                    dt.date.fromisoformat(row["last_day"]),
                )
                for row in csv.DictReader(io.StringIO(domains_text))
            }
            addresses = {row["ip"] for row in csv.DictReader(io.StringIO(address_text))}
        except OSError as exc:
            raise PlanError(f"cannot read the plan in {folder}: {exc.strerror}") from None
        except (KeyError, ValueError) as exc:
            raise PlanError(
                f"{folder}: domains.csv or addresses.csv is malformed ({exc})"
            ) from None
        return cls(domains, addresses)

    def holds(self, name: str, day: dt.date) -> bool:
        """Whether `name` points to the sinkhole on `day`."""
        span = self.domains.get(name)
        return span is not None and span[0] <= day <= span[1]


@dataclass
class Outcome:
    """One family's result over the window."""

    family: str
    days: int
    open_days: dict[str, list[dt.date]] = field(default_factory=dict)
    missed: dict[str, set[str]] = field(default_factory=dict)

    @property
    def closed_days(self) -> int:
        """Days on which every channel of the family was closed."""
        open_any = {d for days in self.open_days.values() for d in days}
        return self.days - len(open_any)


def _chain(target: Target) -> list[Channel]:
    """The family's channels with the analysts' additions merged in, in fallback order."""
    family = families.get(target.family)
    extra = {
        "static-domains": Channel("static-domains", domains=target.static_domains),
        "dns-servers": Channel("dns-servers", ips=target.dns_servers),
        "static-ips": Channel("static-ips", ips=target.static_ips),
    }
    chain = []
    for channel in family.channels:
        added = extra.pop(channel.kind, None)
        base = channel if target.use_family_lists else replace(channel, domains=(), ips=())
        if added is not None:
            base = replace(base, domains=base.domains + added.domains, ips=base.ips + added.ips)
        chain.append(base)
    chain += [c for c in extra.values() if c.domains or c.ips]
    return chain


def run(op: Operation, seized: Seized) -> list[Outcome]:
    """Walk every target family's fallback chain on every day of the window."""
    outcomes = []
    window = op.operation
    # a name no registry will seize is open whatever the plan's files say
    unseizable = set(tlds.unseizable_tlds(op, {tlds.tld_of(n) for n in seized.domains}))
    for target in op.targets:
        chain = _chain(target)
        outcome = Outcome(target.family, window.hold_days)
        for offset in range(window.hold_days):
            day = window.start + dt.timedelta(days=offset)
            for channel in chain:
                if channel.kind == "p2p":
                    outcome.open_days.setdefault("p2p", []).append(day)
                    continue
                names = list(channel.domains)
                if channel.dga is not None:
                    names += channel.dga.generate(day, **target.dga_params)
                missing = {
                    n for n in names if not seized.holds(n, day) or tlds.tld_of(n) in unseizable
                }
                missing |= {ip for ip in channel.ips if ip not in seized.addresses}
                if missing:
                    outcome.open_days.setdefault(channel.kind, []).append(day)
                    outcome.missed.setdefault(channel.kind, set()).update(missing)
        outcomes.append(outcome)
    return outcomes
