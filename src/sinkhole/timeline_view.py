"""The rollout seen by people: the per-day table, the chart, and the demo's rollout act."""

from __future__ import annotations

import json
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sinkhole import operation, plan, timeline
from sinkhole.exceptions import SinkholeError
from sinkhole.timeline import Held, Result, Route


def _routes_text(routes: list[Route], limit: int = 4) -> str:
    """Open routes grouped by who must act and why: one line a group."""
    groups: dict[tuple[str, str], list[str]] = {}
    for r in routes:
        what = f"{len(r.names)} DGA names" if r.names else r.subject
        groups.setdefault((r.act, r.reason), []).append(what)
    lines = [
        f"{act} ({reason}): {', '.join(subjects)}" for (act, reason), subjects in groups.items()
    ]
    if len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more"]
    return "\n".join(lines)


def table(result: Result) -> Table:
    """Per-day table of one family; runs of identical days share a row."""
    out = Table(title=f"{result.family}: machines reaching a live C&C, day by day")
    out.add_column("days")
    out.add_column("from")
    out.add_column("reached", justify="right")
    out.add_column("through")
    out.add_column("open routes: who must act (why): what")
    runs: list[list[timeline.Day]] = []
    for day in result.days:
        if runs and _same(runs[-1][-1], day):
            runs[-1].append(day)
        else:
            runs.append([day])
    for run in runs:
        first, last = run[0], run[-1]
        days = str(first.day) if first is last else f"{first.day}-{last.day}"
        channels = "\n".join(f"{k} {v:,}" for k, v in sorted(first.per_channel.items()))
        share = f"{first.share:.1%}" if first.routes else "[green]0.0%[/]"
        routes = _routes_text(first.routes) or "[green]none: contained[/]"
        out.add_row(days, first.date.isoformat(), share, channels or "-", routes)
    return out


def _same(a: timeline.Day, b: timeline.Day) -> bool:
    keys = [r.key() for r in a.routes] == [r.key() for r in b.routes]
    return keys and a.per_channel == b.per_channel


def summary_lines(result: Result) -> list[str]:
    """The few sentences an operation lead reads: containment, recapture, what stays open."""
    lines = []
    first = result.first_contained
    if first is None:
        lines.append(f"{result.family}: never fully contained")
    else:
        lines.append(f"{result.family}: fully contained from day {first}")
    for day, routes in result.reopened():
        why = "; ".join(f"{r.subject} ({r.act}: {r.reason})" for r in routes[:3])
        lines.append(f"  recaptured on day {day}: {why}")
    for r in result.open_at_end:
        lines.append(f"  OPEN at the end: {r.channel} {r.subject} — {r.act}: {r.reason}")
    return lines


def show(console: Console, results: list[Result]) -> None:
    """Print every family's table and summary."""
    for result in results:
        console.print(table(result))
        for line in summary_lines(result):
            console.print(line, markup=False)


def simulate(
    op_path: Path,
    plan_dir: Path | None,
    timeline_path: Path,
    console: Console,
    as_json: bool = False,
    chart: Path | None = None,
) -> bool:
    """`sinkhole simulate --timeline`: run, print, chart; True when a route is open at the end."""
    op = operation.load(op_path)
    held = Held.from_files(plan_dir) if plan_dir else Held.from_plan(plan.compute(op))
    results = timeline.run(op, held, timeline.load(timeline_path, op, held))
    document = timeline.report(op, results)
    if chart is not None:
        from sinkhole import charts

        document["charts"] = [str(p) for p in charts.timeline_charts(document, chart)]
    if as_json:
        console.print(json.dumps(document, indent=2, default=str), markup=False)
    else:
        show(console, results)
    return any(r.open_at_end for r in results)


#: The demo's rollout: .test's registry a week late, one resolver's network two days late,
#: an RPZ at one network from day 1, and .example's hold ending before the window does.
DEMO_TIMELINE = """\
[timeline]
days = 30

[[step]]
day = 0
action = "seize"
tld = "example"

[[step]]
day = 7
action = "seize"
tld = "test"
note = "the .test registry acts a week late"

[[step]]
day = 1
action = "rpz"
network = "AS64496"

[[step]]
day = 0
action = "take-down"
address = "192.0.2.53"

[[step]]
day = 0
action = "take-down"
address = "198.51.100.53"

[[step]]
day = 2
action = "take-down"
address = "203.0.113.53"

[[step]]
day = 0
action = "take-down"
address = "192.0.2.54"

[[step]]
day = 21
action = "hold-ends"
tld = "example"
note = "the .example hold was bought for three weeks only"
"""


def demo_act(folder: Path, console: Console, machines: int = 264_000) -> dict[str, Any]:
    """The demo's rollout act: a staggered seizure of the lab operation, day by day."""
    began = time.monotonic()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        op_path = folder / "megad-sim.toml"
        if not op_path.exists():
            op_path.write_text(files("sinkhole").joinpath("data/megad-sim.toml").read_text())
        timeline_path = folder / "rollout.toml"
        timeline_path.write_text(
            DEMO_TIMELINE.replace("days = 30", f"days = 30\nmachines = {machines}")
        )
    except OSError as exc:
        raise SinkholeError(f"cannot write the demo to {folder}: {exc.strerror}") from None
    op = operation.load(op_path)
    held = Held.from_plan(plan.compute(op))
    results = timeline.run(op, held, timeline.load(timeline_path, op, held))
    console.print(
        f"{timeline_path}: .test seized a week late, one resolver two days late, "
        "RPZ at AS64496 from day 1, the .example hold ends on day 21"
    )
    show(console, results)
    [result] = results
    return {
        "first_contained_day": result.first_contained,
        "recaptured_days": [day for day, _ in result.reopened()],
        "open_at_end": [r.subject for r in result.open_at_end],
        "seconds": round(time.monotonic() - began, 2),
    }
