"""The population estimate on worlds of the independent generator (bench/otherworld.py).

The generator was written apart from the estimator and the emulator. Seeds 1-6 were
used for tuning; this suite runs the held-out seeds only: every profile at 20,000
machines x 5 days (seeds 101, 102) and 40,000 x 7 (seed 103), with no attribution
dataset (the estimator groups by /16). Printed: each world's error, whether the
interval covers the truth, the machine-days' error, then the share within +-10% and
the coverage. Then a pair of twin worlds (:func:`mobile_twin`): phones behind one CGNAT
pool, N machines in 5 sessions a day and 2N in 2.5, which the sinkhole sees alike.
`BENCH_OTHER_WORLDS=N` runs the first N worlds only (and no twins).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from bench import otherworld, scratch
from sinkhole import population

#: (profile, machines, days, seed): held-out, never tuned on.
WORLDS = [
    (profile, machines, days, seed)
    for machines, days, seeds in ((20_000, 5, (101, 102)), (40_000, 7, (103,)))
    for seed in seeds
    for profile in ("dsl-europe", "mixed-global", "enterprise-nat", "mobile-cgnat")
]


#: The twins: (machines, sessions a day, infected subscribers per CGNAT address).
TWINS = ((20_000, 5.0, 20), (40_000, 2.5, 40))


def mobile_twin(machines: int, sessions: float, ratio: float, seed: int = 11) -> otherworld.World:
    """Phones behind one mobile CGNAT pool (a new address and port block each session),
    check-ins every 20 minutes, five days. Twins differ in machines and sessions a day by
    the same factor, and in subscribers per address too (the pool's size follows the
    ISP's subscribers, not the infected ones), so they send the same sessions."""
    isp = {
        "name": "mobile",
        "share": 1.0,
        "zones": ((1.0, 1.0),),
        "lines": (("cgnat", 1.0),),
        "classes": (("mobile", 1.0),),
        "cgnat_ratio": ratio,
    }
    return otherworld.World(
        isps=(isp,),
        machines=machines,
        days=5,
        seed=seed,
        presence={"mobile": {"sessions": sessions}},
        checkin_seconds=((1200.0, 1.0),),
    )


def bench_population_twins() -> None:
    """Print what the sinkhole sees of the twins and what the report makes of it."""
    print("\n== twins: machines behind mobile CGNAT, N in 5 sessions a day or 2N in 2.5")
    for machines, sessions, ratio in TWINS:
        with scratch() as tmp:
            truth = otherworld.generate_world(Path(tmp), mobile_twin(machines, sessions, ratio))
            report = population.report(Path(tmp), "duckdb")
        m, online = report.machines, report.online_at_peak
        shown = (
            f"bounds {m.low:,.0f}-{m.high:,.0f}"
            if m.estimate is None
            else f"estimate {m.estimate:,.0f} ({m.low:,.0f}-{m.high:,.0f})"
        )
        print(
            f"{machines:,} machines, {sessions:g} sessions a day: truth {truth['machines']:,}; "
            f"seen {report.events:,} events from {report.unique_ips:,} addresses, interval "
            f"{report.interval_seconds:,.0f} s, on line at the peak {online.estimate:,.0f} "
            f"(truth: {truth['peak_online']:,} in the peak hour); {shown} "
            f"{'covered' if m.low <= truth['machines'] <= m.high else 'MISSED'}"
        )


def bench_population_other() -> None:
    """Run the estimator over the generator's held-out worlds; print errors and coverage."""
    chosen = WORLDS[: int(os.environ.get("BENCH_OTHER_WORLDS", "0")) or None]
    print(f"\n== population on the independent generator: {len(chosen)} held-out worlds")
    within, covered = [], []
    for profile, machines, days, seed in chosen:
        with scratch() as tmp:
            began = time.perf_counter()
            truth = otherworld.generate(Path(tmp), profile, machines=machines, days=days, seed=seed)
            report = population.report(Path(tmp), "duckdb")
            took = time.perf_counter() - began
        real, got = truth["machines"], report.machines
        inside = got.low <= real <= got.high
        covered.append(inside)
        if got.estimate is None:
            within.append(False)
            shown = f"bounds only ({got.low:,.0f}-{got.high:,.0f})"
        else:
            error = got.estimate / real - 1
            within.append(abs(error) <= 0.10)
            shown = f"estimate {got.estimate:,.0f} ({got.low:,.0f}-{got.high:,.0f}) {error:+.1%}"
        days_got = report.machine_days
        days_shown = (
            "machine-days bounds only"
            if days_got.estimate is None
            else f"machine-days {days_got.estimate / truth['machine_days'] - 1:+.1%}"
            + (" covered" if days_got.low <= truth["machine_days"] <= days_got.high else " MISSED")
        )
        print(
            f"{profile} {machines:,} x {days} d seed {seed}: truth {real:,}, {shown} "
            f"{'covered' if inside else 'MISSED'}; {days_shown}; unique IPs "
            f"{report.unique_ips:,}; {took:.0f} s"
        )
    if chosen:
        print(
            f"other world: within +-10% in {np.mean(within):.0%} (goal 90%), interval covers "
            f"the truth in {np.mean(covered):.0%} (goal 90%)"
        )
    if len(chosen) == len(WORLDS):
        bench_population_twins()
