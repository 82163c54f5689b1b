"""Distinct machines over a window, from what each source address showed.

The population room (:mod:`sinkhole.population`) reduces the check-ins to one row
per address: its events, check-ins, first and last sight, days seen, and the gaps
between its check-ins (count, sum and sum of squares under several caps). This
module turns those rows into figures; it is plain numpy, so DuckDB and Spark feed
it the same table and get the same figures.

The headline rests on one identity: the check-in events of the window are the
sum, over the distinct machines, of the events each machine sent. So

    distinct machines = events / mean events per machine.

The events are counted exactly. The mean per machine (which carries everything
about turnover: hours on line, days off, clean-ups, new infections, machines
whose hours never overlap) is learned from *learners*: addresses that held one
machine for the whole window. Those are single-machine addresses (gaps between
check-ins one interval apart, seldom two within half an interval, whether the
machine is on line in one stretch or many short sessions) in *steady* networks,
where addresses are kept for days (most of a network's lone addresses span two
days or more), so an address's history is its machine's history. A bot of another
build that checks in at its own pace (beating like a clock at a third of the
interval, say) is a lone machine too, on line one of its own gaps per check-in.
Every single-machine address of a steady network is a learner, whatever it did, so
the learners are not chosen by how active they were.

The interval T comes from the lone machines' gaps; where every address is shared (a
CGNAT pool), the gaps show T/k and the lags between check-ins on one address give T
instead (:func:`periods`, :func:`checked_interval`).

Assumption (stated in docs/population.md): machines on steady lines behave, on
average, like the machines behind churned addresses and NAT. Where there are no
steady networks, or too few learners, the figure is given as bounds with the
reason, never as a point.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

#: Requests closer together than this on one address are one check-in.
BURST_SECONDS = 10
#: Caps (hours) under which per-address gap statistics are gathered; the analysis uses
#: the first cap of at least three check-in intervals.
GAP_CAPS_HOURS = (0.25, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 9.0, 12.0, 18.0, 24.0, 36.0)
#: The cap used to find the interval before the interval is known.
FIRST_CAP_HOURS = 6.0
#: An address's gaps are regular when their coefficient of variation is below this.
REGULAR_CV = 0.5
#: A single machine's mean gap is at least this share of the interval (two machines: half).
SINGLE_GAP = 0.4
#: A single machine checks in twice within half an interval in less than this share of its
#: gaps (retries, restarts); machines sharing an address do so at every other check-in.
#: Whether the machine's presence is one long stretch or many short sessions does not
#: matter, so the learners are not picked by how they use their machines.
SHORT_SHARE = 0.2
#: An address is steady when it was seen over at least this span (seconds).
STEADY_SPAN = 48 * 3600
#: ... or at least this share of the window, when that is longer.
STEADY_WINDOW_SHARE = 0.5
#: A network is steady when at least this share of its repeated addresses is.
STEADY_SHARE = 0.6
#: A network needs this many repeated addresses to be judged.
MIN_NETWORK = 5
#: Repeated addresses a network needs to set the best share of addresses kept for days.
TOP_NETWORK = 100
#: A steady network's share of addresses kept for days is at least this share of the
#: best network's (and at least STEADY_SHARE).
KEEP_SHARE = 0.88
#: Regular single-machine addresses a network needs for its own interval and requests
#: per check-in (others use the overall ones).
NETWORK_INTERVAL = 30
#: A network's own interval (or requests per check-in) is used when it differs from the
#: overall one by more than this share.
OWN_INTERVAL = 0.25
#: Fewer learners than this: bounds only.
MIN_LEARNERS = 30
#: The window must be at least this long (seconds) to tell steady addresses apart.
MIN_WINDOW = 2.5 * 86400
#: Relative model error added to the sampling interval (calibrated on the tuning grid,
#: seeds below 7000; see docs/population.md).
MODEL_ERROR = 0.05
#: Further relative error per unit share of on-line time behind shared addresses, whose
#: machines the learners do not show (set on the tuning worlds and on the independent
#: generator's seeds 1-2: offices +20% at a share of 0.83, CGNAT and offices +14% at 0.67).
SHARED_ERROR = 0.3
#: An office: an address kept for days whose check-ins show at least this many machines
#: on line together ...
OFFICE_MACHINES = 5.0
#: ... in runs of at least this many consecutive hours at half its busiest hour or more
#: (a working day), the median run included. CGNAT pools, whose machines come and go
#: session by session, show runs of one to three hours (tuning worlds).
OFFICE_RUN_HOURS = 5
#: An address beats like a clock (one machine, whatever its interval) with at least this
#: many gaps whose coefficient of variation is under CLOCK_CV.
CLOCK_GAPS = 6
CLOCK_CV = 0.2
#: Relative error of an office's count (machines on line together on its fullest day):
#: days off and turnover in the window (tuning worlds: offices -4% to -7%).
OFFICE_ERROR = 0.1
#: Periodicity check of the interval: lags between check-ins on one address are counted
#: from PERIOD_LAGS[0] to PERIOD_LAGS[1] seconds (above retries, up to six hours) in bins
#: PERIOD_BIN wide on a log scale (a bot's jitter spreads its peak by a share of T);
#: a peak is a local maximum whose excess over the running median (PERIOD_MEDIAN bins
#: each side) within PERIOD_WIDTH bins each side is PERIOD_Z standard errors or more.
PERIOD_LAGS = (150.0, 6 * 3600.0)
PERIOD_BIN = 0.02
PERIOD_MEDIAN = 30
PERIOD_WIDTH = 5
PERIOD_Z = 8.0
#: Check-ins drawn as the starting points of the lags (a fixed seed: the same figures on
#: every run and engine).
PERIOD_REFS = 30_000


def gap_columns() -> list[str]:
    """The per-cap column names of the address table, in cap order."""
    return [f"{kind}_{i}" for i in range(len(GAP_CAPS_HOURS)) for kind in ("n", "sum", "sq")]


@dataclass
class Figure:
    """A figure with its 95% interval and how it was obtained.

    `estimate` is None when the data support only bounds; `reason` then says why.
    """

    estimate: float | None
    low: float
    high: float
    method: str
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Rounded for reports."""
        out: dict[str, Any] = {
            "estimate": None if self.estimate is None else round(self.estimate),
            "low": round(self.low),
            "high": round(self.high),
            "method": self.method,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Distinct:
    """What the address table says about the machines."""

    interval: float
    machines: Figure
    machine_days: Figure
    active_per_day: list[dict[str, Any]] = field(default_factory=list)
    learners: int = 0
    steady_networks: int = 0
    networks: int = 0
    shared_addresses: int = 0
    shared_share: float = 0.0
    offices: int = 0
    office_machines: float = 0.0
    #: learners whose bot checks in at its own pace (another build)
    own_pace: int = 0


@dataclass
class _Gaps:
    count: np.ndarray
    mean: np.ndarray
    cv: np.ndarray


def _gaps(table: pa.Table, cap: int) -> _Gaps:
    n = np.asarray(table[f"n_{cap}"].fill_null(0), dtype=np.float64)
    total = np.asarray(table[f"sum_{cap}"].fill_null(0), dtype=np.float64)
    squares = np.asarray(table[f"sq_{cap}"].fill_null(0), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / n, 0.0)
        var = np.where(n > 1, (squares - n * mean**2) / np.maximum(n - 1, 1), 0.0)
        cv = np.where((n > 1) & (mean > 0), np.sqrt(np.maximum(var, 0.0)) / mean, np.inf)
    return _Gaps(n, mean, cv)


def _regular_count(table: pa.Table, rows: np.ndarray, t: float, cache: dict[int, _Gaps]) -> int:
    cap = _cap_for(3 * t)
    g = cache.setdefault(cap, _gaps(table, cap))
    return int((rows & (g.count >= 2) & (g.cv < REGULAR_CV) & (g.mean >= SINGLE_GAP * t)).sum())


def _cap_for(seconds: float) -> int:
    for i, hours in enumerate(GAP_CAPS_HOURS):
        if hours * 3600 >= seconds:
            return i
    return len(GAP_CAPS_HOURS) - 1


def interval(table: pa.Table) -> float:
    """The bots' check-in interval T (seconds), measured from regular addresses.

    Lone machines give gaps T apart, an address shared by k machines T/k: the median of
    the regular addresses' mean gaps is taken, then again above 0.6 x that first value
    (the upper mode, where lone machines sit); first with gaps under six hours, then
    under the first cap of at least 3 T.
    """
    return _interval(table, np.ones(table.num_rows, dtype=bool), {})


def _interval(table: pa.Table, rows: np.ndarray, cache: dict[int, _Gaps]) -> float:
    estimate = 0.0
    cap = _cap_for(FIRST_CAP_HOURS * 3600)
    for _ in range(2):
        g = cache.setdefault(cap, _gaps(table, cap))
        regular = rows & (g.count >= 2) & (g.cv < REGULAR_CV)
        means = g.mean[regular]
        if not len(means):
            raise ValueError("too few regular repeated check-ins to measure the check-in interval")
        first = float(np.median(means))
        upper = means[means >= 0.6 * first]
        estimate = float(np.median(upper))
        cap = _cap_for(3 * estimate)
    return estimate


def periods(row: np.ndarray, seconds: np.ndarray) -> list[float]:
    """The lags (seconds, shortest first) at which the check-ins of one address come back
    more often than chance: each bot's interval and its multiples.

    `row`, `seconds`: the address (any integer key) and time of each request of a sample
    of addresses. Requests closer than BURST_SECONDS are one check-in. Lags from every
    drawn check-in to the later ones on its address are counted; machines sharing an
    address add lags at random, a flat background, while each machine's own next
    check-in adds a peak at its interval, however many share the address.
    """
    if len(seconds) < 2:
        return []
    order = np.lexsort((seconds, row))
    key, at = np.asarray(row)[order], np.asarray(seconds, dtype=np.float64)[order]
    fresh = np.ones(len(at), dtype=bool)
    fresh[1:] = (key[1:] != key[:-1]) | (at[1:] - at[:-1] > BURST_SECONDS)
    key, at = key[fresh], at[fresh]
    _, dense = np.unique(key, return_inverse=True)
    # one line of time, each address far from the next (a window is at most weeks)
    line = at - at.min() + dense.astype(np.float64) * 1e9
    rng = np.random.default_rng(0)
    starts = line[rng.choice(len(line), min(PERIOD_REFS, len(line)), replace=False)]
    low, high = PERIOD_LAGS
    edges = np.exp(np.arange(math.log(low), math.log(high), PERIOD_BIN))
    found = np.searchsorted(line, starts[:, None] + edges[None, :])
    counts = np.diff(found, axis=1).sum(axis=0).astype(np.float64)
    if counts.sum() < 1:
        return []
    widths = np.diff(edges)
    density = counts / widths
    padded = np.pad(density, PERIOD_MEDIAN, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * PERIOD_MEDIAN + 1)
    background = np.median(windows, axis=1) * widths
    kernel = np.ones(2 * PERIOD_WIDTH + 1)
    excess = np.convolve(counts - background, kernel, "same")
    spread = np.sqrt(np.convolve(np.maximum(background, 1.0), kernel, "same"))
    z = excess / spread
    lags = np.sqrt(edges[1:] * edges[:-1])
    out = []
    for i in np.flatnonzero(z >= PERIOD_Z):
        near = z[max(0, i - PERIOD_WIDTH) : i + PERIOD_WIDTH + 1]
        if z[i] == near.max():
            out.append(float(lags[i]))
    return out


def checked_interval(t: float, found: list[float]) -> float:
    """The interval `t` measured from the gaps, unless the check-ins' periodicity says it
    is too short: addresses shared by k machines show gaps of T/k, so where every address
    is shared (a CGNAT pool and nothing else) the gaps give T/k. Then every periodicity
    `found` (:func:`periods`) is more than OWN_INTERVAL longer than `t`, and the shortest
    one (the fastest build's interval) is taken. Where no periodicity shows (jitter and
    spread intervals smear it), or one lies near or below `t`, `t` stands."""
    if found and all(lag > (1 + OWN_INTERVAL) * t for lag in found):
        return min(found)
    return t


def interval_error(table: pa.Table, t: float) -> float:
    """Relative standard error of the interval `t`: the spread of the regular addresses'
    mean gaps around it, over the square root of their number."""
    g = _gaps(table, _cap_for(3 * t))
    means = g.mean[(g.count >= 2) & (g.cv < REGULAR_CV) & (g.mean >= 0.6 * t)]
    if len(means) < 2:
        return 0.0
    return float(np.std(means, ddof=1) / t / math.sqrt(len(means)))


def office_candidates(table: pa.Table, t: float, window_seconds: float) -> np.ndarray:
    """Addresses that may be offices (several machines behind one kept address): kept for
    days, more than one client mark or irregular gaps, busy enough for a working day of
    several machines. Their hourly check-ins are fetched for :func:`estimate` (`hourly`)."""
    g = _gaps(table, _cap_for(3 * t))
    marked = np.asarray(table["marks"].fill_null(False), dtype=bool)
    last = np.asarray(table["last"], dtype=np.float64)
    span = last - np.asarray(table["first"], dtype=np.float64)
    kept = span >= max(STEADY_SPAN, STEADY_WINDOW_SHARE * window_seconds)
    irregular = (g.count >= 2) & (g.cv >= REGULAR_CV)
    # an office shows at least one working day of OFFICE_MACHINES machines, so at least
    # that many check-ins, interleaved (gaps well under one machine's interval)
    checkins = np.asarray(table["checkins"], dtype=np.float64)
    busy = (checkins >= OFFICE_MACHINES * OFFICE_RUN_HOURS * 3600 / max(t, 1.0)) & (
        g.mean <= 0.5 * t
    )
    result: np.ndarray = kept & (marked | irregular) & busy
    return result


def _offices(
    hourly: tuple[np.ndarray, np.ndarray, np.ndarray], rows: int, rate: float
) -> np.ndarray:
    """Machines behind each office address (0 elsewhere), from its check-ins per hour.

    `hourly`: (row, hour number, check-ins) for candidate rows; `rate`: check-ins per
    hour of one machine on line (the mean over lone machines, whatever their interval).
    A group of machines on line together for a working day shows as runs of hours at
    half its busiest hour or more; the office's machines are its fullest run's mean
    check-ins per hour over `rate`.
    """
    out = np.zeros(rows)
    row, hour, count = hourly
    if not len(row) or rate <= 0:
        return out
    order = np.lexsort((hour, row))
    row, hour, count = row[order], hour[order], count[order]
    edges = np.flatnonzero(np.diff(row)) + 1
    for r, h, c in zip(
        np.split(row, edges), np.split(hour, edges), np.split(count, edges), strict=True
    ):
        series = np.zeros(int(h[-1] - h[0]) + 1)
        series[(h - h[0]).astype(np.int64)] = c
        busy = series >= 0.5 * series.max()
        steps = np.diff(np.concatenate(([0], busy.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
        if np.median(ends - starts) < OFFICE_RUN_HOURS:
            continue
        level = max(
            float(series[a:b].mean())
            for a, b in zip(starts, ends, strict=True)
            if b - a >= OFFICE_RUN_HOURS
        )
        if level / rate >= OFFICE_MACHINES:
            out[int(r[0])] = level / rate
    return out


def _few_short(table: pa.Table, own: np.ndarray, inverse: np.ndarray, g: _Gaps) -> np.ndarray:
    """Per row: fewer than SHORT_SHARE of its gaps under half its network's interval.

    Where no gap cap is that short (intervals under half an hour), the gaps' coefficient
    of variation under REGULAR_CV stands in.
    """
    out = g.cv < REGULAR_CV
    for value in np.unique(own):
        caps = [i for i, hours in enumerate(GAP_CAPS_HOURS) if hours * 3600 <= 0.5 * value]
        if not caps:
            continue
        rows = own[inverse] == value
        short = np.asarray(table[f"n_{caps[-1]}"].fill_null(0), dtype=np.float64)[rows]
        out[rows] = short < SHORT_SHARE * np.maximum(g.count[rows], 1.0)
    return out


def _office_days(
    hourly: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    office: np.ndarray,
    rate: float,
    per_checkin: float,
) -> dict[str, tuple[float, float]]:
    """Per UTC day: the machines of the counted offices on line that day and the offices'
    events that day. An office's machines on a day are its busiest run of OFFICE_RUN_HOURS
    hours that day (mean check-ins per hour over `rate`), never more than its count: on a
    weekday its staff, on a weekend the machines left running."""
    out: dict[str, tuple[float, float]] = {}
    if hourly is None or rate <= 0 or not office.any():
        return out
    row, hour, count = hourly
    keep = office[row] > 0
    row, hour, count = row[keep], hour[keep], count[keep]
    if not len(row):
        return out
    offices, slot = np.unique(row, return_inverse=True)
    most = office[offices]
    day = hour // 24
    order = np.argsort(day, kind="stable")
    edges = np.flatnonzero(np.diff(day[order])) + 1
    span = OFFICE_RUN_HOURS
    # one day at a time, every office at once: (offices x 24 hours) of check-ins
    for part in np.split(order, edges):
        series = np.zeros((len(offices), 24))
        np.add.at(series, (slot[part], hour[part] % 24), count[part])
        running = np.cumsum(np.pad(series, ((0, 0), (1, 0))), axis=1)
        level = ((running[:, span:] - running[:, :-span]) / span).max(axis=1)
        machines = float(np.minimum(level / rate, most).sum())
        label = dt.datetime.fromtimestamp(int(day[part[0]]) * 86400, dt.UTC).date().isoformat()
        out[label] = (machines, float(count[part].sum()) * per_checkin)
    return out


def _bounds(result: Distinct, reason: str, per_day: list[tuple[str, int]]) -> Distinct:
    """`result` with bounds only: no point, the reason, no per-day figures. Machine-days
    lie between the machines' low bound (each is active on one day at least) and their
    high bound on every day of the window, or the check-ins if fewer (a machine active on
    a day checked in that day)."""
    result.machines.reason = result.machine_days.reason = reason
    result.machine_days.low = result.machines.low
    result.machine_days.high = min(
        result.machines.high * max(len(per_day), 1), result.machine_days.high
    )
    result.active_per_day = [
        {"day": day, "estimate": None, "events": day_events} for day, day_events in per_day
    ]
    return result


def estimate(
    table: pa.Table,
    networks: np.ndarray,
    events_per_day: dict[str, int],
    window_seconds: float,
    peak_low: float,
    t: float,
    coverage: dict[str, float] | None = None,
    hourly: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Distinct:
    """Distinct machines, machine-days and machines active per day.

    `table`: the address table (see :func:`gap_columns`); `networks`: one group key per
    row (the attributed network, or the address's prefix); `events_per_day`: check-in
    events per UTC day; `peak_low`: the low end of the machines seen on line together in
    the busiest hours (the lower bound given when there is no point estimate); `t`: the
    check-in interval (:func:`interval`); `coverage`: per day, the share of its hours in
    the window with any event (a sinkhole outage; that day's figure is divided by it);
    `hourly`: check-ins per hour of the :func:`office_candidates` rows, as (row, hour
    number, check-ins): offices among them are counted by the machines they show on
    line together, not by the learners' mean.
    """
    cache: dict[int, _Gaps] = {}
    keys, inverse = np.unique(networks, return_inverse=True)
    # each network's own interval (versions of a bot differ; so may its networks)
    own = np.full(len(keys), t)
    for k in np.flatnonzero(np.bincount(inverse, minlength=len(keys)) >= NETWORK_INTERVAL):
        with contextlib.suppress(ValueError):
            found = _interval(table, inverse == k, cache)
            # only a clearly different interval (another version of the bot): small
            # differences are the measurement's noise and the networks' lease patterns
            clear = abs(found / t - 1) > OWN_INTERVAL
            if clear and _regular_count(table, inverse == k, found, cache) >= NETWORK_INTERVAL:
                own[k] = found
    t_row = own[inverse]
    g = _Gaps(*(np.zeros(table.num_rows) for _ in range(3)))
    for cap in np.unique([_cap_for(3 * x) for x in own]):
        rows = np.array([_cap_for(3 * x) == cap for x in own])[inverse]
        gc = cache.setdefault(int(cap), _gaps(table, int(cap)))
        g.count[rows], g.mean[rows], g.cv[rows] = gc.count[rows], gc.mean[rows], gc.cv[rows]
    events = np.asarray(table["events"], dtype=np.float64)
    checkins = np.asarray(table["checkins"], dtype=np.float64)
    days = np.asarray(table["days"], dtype=np.float64)
    span = np.asarray(table["last"], dtype=np.float64) - np.asarray(
        table["first"], dtype=np.float64
    )
    # a lone machine: gaps about one interval apart, regular or seldom under half of it
    # (a machine on line in short sessions has irregular gaps, but few short ones), or
    # too few gaps to say otherwise
    marked = np.asarray(table["marks"].fill_null(False), dtype=bool)
    few_short = _few_short(table, own, inverse, g)
    lone_gaps = few_short | (g.cv < REGULAR_CV)
    single = ~marked & ((g.count < 2) | ((g.mean >= SINGLE_GAP * t_row) & lone_gaps))
    # a lone machine of another version: beating like a clock at its own gap (machines
    # sharing an address interleave unevenly), or regular gaps clearly slower than the
    # interval (machines sharing an address only make gaps shorter)
    clock = ~marked & (g.count >= CLOCK_GAPS) & (g.cv < CLOCK_CV) & (g.mean > 0)
    slow = single & (g.count >= 2) & (g.cv < REGULAR_CV) & (g.mean > (1 + OWN_INTERVAL) * t_row)
    other = (clock | slow) & (np.abs(g.mean / np.maximum(t_row, 1.0) - 1) > OWN_INTERVAL)
    single |= other
    shared = ~single & (g.count >= 2)
    # machines behind each address, generously: T / mean gap, rounded up (a bound)
    with np.errstate(divide="ignore"):
        behind = np.where(
            g.count >= 2, np.maximum(1.0, np.ceil(t_row / np.maximum(g.mean, 1.0))), 1.0
        )
    upper = float(behind.sum())
    # every machine that could have been there (the high bound when there is no point):
    # a lone address (one machine at a time) may change hands in each silence longer than
    # its cap of three intervals; on an address shared by machines that come and go (a
    # CGNAT pool) every check-in may be another machine's only one
    runs = np.maximum(checkins - g.count, 1.0)
    ceiling = float(np.where(single, np.minimum(runs, checkins), checkins).sum())
    # on-line time per event, per network: its interval / its requests per check-in
    lone = single & (checkins > 0)
    requests = np.bincount(inverse, weights=np.where(lone, events, 0.0), minlength=len(keys))
    bursts = np.bincount(inverse, weights=np.where(lone, checkins, 0.0), minlength=len(keys))
    # (with no lone address at all, every address's requests per check-in: still one
    # machine's, as a check-in's requests come close together)
    counted_by = lone if lone.any() else checkins > 0
    overall = float(events[counted_by].sum() / max(checkins[counted_by].sum(), 1.0)) or 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(bursts >= NETWORK_INTERVAL, requests / bursts, overall)
    per_checkin = np.where(np.abs(local / overall - 1) > OWN_INTERVAL, local, overall)
    online = events * (own / per_checkin)[inverse]
    # another version's lone machine is on line one of its own gaps per check-in
    pace = np.where(other, g.mean / np.maximum(t_row, 1.0), 1.0)
    paced = other | (single & (g.count >= 2))
    # only lone addresses judge a network: a pool's addresses (CGNAT, offices) are in use
    # all the time and span the window whoever is behind them
    repeated = (g.count >= 1) & single
    # kept for days: two days, or half the window when that is longer (over a fortnight, a
    # week's lease spans two days and still cuts every machine's history in two)
    kept_span = max(STEADY_SPAN, STEADY_WINDOW_SHARE * window_seconds)
    judged = np.bincount(inverse, weights=repeated, minlength=len(keys))
    steady_count = np.bincount(inverse, weights=repeated & (span >= kept_span), minlength=len(keys))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(judged > 0, steady_count / judged, 0.0)
    # turnover (clean-ups, new infections) shortens spans in every network alike; an
    # address that changes within the window shortens them further: a network is steady
    # when its share is near the best-measured network's
    sized = judged >= TOP_NETWORK
    best = float(share[sized].max()) if sized.any() else 1.0
    steady_net = (judged >= MIN_NETWORK) & (share >= max(STEADY_SHARE, KEEP_SHARE * best))
    learners = single & steady_net[inverse]
    n_learners = int(learners.sum())
    per_day = sorted(events_per_day.items())
    result = Distinct(
        interval=t,
        machines=Figure(None, peak_low, max(ceiling, peak_low), "bounds"),
        # a machine active on a day checked in that day at least once
        machine_days=Figure(None, 0.0, max(float(checkins.sum()), peak_low), "bounds"),
        learners=n_learners,
        own_pace=int((learners & other).sum()),
        steady_networks=int(steady_net.sum()),
        networks=len(keys),
        shared_addresses=int((shared | marked).sum()),
        shared_share=float(online[~single].sum() / max(online.sum(), 1e-9)),
    )
    reason = ""
    if window_seconds < MIN_WINDOW:
        reason = (
            f"the window is {window_seconds / 86400:.1f} days; telling addresses kept for days "
            f"from churned ones needs {MIN_WINDOW / 86400:g} or more"
        )
    elif n_learners < MIN_LEARNERS:
        reason = (
            f"{n_learners} single-machine addresses in networks that keep addresses for days "
            f"(needs {MIN_LEARNERS}); with every address churned or shared, a machine's "
            "turnover cannot be seen"
        )
    if reason:
        return _bounds(result, reason, per_day)
    # events on addresses whose machines cannot be told apart (shared, or too few gaps)
    # come from the versions in the learners' mix, weighted by their events
    mix = float((online * pace)[learners].sum() / max(online[learners].sum(), 1e-9))
    online *= np.where(paced, pace, mix)
    result.shared_share = float(online[~single].sum() / max(online.sum(), 1e-9))
    e = online[learners]
    mean = float(e.mean())
    rel = float(e.std(ddof=1) / mean / math.sqrt(n_learners)) if n_learners > 1 else 1.0
    total = float(online.sum())
    # offices: a kept address with many machines on line together for a working day is
    # counted by those machines; office machines are on line more than home ones, so the
    # learners' mean would count each one more than once
    office = np.zeros(table.num_rows)
    office_rate = 0.0
    if hourly is not None:
        # one machine's check-ins per hour, whatever its version: lone regular addresses
        # and, at any gap, addresses beating like a clock (a faster version's lone bot;
        # machines sharing an address interleave unevenly)
        lone_regular = ((single & (g.count >= 2) & (g.cv < REGULAR_CV)) | clock) & (g.mean > 0)
        if lone_regular.any():
            rate = office_rate = float(np.mean(3600.0 / g.mean[lone_regular]))
            office = np.where(~single, _offices(hourly, table.num_rows, rate), 0.0)
            # never more than the learners' mean makes of the address's events: office
            # machines are on line at least a working day, so the count only comes down;
            # a count above it is not an office but a pool whose machines move from
            # address to address (each address's fullest run would count them again)
            office = np.where(office > 0, np.minimum(office, online / mean), 0.0)
    counted = office > 0
    direct = float(office.sum())
    result.offices, result.office_machines = int(counted.sum()), direct
    rest = total - float(online[counted].sum())
    estimated = rest / mean
    point = direct + estimated
    # what the learners cannot show: the machines behind shared addresses (CGNAT,
    # households, offices too small or too irregular to count) may be on line more or
    # less than machines on lines of their own
    unseen = float(online[~single & ~counted].sum() / max(rest, 1e-9))
    part = 1.96 * rel + MODEL_ERROR + SHARED_ERROR * unseen
    half = (part * estimated + OFFICE_ERROR * direct) / max(point, 1e-9)
    if point * (1 - half) > upper:
        # more machines than the addresses can hold: the "steady" addresses were not one
        # machine's line (a small pool handing each address to one machine after another)
        reason = (
            f"the steady-line model gives {point:,.0f} machines, more than the addresses "
            f"can hold at once ({upper:,.0f}); addresses that look kept are likely handed from "
            "machine to machine"
        )
        return _bounds(result, reason, per_day)
    result.machines = Figure(
        point,
        point * (1 - half),
        point * (1 + half),
        "events / mean events per machine, learned from single-machine addresses "
        "in networks that keep addresses for days"
        + ("; offices counted by the machines they show on line together" if direct else ""),
    )
    # events per machine and active day: the learners' on-line time per active day, back
    # in events at the window's mean events per unit of on-line time
    per_active_day = float(e.sum() / days[learners].sum()) * float(events.sum()) / total
    d = days[learners]
    rel_day = float(np.std(e / d, ddof=1) / (e / d).mean() / math.sqrt(n_learners))
    half_day = 1.96 * rel_day + MODEL_ERROR + SHARED_ERROR * unseen
    # offices count by the machines on line each day, like their distinct machines
    per_checkin_all = float(events.sum() / max(checkins.sum(), 1.0))
    office_days = _office_days(hourly, office, office_rate, per_checkin_all)
    result.active_per_day = []
    low_days = high_days = 0.0
    for day, day_events in per_day:
        seen = (coverage or {}).get(day, 1.0)
        in_office, office_events = office_days.get(day, (0.0, 0.0))
        divided = max(day_events - office_events, 0.0) / per_active_day / max(seen, 1 / 24)
        value = in_office + divided
        spread = half_day * divided + OFFICE_ERROR * in_office
        low_days += value - spread
        high_days += value + spread
        result.active_per_day.append(
            {
                "day": day,
                "estimate": round(value),
                "low": round(value - spread),
                "high": round(value + spread),
                "events": day_events,
                "coverage": round(seen, 3),
            }
        )
    machine_days = sum(float(r["estimate"]) for r in result.active_per_day)
    result.machine_days = Figure(
        machine_days,
        low_days,
        high_days,
        "events / mean events per machine and active day (same learners)"
        + ("; offices by the machines they show on line each day" if office_days else ""),
    )
    return result
