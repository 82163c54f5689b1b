"""Run the benchmarks: `python -m bench [SUITE...]` (default: all; names in SUITES)."""

from __future__ import annotations

import sys

from bench import (
    attribution,
    blocklist,
    dashboard,
    emulator,
    foundation,
    impact,
    notify,
    population,
    population_grid,
    population_other,
    servers,
    ship,
    timeline,
)

SUITES = {
    "dga": foundation.bench_dga,
    "plan": foundation.bench_plan,
    "index": foundation.bench_index,
    "dns": servers.bench_dns,
    "http": servers.bench_http,
    "store": servers.bench_store,
    "emulator": emulator.bench_emulator,
    "population": population.bench_population,
    "population-grid": population_grid.bench_population_grid,
    "population-other": population_other.bench_population_other,
    "attribution": attribution.bench_attribution,
    "notify": notify.bench_notify,
    "dnsbl": blocklist.bench_dnsbl,
    "dashboard": dashboard.bench_dashboard,
    "timeline": timeline.bench_timeline,
    "impact": impact.bench_impact,
    "ship": ship.bench_ship,
}


def main(argv: list[str]) -> None:
    """Run the named suites (all when none are named)."""
    chosen = argv or list(SUITES)
    unknown = [name for name in chosen if name not in SUITES]
    if unknown:
        sys.exit(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    for name in chosen:
        SUITES[name]()


main(sys.argv[1:])
