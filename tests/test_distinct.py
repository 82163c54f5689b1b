"""The distinct-machine arithmetic on address tables made by hand (no engine)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from sinkhole import distinct

DAY = 86400
T = 3600.0


def _table(rows: list[dict[str, float]]) -> pa.Table:
    """Address rows: events, gaps (count, mean gap, spread), span in days, marks."""
    columns: dict[str, list[object]] = {name: [] for name in ("src_ip", "events", "checkins",
                                        "first", "last", "days", "marks")}  # fmt: skip
    for name in distinct.gap_columns():
        columns[name] = []
    for i, row in enumerate(rows):
        if "gap_list" in row:
            _row_from_gaps(columns, i, row)
            continue
        n, mean, sd = row["gaps"], row["mean"], row.get("sd", 0.0)
        columns["src_ip"].append(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
        columns["events"].append(int(row["events"]))
        columns["checkins"].append(int(row["events"]))
        columns["first"].append(0)
        columns["last"].append(int(row["span"] * DAY))
        columns["days"].append(max(1, int(row["span"]) + 1))
        columns["marks"].append(bool(row.get("marks", False)))
        for cap, hours in enumerate(distinct.GAP_CAPS_HOURS):
            inside = n if hours * 3600 > mean + 3 * sd else 0
            columns[f"n_{cap}"].append(inside)
            columns[f"sum_{cap}"].append(inside * mean)
            columns[f"sq_{cap}"].append(inside * (mean**2) + max(inside - 1, 0) * sd**2)
    return pa.table(columns)


def _row_from_gaps(columns: dict[str, list[object]], i: int, row: dict[str, Any]) -> None:
    """An address row from its exact gaps (seconds) between check-ins."""
    gaps = np.asarray(row["gap_list"], dtype=np.float64)
    columns["src_ip"].append(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    columns["events"].append(len(gaps) + 1)
    columns["checkins"].append(len(gaps) + 1)
    columns["first"].append(0)
    columns["last"].append(int(row["span"] * DAY))
    columns["days"].append(max(1, int(row["span"]) + 1))
    columns["marks"].append(False)
    for cap, hours in enumerate(distinct.GAP_CAPS_HOURS):
        inside = gaps[gaps < hours * 3600]
        columns[f"n_{cap}"].append(len(inside))
        columns[f"sum_{cap}"].append(float(inside.sum()))
        columns[f"sq_{cap}"].append(float((inside**2).sum()))


def _sessions(rng: np.random.Generator, period: float, hours: float) -> list[float]:
    """The gaps of one machine on line `hours` in all, in sessions of one to two hours,
    with breaks of 1.5 to 2.9 hours between them (under the gap caps the analysis uses)
    and, every fourth break, a quick reconnect (6 to 27 minutes)."""
    gaps: list[float] = []
    left = hours * 3600
    breaks = 0
    while left > 0:
        length = min(left, rng.uniform(3600, 2 * 3600))
        beats = max(1, int(length / period))
        gaps += list(period * rng.uniform(0.95, 1.05, beats))
        left -= beats * period
        breaks += 1
        gaps.append((rng.uniform(0.1, 0.45) if breaks % 4 == 0 else rng.uniform(1.5, 2.9)) * 3600)
    return gaps[:-1]


def test_lone_machines_on_kept_lines_are_counted_exactly() -> None:
    rng = np.random.default_rng(3)
    kept = [{"events": float(e), "gaps": e - 1, "mean": T, "sd": 200.0, "span": 4.0}
            for e in rng.integers(20, 120, 400)]  # fmt: skip
    # a churned network: each machine seen on several short-lived addresses
    churned = [{"events": 10.0, "gaps": 9, "mean": T, "sd": 200.0, "span": 0.5}] * 900
    table = _table(kept + churned)
    networks = np.array(["AS1"] * len(kept) + ["AS2"] * len(churned), dtype=object)
    events = {"2026-12-01": int(table["events"].to_numpy().sum())}
    found = distinct.estimate(table, networks, events, 5 * DAY, 0.0, distinct.interval(table))
    assert abs(found.interval - T) < 1
    assert found.learners == len(kept) and found.steady_networks == 1
    mean = np.mean([r["events"] for r in kept])
    expected = (sum(r["events"] for r in kept) + 9000) / mean
    assert found.machines.estimate is not None
    assert abs(found.machines.estimate - expected) < 1e-6 * expected
    assert found.machines.low < expected < found.machines.high


def test_marked_and_shared_addresses_do_not_teach() -> None:
    lone = [{"events": 50.0, "gaps": 49, "mean": T, "sd": 100.0, "span": 4.0}] * 200
    # two user agents on one kept address: two machines, whatever its gaps look like
    marked = [{"events": 100.0, "gaps": 99, "mean": T, "sd": 100.0, "span": 4.0, "marks": 1.0}]
    # four machines behind one address: gaps a quarter of the interval, irregular
    office = [{"events": 200.0, "gaps": 199, "mean": T / 4, "sd": T / 4, "span": 4.0}] * 30
    table = _table(lone + marked * 40 + office)
    networks = np.array(["AS1"] * table.num_rows, dtype=object)
    found = distinct.estimate(table, networks, {"2026-12-01": 1}, 5 * DAY, 0.0, T)
    assert found.learners == 200
    assert found.machines.estimate is not None
    # 10,000 + 4,000 + 6,000 events at 50 a machine
    assert abs(found.machines.estimate - 400) < 1e-6
    assert 0.4 < found.shared_share < 0.6


def test_ipv6_addresses_group_by_their_32_whatever_their_spelling() -> None:
    import pyarrow as pa

    from sinkhole import population

    ips = pa.array(["2001:db8::1", "2001:db8:0:1::5", "2001::5", "2001:0:ffff::1", "192.0.2.7"])
    none = pa.table({"src_ip": pa.array([], pa.string()), "asn": pa.array([], pa.int64())})
    keys = list(population._network_keys(ips, none))
    assert keys == ["2001:db8::/32"] * 2 + ["2001::/32"] * 2 + ["192.0.0.0/16"]


def test_no_kept_line_or_a_short_window_gives_bounds_with_a_reason() -> None:
    churned = [{"events": 10.0, "gaps": 9, "mean": T, "sd": 200.0, "span": 0.4}] * 500
    table = _table(churned)
    networks = np.array(["AS2"] * 500, dtype=object)
    two_days = {"2026-12-01": 2500, "2026-12-02": 2500}
    found = distinct.estimate(table, networks, two_days, 5 * DAY, 120.0, T)
    assert found.machines.estimate is None and "cannot be seen" in found.machines.reason
    assert found.machines.low == 120.0 and found.machines.high == 500.0
    # machine-days: one day each at least, every day of the window at most
    assert found.machine_days.estimate is None and "cannot be seen" in found.machine_days.reason
    assert found.machine_days.low == 120.0 and found.machine_days.high == 2 * 500.0
    short = distinct.estimate(table, networks, {"2026-12-01": 5000}, 1.5 * DAY, 120.0, T)
    assert short.machines.estimate is None and "window is 1.5 days" in short.machines.reason


def test_offices_are_counted_by_the_machines_on_line_together() -> None:
    """A kept address with 12 machines on line together for nine hours each weekday is
    12 machines, although each is on line more than the lone machines that teach the
    mean; an address whose machines come and go hour by hour (a CGNAT pool) and a
    household of three are left to that mean."""
    rng = np.random.default_rng(11)
    lone = [{"events": 30.0, "gaps": 29, "mean": T, "sd": 100.0, "span": 4.0}] * 300
    shared = {"events": 540.0, "gaps": 539, "mean": T / 12, "sd": T / 10, "span": 4.0}
    table = _table(lone + [shared] * 3)
    networks = np.array(["AS1"] * table.num_rows, dtype=object)
    office, pool, household = len(lone), len(lone) + 1, len(lone) + 2
    rows: list[int] = []
    hours: list[int] = []
    counts: list[float] = []
    for day in range(5):
        for hour in range(24):
            h = day * 24 + hour
            # the office: 12 check-ins an hour from 8 to 17, one always-on machine at night
            rows.append(office), hours.append(h), counts.append(12.0 if 8 <= hour < 17 else 1.0)
            # the pool: short sessions, busy hours scattered over the day
            rows.append(pool), hours.append(h), counts.append(float(rng.choice([2, 12])))
            # a household: three machines in the evening
            rows.append(household), hours.append(h), counts.append(3.0 if hour >= 18 else 0.0)
    hourly = (np.array(rows), np.array(hours), np.array(counts))
    without = distinct.estimate(table, networks, {"2026-12-01": 1}, 5 * DAY, 0.0, T)
    found = distinct.estimate(table, networks, {"2026-12-01": 1}, 5 * DAY, 0.0, T, None, hourly)
    assert found.offices == 1 and abs(found.office_machines - 12) < 1e-9
    assert found.machines.estimate is not None and without.machines.estimate is not None
    # the office's 540 events at the lone machines' 30 each would be 18 machines
    assert abs(without.machines.estimate - found.machines.estimate - (540 / 30 - 12)) < 1e-6
    assert "offices counted" in found.machines.method
    assert found.machines.low < found.machines.estimate < found.machines.high
    # where the machines on line together outnumber what the address's events make at the
    # lone machines' mean, they moved from address to address: the mean's count stands
    busier = _table([{**r, "events": 50.0, "gaps": 49} for r in lone] + [shared] * 3)
    capped = distinct.estimate(busier, networks, {"2026-12-01": 1}, 5 * DAY, 0.0, T, None, hourly)
    assert capped.offices == 1 and abs(capped.office_machines - 540 / 50) < 1e-9


def test_machines_on_line_in_short_sessions_teach_too() -> None:
    """A lone machine on line in short sessions shows irregular gaps (the breaks between
    sessions), but seldom two check-ins within half an interval: it is a learner, so the
    mean is not taken from the steadier machines only. Two machines interleaving on one
    address are not."""
    rng = np.random.default_rng(5)
    steady = [{"gap_list": list(T * rng.uniform(0.95, 1.05, 80)), "span": 4.0}] * 200
    fragmented = [{"gap_list": _sessions(rng, T, 20.0), "span": 4.0} for _ in range(200)]
    pair = []
    for _ in range(50):
        # two machines an hour apart each, out of phase: every other gap is short
        a = np.cumsum(T * rng.uniform(0.99, 1.01, 60))
        b = np.cumsum(T * rng.uniform(0.99, 1.01, 60)) + rng.uniform(0.05, 0.15) * T
        pair.append({"gap_list": list(np.diff(np.sort(np.concatenate([a, b])))), "span": 4.0})
    # the coefficient of variation of most of them is too high for regular gaps
    cvs = [np.std(r["gap_list"]) / np.mean(r["gap_list"]) for r in fragmented]
    assert np.mean(np.array(cvs) >= distinct.REGULAR_CV) > 0.5
    table = _table(steady + fragmented + pair)
    networks = np.array(["AS1"] * table.num_rows, dtype=object)
    found = distinct.estimate(table, networks, {"2026-12-01": 1}, 5 * DAY, 0.0, T)
    assert found.learners == 400
    assert found.machines.estimate is not None
    # 500 machines: 400 lone, 100 behind the 50 shared addresses
    assert abs(found.machines.estimate / 500 - 1) < 0.03


def test_a_faster_version_counts_by_its_own_gap() -> None:
    """Bots of a faster build (every 20 minutes) on kept lines beat like a clock at a
    third of the interval: each is one machine, on line one of its own gaps per check-in,
    not three machines behind one address. Events on a shared address are weighed by the
    learners' mix of versions."""
    rng = np.random.default_rng(8)
    hours = rng.uniform(10, 60, 600)
    fast = rng.random(600) < 0.3
    rows = []
    for h, quick in zip(hours, fast, strict=True):
        period = T / 3 if quick else T
        rows.append({"gap_list": list(period * rng.uniform(0.97, 1.03, int(h * T / period))),
                     "span": 4.0})  # fmt: skip
    table = _table(rows)
    networks = np.array(["AS1"] * table.num_rows, dtype=object)
    t = distinct.interval(table)
    assert abs(t - T) < 60
    found = distinct.estimate(table, networks, {"2026-12-01": 1}, 5 * DAY, 0.0, t)
    assert found.learners == 600 and found.own_pace == int(fast.sum())
    assert found.machines.estimate is not None
    assert abs(found.machines.estimate / 600 - 1) < 1e-6
    # the same machines' events, seen only through addresses that cannot be told apart
    # (one check-in too few to show a gap), stand at the learners' mix
    few = _table(rows + [{"gap_list": [], "span": 0.0}] * 300)
    nets = np.array(["AS1"] * len(rows) + ["AS2"] * 300, dtype=object)
    mixed = distinct.estimate(few, nets, {"2026-12-01": 1}, 5 * DAY, 0.0, t)
    assert mixed.machines.estimate is not None
    events = np.asarray(table["events"], dtype=np.float64)
    pace = np.where(fast, 1 / 3, 1.0)
    per_event = float((events * pace).sum() / events.sum())
    online = (events * pace).sum() + 300 * per_event
    assert abs(mixed.machines.estimate - online / (events * pace).mean()) < 1e-6 * 600


def test_shared_pools_kept_for_days_do_not_raise_the_bar_for_steady_lines() -> None:
    """A CGNAT pool's addresses are in use all the time (every one spans the window);
    a network of static lines with some machines gone for days keeps fewer. Only lone
    addresses decide how steady a network is, so the static lines still teach."""
    lines = [{"events": 40.0, "gaps": 39, "mean": T, "sd": 100.0, "span": 4.0}] * 170
    lines += [{"events": 20.0, "gaps": 19, "mean": T, "sd": 100.0, "span": 1.0}] * 30
    pool = [{"events": 900.0, "gaps": 899, "mean": T / 20, "sd": T / 15, "span": 4.9}] * 150
    table = _table(lines + pool)
    networks = np.array(["AS1"] * len(lines) + ["AS9"] * len(pool), dtype=object)
    found = distinct.estimate(table, networks, {"2026-12-01": 1}, 5 * DAY, 0.0, T)
    assert found.steady_networks == 1 and found.learners == 200


def test_offices_count_by_their_machines_each_day_in_machine_days() -> None:
    """An office's machines are on line a working day each, more than a lone machine on
    its active days: machine-days and machines active per day count the office by the
    machines it shows each day (its staff on weekdays, the machines left on at night),
    not by the learners' events per active day."""
    lone = [{"events": 30.0, "gaps": 29, "mean": T, "sd": 100.0, "span": 4.0}] * 300
    # 12 machines from 8 to 17 UTC, one left on at night: 123 check-ins a day
    office = {"events": 615.0, "gaps": 614, "mean": T / 5, "sd": T / 4, "span": 4.9}
    table = _table([*lone, office])
    networks = np.array(["AS1"] * table.num_rows, dtype=object)
    rows, hours, counts = [], [], []
    for day in range(5):
        for hour in range(24):
            rows.append(len(lone))
            hours.append(day * 24 + hour)
            counts.append(12.0 if 8 <= hour < 17 else 1.0)
    hourly = (np.array(rows), np.array(hours), np.array(counts))
    labels = [f"1970-01-0{day + 1}" for day in range(5)]
    per_day = {label: 300 * 30 // 5 + 123 for label in labels}
    found = distinct.estimate(table, networks, per_day, 5 * DAY, 0.0, T, None, hourly)
    assert found.offices == 1
    # each learner: 30 events over 5 active days, 6 a day; the office: 12 machines a day
    for day in found.active_per_day:
        assert day["estimate"] == 300 + 12
        assert day["low"] < 312 < day["high"]
    assert found.machine_days.estimate == 5 * 312
    assert "each day" in found.machine_days.method
    # without the hourly check-ins the office's events are divided like any others
    plain = distinct.estimate(table, networks, per_day, 5 * DAY, 0.0, T)
    assert [d["estimate"] for d in plain.active_per_day] == [round(1923 / 6)] * 5


def _pool_checkins(
    addresses: int, per_address: int, interval: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Check-ins of machines sharing addresses: each machine checks in every `interval`
    (+-10% jitter, its own phase) during one session of 2-8 hours a day over three days."""
    rng = np.random.default_rng(seed)
    rows, times = [], []
    for address in range(addresses):
        for _ in range(per_address):
            for day in range(3):
                at = day * DAY + rng.uniform(0, 16 * 3600)
                end = at + rng.uniform(2, 8) * 3600
                while at < end:
                    rows.append(address)
                    times.append(at)
                    at += interval * rng.uniform(0.9, 1.1)
    return np.array(rows), np.floor(np.array(times))


def test_the_interval_of_a_pool_with_no_lone_machine_comes_from_its_periodicity() -> None:
    # every address shared by six machines: the gaps show T/6, the lags T and its multiples
    rows, seconds = _pool_checkins(40, 6, 1200.0, seed=3)
    found = distinct.periods(rows, seconds)
    assert found and abs(found[0] / 1200 - 1) < 0.05, found
    assert abs(distinct.checked_interval(1200 / 6, found) / 1200 - 1) < 0.05
    # a gap-based interval near a periodicity (or above one) stands
    assert distinct.checked_interval(1150.0, found) == 1150.0
    assert distinct.checked_interval(2500.0, found) == 2500.0
    # check-ins at random (no bot's clock) show no periodicity: the interval stands
    rng = np.random.default_rng(4)
    noise = np.floor(rng.uniform(0, 3 * DAY, 60_000))
    assert distinct.periods(rng.integers(0, 40, noise.size), noise) == []
    assert distinct.checked_interval(200.0, []) == 200.0


def test_the_periodicity_sample_is_fixed_and_no_big_nat_fills_it() -> None:
    from sinkhole import population

    names = [f"10.0.{i // 250}.{i % 250}" for i in range(3000)]
    events = np.full(3000, 300)
    events[:5] = 1_000_000  # five big NATs
    events[5:10] = 3  # too few check-ins to show a period
    stats = pa.table({"src_ip": names, "events": events, "checkins": events})
    rows = population.sample_rows(stats)
    assert len(rows) == population.SAMPLE_ROWS // 300
    assert not set(rows.tolist()) & set(range(10))
    # half the window read: twice the addresses for the same requests
    assert len(population.sample_rows(stats, 0.5)) == 2 * len(rows)
    # the same rows whatever the table's order
    shuffled = stats.take(pa.array(np.arange(3000)[::-1]))
    again = population.sample_rows(shuffled)
    assert sorted(names[i] for i in rows) == sorted(
        shuffled["src_ip"].to_pylist()[i] for i in again
    )
