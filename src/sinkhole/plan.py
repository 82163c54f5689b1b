"""Operation -> plan: every name and address that must be seized, and for how long.

A bot on day D tries its channels in fallback order; the takedown holds when
every one of them leads to a sinkhole on every day of the window. So the plan
holds each static domain for the whole window and each DGA domain from the
first to the last day any bot (allowing `clock_skew_days` of clock error)
would try it. Channels that names and addresses cannot close (peer-to-peer)
are flagged, as are gaps (a declared channel with nothing known in it) and
collisions with benign domains.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import ipaddress
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sinkhole import families, tlds, zones
from sinkhole.dga import BaseDga
from sinkhole.exceptions import PlanError
from sinkhole.operation import Operation, normalize_domain
from sinkhole.types import ParamValue
from sinkhole.zones import Layout

#: Called as progress(stage, done, total) while a plan is computed.
Progress = Callable[[str, int, int], None]


@dataclass
class HeldDomain:
    """One domain to seize, with the days it must be held."""

    domain: str
    first_day: dt.date
    last_day: dt.date
    families: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)

    tld: str = field(init=False)

    def __post_init__(self) -> None:
        # the top-level domain, i.e. the registry to ask (kept: it is read many times)
        self.tld = self.domain.rpartition(".")[2]

    @property
    def days(self) -> int:
        """How many days the domain must be held."""
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class Address:
    """A hard-coded resolver or C&C address to shut or redirect."""

    ip: str
    network: str
    family: str
    channel: str
    action: str


@dataclass(frozen=True)
class Finding:
    """Something the analysts must look at: an unseizable channel, a gap, a collision."""

    kind: str
    family: str
    subject: str
    detail: str


@dataclass
class Plan:
    """Every action an operation needs over its window."""

    operation: Operation
    domains: dict[str, HeldDomain]
    addresses: list[Address]
    unseizable: list[Finding]
    gaps: list[Finding]
    collisions: list[Finding]

    @property
    def start(self) -> dt.date:
        """First day of the window."""
        return self.operation.operation.start

    @property
    def end(self) -> dt.date:
        """Last day of the window."""
        return self.operation.operation.end

    def by_tld(self) -> dict[str, list[HeldDomain]]:
        """Domains grouped by top-level domain (registry), each group sorted."""
        groups: dict[str, list[HeldDomain]] = {}
        for held in sorted(self.domains.values(), key=lambda h: (h.tld, h.domain)):
            groups.setdefault(held.tld, []).append(held)
        return groups

    def per_channel(self) -> Counter[str]:
        """Domains and addresses per channel kind."""
        counts: Counter[str] = Counter()
        for held in self.domains.values():
            counts.update(held.channels)
        counts.update(a.channel for a in self.addresses)
        return counts

    def per_day(self) -> list[tuple[dt.date, int]]:
        """How many domains must be held on each day of the window."""
        span = (self.end - self.start).days + 1
        delta = [0] * (span + 1)
        for held in self.domains.values():
            delta[(held.first_day - self.start).days] += 1
            delta[(held.last_day - self.start).days + 1] -= 1
        out, running = [], 0
        for offset in range(span):
            running += delta[offset]
            out.append((self.start + dt.timedelta(days=offset), running))
        return out


def network_of(ip: str) -> str:
    """The network an address is grouped under: its /24 (IPv4) or /48 (IPv6)."""
    addr = ipaddress.ip_address(ip)
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


_ACTIONS = {
    "dns-servers": "redirect port 53 to the sinkhole resolver (resolver emulation)",
    "static-ips": "null-route, or redirect to the sinkhole",
}


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while millions of small acyclic objects are made.

    Otherwise it rescans every held domain again and again (a third of the time of a
    365-day plan); nothing made here forms reference cycles.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _address(ip: str, family: str, kind: str) -> Address:
    return Address(ip, network_of(ip), family, kind, _ACTIONS[kind])


def compute(op: Operation, progress: Progress | None = None) -> Plan:
    """The plan for `op`: a pure function of the operation and the family modules."""
    with paused_gc():
        return _compute(op, progress)


def _compute(op: Operation, progress: Progress | None) -> Plan:
    window = op.operation
    start, end = window.start, window.end
    skew = dt.timedelta(days=window.clock_skew_days)
    domains: dict[str, HeldDomain] = {}
    addresses: list[Address] = []
    unseizable: list[Finding] = []
    gaps: list[Finding] = []

    def hold(name: str, first: dt.date, last: dt.date, family: str, channel: str) -> None:
        first, last = max(first, start), min(last, end)
        if first > last:
            return
        held = domains.get(name)
        if held is None:
            held = domains[name] = HeldDomain(name, first, last)
        else:
            held.first_day = min(held.first_day, first)
            held.last_day = max(held.last_day, last)
        held.families.add(family)
        held.channels.add(channel)

    for target in op.targets:
        family = families.get(target.family)
        seen_kinds = set()
        for channel in family.channels:
            seen_kinds.add(channel.kind)
            if channel.kind == "p2p":
                unseizable.append(
                    Finding("p2p", family.name, "peer-to-peer", channel.note or "no names to seize")
                )
            elif channel.kind == "static-domains":
                names = (channel.domains if target.use_family_lists else ()) + target.static_domains
                for name in names:
                    hold(normalize_domain(name), start, end, family.name, channel.kind)
                if not names:
                    gaps.append(Finding("gap", family.name, channel.kind, "no domains known"))
            elif channel.kind in _ACTIONS:
                extra = target.dns_servers if channel.kind == "dns-servers" else target.static_ips
                ips = (channel.ips if target.use_family_lists else ()) + extra
                addresses.extend(
                    _address(ip, family.name, channel.kind) for ip in dict.fromkeys(ips)
                )
                if not ips:
                    gaps.append(Finding("gap", family.name, channel.kind, "no addresses known"))
            elif channel.kind == "dga" and channel.dga is not None:
                days = (start - skew, end + skew)
                _hold_dga(family.name, channel.dga, target.dga_params, days, skew, hold, progress)
        # analysts' additions for channels the family module does not declare
        if target.static_domains and "static-domains" not in seen_kinds:
            for name in target.static_domains:
                hold(name, start, end, family.name, "static-domains")
        for kind, extra in (("dns-servers", target.dns_servers), ("static-ips", target.static_ips)):
            if extra and kind not in seen_kinds:
                addresses.extend(_address(ip, family.name, kind) for ip in extra)
    unseizable += _unseizable_tlds(op, domains)
    collisions = _family_collisions(domains)
    for path in op.collisions.benign:
        collisions.extend(benign_collisions(domains, read_domain_list(op.resolve(path))))
    return Plan(op, domains, addresses, unseizable, gaps, collisions)


def _hold_dga(
    family: str,
    dga: BaseDga,
    params: dict[str, ParamValue],
    days: tuple[dt.date, dt.date],
    skew: dt.timedelta,
    hold: Callable[[str, dt.date, dt.date, str, str], None],
    progress: Progress | None,
) -> None:
    spans = dga.key_spans(*days)
    values = dga.params(params)
    for done, (key, (lo, hi)) in enumerate(sorted(spans.items()), start=1):
        for name in dga.domains_for(key, values):
            hold(name, lo - skew, hi + skew, family, "dga")
        if progress is not None:
            progress(family, done, len(spans))


def _unseizable_tlds(op: Operation, domains: dict[str, HeldDomain]) -> list[Finding]:
    """One finding per TLD no registry will seize: its names stay open without RPZ."""
    per_tld: dict[str, list[HeldDomain]] = {}
    for held in domains.values():
        per_tld.setdefault(held.tld, []).append(held)
    out = []
    for tld, reason in tlds.unseizable_tlds(op, set(per_tld)).items():
        names = per_tld[tld]
        owners = "+".join(sorted({f for h in names for f in h.families}))
        instead = "; ".join(tlds.ALTERNATIVES)
        detail = f"{reason}; {len(names)} planned names stay open; instead: {instead}"
        out.append(Finding("tld", owners, f".{tld}", detail))
    return out


def _family_collisions(domains: dict[str, HeldDomain]) -> list[Finding]:
    return [
        Finding("families", "+".join(sorted(h.families)), h.domain, "generated by several families")
        for h in domains.values()
        if len(h.families) > 1
    ]


def read_domain_list(path: Path) -> list[str]:
    """Domains from a file: one a line, or a top-sites CSV of `rank,domain`."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read benign domain list: {exc.strerror}") from None
    out: dict[str, None] = {}
    for line in text.splitlines():
        item = line.split("#", 1)[0].strip()
        if "," in item:
            item = item.rsplit(",", 1)[1].strip()
        item = item.lower().rstrip(".")
        if item and "." in item:
            out[item] = None
    return list(out)


def benign_collisions(domains: dict[str, HeldDomain], benign: Iterable[str]) -> list[Finding]:
    """Planned domains equal to, or parents of, a benign domain."""
    out = []
    for name in benign:
        labels = name.split(".")
        for cut in range(len(labels) - 1):
            parent = ".".join(labels[cut:])
            held = domains.get(parent)
            if held is not None:
                detail = "on the benign list" if cut == 0 else f"parent of benign {name}"
                out.append(Finding("benign", "+".join(sorted(held.families)), parent, detail))
    return out


def summary(plan: Plan) -> dict[str, object]:
    """The figures an operation lead reads first."""
    per_day = plan.per_day()
    counts = [n for _, n in per_day]
    return {
        "operation": plan.operation.operation.name,
        "window": {
            "start": plan.start.isoformat(),
            "end": plan.end.isoformat(),
            "days": len(per_day),
        },
        "domains": len(plan.domains),
        "addresses": len(plan.addresses),
        "per_channel": dict(sorted(plan.per_channel().items())),
        "per_tld": dict(Counter(h.tld for h in plan.domains.values()).most_common()),
        "per_day": {"min": min(counts), "max": max(counts), "mean": sum(counts) / len(counts)},
        "unseizable": len(plan.unseizable),
        "gaps": len(plan.gaps),
        "collisions": len(plan.collisions),
    }


def _row(held: HeldDomain, day_text: dict[dt.date, str]) -> list[str]:
    first = day_text.get(held.first_day) or day_text.setdefault(
        held.first_day, held.first_day.isoformat()
    )
    last = day_text.get(held.last_day) or day_text.setdefault(
        held.last_day, held.last_day.isoformat()
    )
    families = (
        next(iter(held.families)) if len(held.families) == 1 else "+".join(sorted(held.families))
    )
    channels = (
        next(iter(held.channels)) if len(held.channels) == 1 else "+".join(sorted(held.channels))
    )
    return [held.domain, held.tld, families, channels, first, last, str(held.days)]


DOMAIN_COLUMNS = ["domain", "tld", "families", "channels", "first_day", "last_day", "days"]


#: What a plan folder holds at its top level. An earlier plan's entries are replaced
#: whole, so no file of it (a registry's CSV the new plan no longer has) stays behind.
PLAN_ENTRIES = (
    "domains.csv",
    "domains.json",
    "registries",
    "addresses.csv",
    "findings.csv",
    "unseizable.csv",
    "zones",
    "rpz.zone",
    "plan.json",
)
_STAGING = ".plan-"


def write(plan: Plan, out: Path, layout: Layout = "shared") -> list[Path]:
    """Write the plan's CSV, JSON and zone files under `out`; returns the files.

    The plan is built in a hidden folder inside `out`, then swapped in entry by entry,
    replacing an earlier plan whole. A non-empty folder that holds no earlier plan is
    refused: whatever it holds is not ours to mix a plan into.
    """
    try:
        check_out(out)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=out))
        try:
            with paused_gc():
                written = _write(plan, staging, layout)
            _swap_in(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        where = exc.filename or out
        raise PlanError(f"cannot write the plan to {where}: {exc.strerror or exc}") from None
    return [out / path.relative_to(staging) for path in written]


def check_out(out: Path) -> None:
    """Make `out` (if missing) and fail now, before any work, if a plan cannot go there."""
    if out.exists() and not out.is_dir():
        raise PlanError(f"cannot write the plan to {out}: it is a file, not a folder")
    if out.is_dir() and not (out / "plan.json").exists():
        others = sorted(p.name for p in out.iterdir() if not p.name.startswith(_STAGING))
        if others:
            shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
            raise PlanError(
                f"{out} is not empty ({shown}) and holds no earlier plan (plan.json): "
                "give a new or empty folder"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=_STAGING, dir=out))
    except OSError as exc:
        where = exc.filename or out
        raise PlanError(f"cannot write the plan to {where}: {exc.strerror or exc}") from None


def _swap_in(staging: Path, out: Path) -> None:
    """Move the new plan's entries into `out`; the old ones go to `staging`, then away.

    `plan.json` is replaced last, in one rename: a swap cut short leaves a folder that
    still reads as an earlier plan, which the next `plan --out` replaces whole.
    """
    last = "plan.json"
    for name in [n for n in PLAN_ENTRIES if n != last] + [last]:
        new, old = staging / name, out / name
        if name == last and new.exists():
            os.replace(new, old)
            continue
        if old.exists() or old.is_symlink():
            os.replace(old, staging / f"old-{name}")
        if new.exists():
            os.replace(new, old)


def _write(plan: Plan, out: Path, layout: Layout) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    groups = plan.by_tld()
    ordered = [h for group in groups.values() for h in group]
    # each row is made once and shared by the CSV, per-registry and JSON outputs
    day_text: dict[dt.date, str] = {}
    rows = {tld: [_row(h, day_text) for h in group] for tld, group in groups.items()}

    path = out / "domains.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(DOMAIN_COLUMNS)
        for group_rows in rows.values():
            writer.writerows(group_rows)
    written.append(path)

    # names no registry will seize are not handed to one: they go to unseizable.csv
    unseizable = tlds.unseizable_tlds(plan.operation, set(rows))
    path = out / "unseizable.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*DOMAIN_COLUMNS, "reason"])
        for tld, reason in unseizable.items():
            writer.writerows([*row, reason] for row in rows[tld])
    written.append(path)

    registries = out / "registries"
    registries.mkdir(exist_ok=True)
    for tld, group_rows in rows.items():
        if tld in unseizable:
            continue
        path = registries / f"{tld}.csv"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(DOMAIN_COLUMNS)
            writer.writerows(group_rows)
        written.append(path)

    path = out / "domains.json"
    # json.dumps runs the C encoder; json.dump would feed the file chunk by chunk in Python
    path.write_text(json.dumps({"columns": DOMAIN_COLUMNS, "tlds": rows}, separators=(",", ":")))
    written.append(path)

    path = out / "addresses.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["network", "ip", "family", "channel", "action"])
        for a in sorted(plan.addresses, key=lambda a: (a.network, a.ip)):
            writer.writerow([a.network, a.ip, a.family, a.channel, a.action])
    written.append(path)

    path = out / "findings.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["kind", "family", "subject", "detail"])
        for f in plan.unseizable + plan.gaps + plan.collisions:
            writer.writerow([f.kind, f.family, f.subject, f.detail])
    written.append(path)

    sink = plan.operation.sinkhole
    names = [h.domain for h in ordered]
    written += zones.write_zones(out / "zones", sink, plan.start, names, layout)
    path = out / "rpz.zone"
    with path.open("w") as fh:
        zones.write_rpz(fh, sink, plan.start, names)
    written.append(path)

    path = out / "plan.json"
    document = {
        "summary": summary(plan),
        "per_day": [[d.isoformat(), n] for d, n in plan.per_day()],
        "addresses": [vars(a) for a in plan.addresses],
        "unseizable": [vars(f) for f in plan.unseizable],
        "gaps": [vars(f) for f in plan.gaps],
        "collisions": [vars(f) for f in plan.collisions],
        "files": sorted(str(p.relative_to(out)) for p in written),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    written.append(path)
    return written
