"""Live figures for `sinkhole stats` and the dashboard: rates per sensor and listener, drops.

The running workers write a small stats file every flush (``stats/<sensor>.json``);
two samples an interval apart give the rates. The store's totals come from
:func:`sinkhole.events.store.summary`.
"""

from __future__ import annotations

import time
from typing import Any

from sinkhole.events import sources, store
from sinkhole.events.sources import Location, Stores

#: Listener counters summed per sensor (JSON key: column title).
COUNTERS = {
    "refused": "refused",
    "malformed": "malformed",
    "rate_limited": "rate-limited",
    "dga_unplanned": "dga-unplanned",
}


def sensor_counters(listeners: dict[str, dict[str, int]]) -> dict[str, int]:
    """Refused (DNS REFUSED and connections over a limit), malformed, rate-limited and
    dga-unplanned, summed over a sensor's listeners."""
    totals = dict.fromkeys(COUNTERS, 0)
    for counters in listeners.values():
        totals["refused"] += int(counters.get("refused", 0))
        totals["refused"] += int(counters.get("connections_refused", 0))
        for key in ("malformed", "rate_limited", "dga_unplanned"):
            totals[key] += int(counters.get(key, 0))
    return totals


def report(
    before: dict[str, Any], after: list[dict[str, Any]], interval: float, totals: dict[str, Any]
) -> dict[str, Any]:
    """Per-sensor rates between two samples of the stats files, with the store's totals."""
    sensors = []
    for now in after:
        then = before.get(now["sensor"], now)
        rates: dict[str, float] = {}
        for app_name, counters in now.get("listeners", {}).items():
            key = "queries" if app_name == "dns" else "requests"
            old = then.get("listeners", {}).get(app_name, {}).get(key, 0)
            rates[app_name] = (counters.get(key, 0) - old) / interval
        fresh = time.time() - float(now.get("time", 0)) < max(5.0, 3 * interval)
        state = "stopped" if not now.get("running") else ("running" if fresh else "silent")
        sensors.append(
            {
                "sensor": now["sensor"],
                "state": state,
                "events_per_s": (now["accepted"] - then["accepted"]) / interval,
                "accepted": now["accepted"],
                "durable": now["durable"],
                "dropped": now["dropped"],
                "listener_rates": rates,
                "counters": sensor_counters(now.get("listeners", {})),
                "listeners": now.get("listeners", {}),
                "last_error": now.get("last_error", ""),
            }
        )
    return {"sensors": sensors, "dropped": sum(s["dropped"] for s in sensors), "store": totals}


def sample(root: Location | Stores, interval: float) -> dict[str, Any]:
    """What `sinkhole stats` prints: two samples `interval` seconds apart, and the totals."""
    before = {s["sensor"]: s for s in store.sensor_stats(root)}
    time.sleep(interval)
    after = store.sensor_stats(root)
    figures = report(before, after, interval, store.summary(root))
    figures["shipping"] = shipping(root)
    return figures


def shipping(root: Location | Stores) -> list[dict[str, Any]]:
    """Per local store that ships (sinkhole.ship): the shared store, shipped and pending."""
    from sinkhole import ship

    found = (ship.status(folder) for folder in sources.stores(root).folders)
    return [status for status in found if status is not None]
