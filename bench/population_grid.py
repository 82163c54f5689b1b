"""The population estimate on the held-out grid: error distribution and interval coverage.

`population_heldout.toml` lists emulator worlds fixed before any tuning (issue 11):
the estimator is never tuned on them. For each world the offline emulator writes a
store, `population.report` estimates distinct machines, and the truth says how many
machines reached the sinkhole. Printed: each world's error and whether the 95%
interval covers the truth, then the share within +-10% and the coverage.
`BENCH_GRID_WORLDS=N` runs the first N worlds only.
"""

from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path

import numpy as np

from bench import scratch
from sinkhole import emulate, operation, plan, population
from sinkhole.events.writer import EventWriter

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
GRID = Path(__file__).parent / "population_heldout.toml"


def worlds() -> list[emulate.Settings]:
    """The held-out worlds, as emulator settings."""
    rows = tomllib.loads(GRID.read_text())["world"]
    return [emulate.Settings(**row).check() for row in rows]


def bench_population_grid() -> None:
    """Run the estimator over the held-out worlds; print errors and coverage."""
    chosen = worlds()[: int(os.environ.get("BENCH_GRID_WORLDS", "0")) or None]
    print(f"\n== population on the held-out grid: {len(chosen)} worlds ({GRID.name})")
    op = operation.load(EXAMPLE)
    full = plan.compute(op)
    errors, covered = [], []
    for settings in chosen:
        with scratch() as tmp:
            root = Path(tmp)
            writer = EventWriter(root, "emulator")
            began = time.perf_counter()
            truth = emulate.offline(op, full, settings, writer)
            writer.close()
            report = population.report(root, "duckdb")
            took = time.perf_counter() - began
        got = report.machines
        inside = got.low <= truth.machines <= got.high
        covered.append(inside and got.estimate is not None)
        if got.estimate is None:  # bounds only: no point, counted as outside +-10%
            errors.append(float("inf"))
            shown = f"bounds only ({got.low:,.0f}-{got.high:,.0f}): {got.reason}"
        else:
            errors.append(got.estimate / truth.machines - 1)
            shown = (
                f"estimate {got.estimate:,.0f} ({got.low:,.0f}-{got.high:,.0f}) "
                f"{errors[-1]:+.1%} {'covered' if inside else 'MISSED'}"
            )
        print(
            f"seed {settings.seed}: {settings.machines:,} x {settings.days:g} d, truth "
            f"{truth.machines:,}, {shown}; on line at the peak "
            f"{report.online_at_peak.estimate:,.0f}; unique IPs {report.unique_ips:,}; "
            f"{took:.0f} s"
        )
    if not errors:
        return
    spread = np.abs(np.array(errors))
    points = [e for e in errors if np.isfinite(e)]
    summary = (
        f"error median {np.median(points):+.1%}, range {min(points):+.1%} to {max(points):+.1%}"
        if points
        else "no point estimates"
    )
    print(
        f"grid: within +-10% in {np.mean(spread <= 0.10):.0%} of worlds (goal 90%), interval "
        f"covers the truth in {np.mean(covered):.0%} (goal 90%); {summary}; "
        f"{len(errors) - len(points)} bounds only"
    )
