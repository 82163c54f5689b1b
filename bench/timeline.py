"""Timeline benchmark: a rollout simulated day by day over 264k emulated machines.

The demo's rollout (the lab operation, 30 days: one registry a week late, one
resolver two days late, RPZ at one network, a hold that ends early) runs over the
emulator's 264,000-machine population. Beside it, the emulator's own way of
drawing the same check-ins, one row per check-in (`_schedule` and
`Population.online`), for the first days, scaled to the 30: the work the
timeline's per-day interval arithmetic replaces. Both give the same counts; the
benchmark checks that before it prints a ratio. A year of Necurs (2,048 DGA names a
4-day bucket, .bit names no registry seizes) shows how the DGA side scales.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import numpy as np

from sinkhole import emulate, operation, plan, timeline, timeline_view
from sinkhole.timeline import Held

MACHINES = int(os.environ.get("BENCH_TIMELINE_MACHINES", "264000"))
PEER_DAYS = 3

NECURS = """\
[operation]
name = "necurs year"
start = 2016-01-01
hold_days = 365
clock_skew_days = 0

[[targets]]
family = "necurs"
"""


def _best(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return min(times)


def bench_timeline() -> None:
    """Time the demo's rollout over 264k machines, beside the emulator's per-check-in draw."""
    text = timeline_view.DEMO_TIMELINE.replace("days = 30", f"days = 30\nmachines = {MACHINES}")
    op = operation.load(os.path.join(os.path.dirname(__file__), "..", "examples", "megad-sim.toml"))
    held = Held.from_plan(plan.compute(op))
    tl = timeline.loads(text, op, held)
    seconds = _best(lambda: timeline.run(op, held, tl))
    [result] = timeline.run(op, held, tl)
    print(f"timeline: demo rollout, {MACHINES:,} machines x 30 days: {seconds:.2f} s "
          f"(contained from day {result.first_contained}, "
          f"recaptured on day {[d for d, _ in result.reopened()]})")  # fmt: skip

    settings = emulate.Settings(machines=MACHINES, days=30.0)
    pop = emulate.Population.build(settings)
    rhythm = timeline._Rhythm(pop)
    ours = _best(lambda: [rhythm.checkins(d) for d in range(PEER_DAYS)])
    start = dt.datetime.combine(op.operation.start, dt.time(), tzinfo=dt.UTC)
    began = time.perf_counter()
    counts = []
    for day in range(PEER_DAYS):
        who, when = emulate._schedule(pop, 0, pop.machines, (day + 1) * 86400.0)
        keep = (when >= day * 86400.0) & (when < (day + 1) * 86400.0)
        who, when = who[keep], when[keep]
        who = who[pop.online(who, when, start)]
        counts.append(np.bincount(who, minlength=pop.machines))
    peer = time.perf_counter() - began
    same = all(np.array_equal(c, rhythm.checkins(d)) for d, c in enumerate(counts))
    print(f"timeline: check-ins per machine and day, {PEER_DAYS} days: interval arithmetic "
          f"{ours:.3f} s, emulator's per-check-in draw {peer:.2f} s "
          f"({peer / ours:.0f}x; same counts: {same}); 30 days by the draw ~{peer / PEER_DAYS * 30:.0f} s")  # fmt: skip

    necurs = operation.loads(NECURS)
    began = time.perf_counter()
    necurs_held = Held.from_plan(plan.compute(necurs))
    planned = time.perf_counter() - began
    steps = "".join(
        f'[[step]]\nday = 0\naction = "seize"\ntld = "{t}"\n'
        for t in sorted({h.rpartition(".")[2] for h in necurs_held.domains})
        if t != "bit"
    )
    year = timeline.loads(f"[timeline]\nmachines = {MACHINES}\n" + steps, necurs, necurs_held)
    generating = _best(lambda: timeline._dga_lists(necurs, year, "necurs"), repeat=1)
    seconds = _best(lambda: timeline.run(necurs, necurs_held, year), repeat=1)
    [result] = timeline.run(necurs, necurs_held, year)
    print(f"timeline: necurs, {MACHINES:,} machines x 365 days, {len(necurs_held.domains):,} "
          f"planned names (plan {planned:.1f} s): {seconds:.2f} s, of which the DGA's names "
          f"{generating:.2f} s; open at the end: "
          f"{sorted({r.subject for r in result.open_at_end})}")  # fmt: skip
