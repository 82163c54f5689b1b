"""Population: how many machines are really behind the addresses that reached the sinkhole.

Unique IP addresses are a poor count of infected machines: DHCP churn gives
one machine many addresses (Torpig: 1.25M IPs for about 183k bots in 10
days), NAT hides many machines behind one. This room counts what the events
show (unique IPs per hour, day, channel, family and network; new against
returning addresses; bot ids where a decoder reads them; addresses shared by
several bot ids at once) and estimates the machines when there are no ids.

The estimate rests on the check-in *rate*, which neither churn nor NAT
changes. A bot checks in every T seconds, whatever its address and whoever
shares it. T is measured from the data: within a few hours, an address behind
which one machine sits shows check-ins T apart (addresses with several
machines show T/k and are set aside as a lower mode). Then the machines of a
network on line in an hour are M = check-ins in that hour x T / 3600, and the
machines of the network are M in its busiest hours (the mean of its three
busiest hours each day, averaged over days). The assumption, stated in
docs/population.md: in each network there are hours when its infected
machines are on line together (home and office machines overlap in the
afternoon). Where it fails, the estimate is a lower bound.

Queries are written once with Ibis and run on DuckDB (default) or Spark
(`engine="spark"`), over the Parquet store; the two give the same figures.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import duckdb
import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from sinkhole import attribution, distinct
from sinkhole.events import private, sources, spark_source, store
from sinkhole.events.schema import SCHEMA
from sinkhole.events.sources import Location, Stores
from sinkhole.exceptions import SinkholeError

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")

#: Blocks within which an address's check-ins are taken as one run.
BLOCK_SECONDS = 6 * 3600
#: Gap histogram bins (seconds) for measuring the check-in interval.
GAP_BIN = 10
#: Hours averaged as a network's busiest, per day.
PEAK_HOURS = 3
#: Relative model error of the busiest-hours assumption (calibrated on the emulator; see docs).
MODEL_ERROR = 0.05
#: DuckDB's memory ceiling for the analyses.
MEMORY_LIMIT = "3GB"
#: Requests drawn for the periodicity check of the interval (whole addresses).
SAMPLE_ROWS = 400_000
#: ... read from this many hours at the middle of the window (lags up to six hours; a
#: slice of the store keeps the check cheap at 100M events).
SAMPLE_HOURS = 30
#: Fixed IP-to-machine ratio some reports used (Srizbi's, applied to Mega-D in 2009).
FIXED_RATIO = 2.0


T = TypeVar("T")


class PopulationError(SinkholeError):
    """The population could not be computed."""


@contextmanager
def connect(
    engine: str,
    root: Location | Stores,
    master: str | None = None,
    columns: Sequence[str] | None = None,
) -> Iterator[tuple[Any, Any]]:
    """(backend, events table) over the closed segments of one or several stores, on DuckDB
    or Spark (`master`: a cluster; default $SPARK_MASTER, $SPARK_REMOTE, else local[2]);
    `columns`: only these (Spark then reads no others)."""
    if engine not in ENGINES:
        raise PopulationError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    # the same checked listing as every reader: one bad segment is set aside, not fatal
    found = sources.stores(root)
    try:
        snap = store.snapshot(found, wal=False)
    except store.StoreError:
        snap = store.Snapshot()  # a folder that does not exist: no events, said below
    files = [p.absolute() for p in snap.parquet]
    if not snap.files:
        raise PopulationError(f"no events under {found} (closed Parquet segments are read)")
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        con.raw_sql("SET enable_progress_bar = false")  # it would print on our stdout
        # bounded memory: big group-bys spill to disk instead of growing past the limit
        con.raw_sql(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.raw_sql("SET preserve_insertion_order = false")
        # spills hold victim addresses: a private per-user folder, never a fixed shared one
        con.raw_sql(f"SET temp_directory = {private.duckdb_path_literal(private.spill_folder())}")
        try:
            events = _duckdb_events(con, files, snap.shared)
            yield con, events if columns is None else events.select(*columns)
        finally:
            con.disconnect()
    elif engine == "spark":
        session = _spark_session(master)
        con = ibis.pyspark.connect(session)
        try:
            # the checked segments of the snapshot, opened by the executors: folders (the
            # same path on every worker) by Spark's Parquet reader, shared stores in S3
            # through pyarrow's S3 client (a Python data source: no hadoop-aws needed)
            spark_source.dataframe(session, snap, columns).createOrReplaceTempView(
                "sinkhole_events"
            )
            yield con, con.table("sinkhole_events")
        finally:
            con.disconnect()
    else:
        raise PopulationError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")


def _duckdb_events(con: Any, files: list[Path], shared: list[store.Shared]) -> Any:
    """The events of local files (DuckDB's reader) and shared stores (pyarrow's file systems)."""
    tables = [con.read_parquet([str(f) for f in files])] if files else []
    for index, part in enumerate(s for s in shared if s.paths):
        name = f"sinkhole_shared_{index}"
        con.con.register(name, pads.dataset(part.paths, schema=SCHEMA, filesystem=part.fs))
        tables.append(con.table(name))
    if len(tables) == 1:
        return tables[0]
    first = tables[0].select(*SCHEMA.names)
    rest = [t.select(*SCHEMA.names).cast(first.schema()) for t in tables[1:]]
    return first.union(*rest)


#: Spark's master when none is given (and SPARK_MASTER / SPARK_REMOTE are unset).
DEFAULT_MASTER = "local[2]"


def spark_master(given: str | None = None) -> str:
    """The Spark master to use: `given`, else $SPARK_REMOTE (Spark Connect), else
    $SPARK_MASTER, else local[2]. A Spark Connect URL starts with sc://."""
    if given:
        return given
    return os.environ.get("SPARK_REMOTE") or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER


def _spark_session(master: str | None = None) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise PopulationError("--engine spark needs pyspark (pip install pyspark)") from None
    url = spark_master(master)
    if url.startswith("sc://"):
        # Spark Connect: the server owns the cluster and its settings
        builder = SparkSession.builder.remote(url).config("spark.sql.session.timeZone", "UTC")
        return builder.getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None and active.sparkContext.master != url:
        active.stop()  # getOrCreate would hand back a session on another master
    if url.startswith("local"):
        # the executors run Python (the segment reader): this interpreter, with pyarrow
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(url)
        .appName("sinkhole-population")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        # the per-address window sorts every check-in: many small shuffle partitions
        # (coalesced again by adaptive execution on small stores) and a heap to hold them
        .config("spark.sql.shuffle.partitions", "64")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.memory", "6g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # cached and shuffled blocks hold victim addresses: a private folder, not /tmp
        .config("spark.local.dir", str(private.spill_base()))
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )


def contacts(events: Any) -> Any:
    """Events that come from bots themselves (not from the resolvers that relay lookups)."""
    return events.filter((events.application != "dns") | (events.channel == "dns-servers"))


def checkins(events: Any) -> Any:
    """One row per bot check-in: HTTP, TLS and raw contacts."""
    return events.filter(events.application.isin(["http", "tls", "raw"]))


@dataclass
class Interval:
    """An estimate with its 95% interval."""

    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """Rounded for reports."""
        return {"estimate": round(self.estimate), "low": round(self.low), "high": round(self.high)}


@dataclass
class Report:
    """Everything `sinkhole population` prints."""

    unique_ips: int
    events: int
    checkins: int
    first: str
    last: str
    bot_ids: int | None
    machines: distinct.Figure
    online_at_peak: Interval
    machine_days: distinct.Figure
    interval_seconds: float
    fixed_ratio: float
    active_per_day: list[dict[str, Any]] = field(default_factory=list)
    learning: dict[str, Any] = field(default_factory=dict)
    per_day: list[dict[str, Any]] = field(default_factory=list)
    per_hour: list[dict[str, Any]] = field(default_factory=list)
    per_channel: dict[str, int] = field(default_factory=dict)
    per_family: dict[str, int] = field(default_factory=dict)
    per_network: list[dict[str, Any]] = field(default_factory=list)
    nat: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON report."""
        out = dict(vars(self))
        out["machines"] = self.machines.as_dict()
        out["machine_days"] = self.machine_days.as_dict()
        out["online_at_peak"] = self.online_at_peak.as_dict()
        return out


#: The columns the analyses read.
COLUMNS = ("timestamp", "src_ip", "application", "channel", "family", "bot_id", "http_agent")


def _materialize(con: Any, expr: Any, name: str) -> Any:
    """Keep `expr` in the engine (a DuckDB temp table, a cached Spark view) and return it."""
    session = getattr(con, "_session", None)
    if session is None:
        # DuckDB reads Parquet columns it needs fast enough; a copy would only cost memory
        return expr
    view = con.create_view(name, expr, overwrite=True)
    session.catalog.cacheTable(name)
    return view


def _rows(con: Any, expr: Any) -> list[dict[str, Any]]:
    table: pa.Table = con.to_pyarrow(expr)
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _iso(value: Any) -> str:
    """A timestamp as ISO text in UTC, whichever engine (naive or aware) returned it."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    return str(value)


def _networks(ips: list[str], dataset: attribution.Attributor) -> pa.Table:
    """ip -> asn, network (AS name and country) for the addresses the datasets attribute."""
    found = dataset.attribute(ips).table
    known = found.filter(pc.is_valid(found["asn"]))
    text = [known[name].cast(pa.string()) for name in ("as_name", "country")]
    return pa.table(
        {
            "src_ip": known["ip"],
            "asn": known["asn"],
            "network": pc.binary_join_element_wise(text[0], " (", text[1], ")", ""),
        }
    )


def checkin_interval(con: Any, ci: Any) -> tuple[float, float]:
    """(T, relative standard error): the bots' check-in interval, measured from the data."""
    # whole seconds on every engine (DuckDB's epoch has a fraction, Spark's has none)
    secs = ci.timestamp.epoch_seconds().floor()
    # six-hour blocks: long enough for several check-ins, too short to hold a night off line
    block = (secs / BLOCK_SECONDS).floor().name("block")
    per = ci.group_by([ci.src_ip, block]).aggregate(n=ci.count(), span=secs.max() - secs.min())
    per = per.filter(per.n >= 3)
    gap = (per.span / (per.n - 1) / GAP_BIN).floor().cast("int64").name("bin")
    hist = per.group_by(gap).aggregate(count=per.count())
    rows = _rows(con, hist)
    if not rows:
        raise PopulationError("too few repeated check-ins to measure the check-in interval")
    bins = np.array([r["bin"] for r in rows], dtype=np.float64) * GAP_BIN + GAP_BIN / 2
    counts = np.array([r["count"] for r in rows], dtype=np.float64)
    order = np.argsort(bins)
    bins, counts = bins[order], counts[order]
    first = _weighted_median(bins, counts)
    # addresses shared by k machines show T/k: keep the upper mode, where lone machines sit
    keep = bins >= 0.6 * first
    t = _weighted_median(bins[keep], counts[keep])
    main = keep & (bins <= 1.6 * t)
    spread = math.sqrt(np.average((bins[main] - t) ** 2, weights=counts[main]))
    rel = spread / t / math.sqrt(max(counts[main].sum(), 1.0))
    return float(t), float(rel)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, cumulative[-1] / 2))
    return float(values[min(index, len(values) - 1)])


def estimate_machines(
    con: Any, ci: Any, nets: Any, interval: float, rel_t: float, per_checkin: float = 1.0
) -> Interval:
    """Machines on line together in each network's busiest hours (the mean over the full
    days, with its interval); `per_checkin`: requests per check-in."""
    hour = ci.timestamp.truncate("h")
    joined = ci.left_join(nets, ci.src_ip == nets.src_ip)
    key = joined.asn.fill_null(-1).name("asn")
    hourly = joined.group_by([key, hour.name("hour")]).aggregate(c=joined.count())
    rows = _rows(con, hourly)
    by_day: dict[tuple[int, dt.date], list[float]] = {}
    for row in rows:
        stamp = row["hour"]
        by_day.setdefault((row["asn"], stamp.date()), []).append(row["c"] / per_checkin)
    days: dict[dt.date, float] = {}
    variance: dict[dt.date, float] = {}
    for (_asn, day), counts in by_day.items():
        top = sorted(counts, reverse=True)[:PEAK_HOURS]
        mean = sum(top) / len(top)
        days[day] = days.get(day, 0.0) + mean * interval / 3600.0
        variance[day] = (
            variance.get(day, 0.0) + (sum(top) / len(top) ** 2) * (interval / 3600.0) ** 2
        )
    if not days:
        raise PopulationError("no check-ins to estimate machines from")
    # a partial first or last day understates its peak: use the full days when there are any
    values = np.array([days[d] for d in sorted(days)])
    full = values[values >= 0.5 * values.max()]
    estimate = float(full.mean())
    between = float(full.std(ddof=1) / math.sqrt(len(full))) if len(full) > 1 else 0.0
    poisson = math.sqrt(float(np.mean([variance[d] for d in sorted(days)]))) / math.sqrt(len(full))
    se = math.sqrt(between**2 + poisson**2 + (estimate * rel_t) ** 2)
    half = 1.96 * se + MODEL_ERROR * estimate
    return Interval(estimate, max(0.0, estimate - half), estimate + half)


def address_stats(con: Any, ci: Any) -> pa.Table:
    """One row per source address: events, check-ins, first/last sight (epoch seconds),
    UTC days seen, and its check-in gaps (count, sum, sum of squares) under each cap of
    :data:`sinkhole.distinct.GAP_CAPS_HOURS`. Requests closer than
    :data:`~sinkhole.distinct.BURST_SECONDS` are one check-in."""
    t = ci.select(
        ci.src_ip,
        # floored: a cast rounds on DuckDB (a fraction) but Spark's seconds are truncated
        s=ci.timestamp.epoch_seconds().floor().cast("int64"),
        agent=ci.http_agent.hash(),
        bid=ci.bot_id.hash(),
    )
    previous = t.s.lag().over(ibis.window(group_by=t.src_ip, order_by=t.s))
    t = t.mutate(g=(t.s - previous).cast("float64"), day=(t.s / 86400).floor())
    fresh = t.g.isnull() | (t.g > distinct.BURST_SECONDS)
    metrics: dict[str, Any] = {
        "events": t.count(),
        "checkins": t.count(where=fresh),
        "first": t.s.min(),
        "last": t.s.max(),
        "days": t.day.nunique(),
        # more than one client mark (user agent, bot id) on the address: several machines,
        # at once or one after another (min != max: the cheap "distinct > 1"; the Host
        # header is no mark: one bot asks for many names)
        "marks": (t.agent.min() != t.agent.max()) | (t.bid.min() != t.bid.max()),
    }
    for i, hours in enumerate(distinct.GAP_CAPS_HOURS):
        inside = t.g.notnull() & (t.g > distinct.BURST_SECONDS) & (t.g < hours * 3600)
        metrics[f"n_{i}"] = t.count(where=inside)
        metrics[f"sum_{i}"] = t.g.sum(where=inside)
        metrics[f"sq_{i}"] = (t.g * t.g).sum(where=inside)
    per = t.group_by("src_ip").aggregate(**metrics)
    table: pa.Table = con.to_pyarrow(per.order_by("src_ip"))
    return table


def sample_rows(stats: pa.Table, share: float = 1.0) -> np.ndarray:
    """Rows of the address table whose requests the periodicity check reads: addresses
    with six check-ins or more, in the order of a hash of their text (every engine and
    every run draws the same ones), until about SAMPLE_ROWS requests would be read when
    `share` of each address's requests is (the slice of the window read). An address
    with more than a twentieth of that (a big NAT) is passed over, so no one address
    fills the sample."""
    checkins = np.asarray(stats["checkins"], dtype=np.int64)
    expected = np.asarray(stats["events"], dtype=np.float64) * share
    names = stats["src_ip"].to_pylist()
    rank = np.array([zlib.crc32(str(n).encode()) for n in names], dtype=np.int64)
    order = np.argsort(rank, kind="stable")
    order = order[(checkins[order] >= 6) & (expected[order] <= SAMPLE_ROWS / 20)]
    taken: np.ndarray = order[np.cumsum(expected[order]) <= SAMPLE_ROWS]
    return taken


def sampled(con: Any, ci: Any, stats: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(row of the address table, epoch seconds) of the requests of the addresses
    :func:`sample_rows` picks, in SAMPLE_HOURS at the middle of the window: the store is
    written in time order, so the engine reads only the row groups of those hours."""
    first, last = float(pc.min(stats["first"]).as_py()), float(pc.max(stats["last"]).as_py())
    taken = sample_rows(stats, min(1.0, SAMPLE_HOURS * 3600 / max(last - first, 1.0)))
    if not len(taken):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    middle = (first + last) / 2
    since = dt.datetime.fromtimestamp(middle - SAMPLE_HOURS * 1800, dt.UTC)
    until = dt.datetime.fromtimestamp(middle + SAMPLE_HOURS * 1800, dt.UTC)
    wanted = ibis.memtable(
        pa.table({"sample_ip": stats["src_ip"].take(pa.array(taken)), "sample_row": taken})
    )
    hours = ci.filter((ci.timestamp >= since) & (ci.timestamp < until))
    joined = hours.inner_join(wanted, hours.src_ip == wanted.sample_ip)
    table = con.to_pyarrow(
        joined.select(joined.sample_row, s=joined.timestamp.epoch_seconds().floor().cast("int64"))
    )
    return (
        np.asarray(table["sample_row"], dtype=np.int64),
        np.asarray(table["s"], dtype=np.float64),
    )


def office_hours(
    con: Any, ci: Any, stats: pa.Table, chosen: np.ndarray, per_checkin: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check-ins per hour of the chosen rows of the address table (requests / requests
    per check-in), as (row, hour number since the epoch, check-ins) arrays."""
    rows = np.flatnonzero(chosen)
    if not len(rows):
        empty = np.zeros(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty
    wanted = ibis.memtable(
        pa.table({"office_ip": stats["src_ip"].take(pa.array(rows)), "office_row": rows})
    )
    joined = ci.inner_join(wanted, ci.src_ip == wanted.office_ip)
    hour = (joined.timestamp.epoch_seconds() / 3600).floor().cast("int64").name("hour")
    per = joined.group_by([joined.office_row, hour]).aggregate(n=joined.count())
    table = con.to_pyarrow(per)
    return (
        np.asarray(table["office_row"], dtype=np.int64),
        np.asarray(table["hour"], dtype=np.int64),
        np.asarray(table["n"], dtype=np.float64) / max(per_checkin, 1.0),
    )


def _coverage(hours: list[Any]) -> dict[str, float]:
    """Per UTC day: the share of its hours between the first and the last hour with events
    that have any (hours without a single event: the sinkhole was down)."""
    stamps = sorted((h if h.tzinfo else h.replace(tzinfo=dt.UTC)).astimezone(dt.UTC) for h in hours)
    if not stamps:
        return {}
    seen: dict[str, int] = {}
    expected: dict[str, int] = {}
    for h in stamps:
        seen[h.date().isoformat()] = seen.get(h.date().isoformat(), 0) + 1
    slot = stamps[0]
    while slot <= stamps[-1]:
        expected[slot.date().isoformat()] = expected.get(slot.date().isoformat(), 0) + 1
        slot += dt.timedelta(hours=1)
    return {day: seen.get(day, 0) / count for day, count in expected.items()}


def _network_keys(ips: pa.Array, nets: pa.Table) -> np.ndarray:
    """A group key per address: its attributed ASN, else its /16 (IPv4) or /32 (IPv6)."""
    asn = dict(zip(nets["src_ip"].to_pylist(), nets["asn"].to_pylist(), strict=True))
    keys = []
    for ip in ips.to_pylist():
        found = asn.get(ip)
        if found is not None:
            keys.append(f"AS{found}")
        elif ":" in ip:
            keys.append(str(ipaddress.ip_network(f"{ip}/32", strict=False)))
        else:
            keys.append(".".join(ip.split(".")[:2]) + ".0.0/16")
    return np.array(keys, dtype=object)


def _retrying(root: Location | Stores, work: Callable[[], T]) -> T:
    """Run `work`; when the engine fails on a segment's data, set it aside and run once more."""
    for attempt in range(2):
        try:
            return work()
        except duckdb.Error as exc:
            if attempt == 0 and store.set_aside_unreadable(root):
                continue
            message = " ".join(str(exc).split())[:300]
            where = sources.stores(root)
            raise PopulationError(f"cannot read events under {where}: {message}") from None
        except Exception as exc:
            reason = spark_source.failure(exc)
            if reason is None:
                raise
            # as on DuckDB: a segment whose data (behind a good footer) cannot be read is
            # quarantined, and the rest read again
            if attempt == 0 and store.set_aside_unreadable(root):
                continue
            where = sources.stores(root)
            raise PopulationError(f"Spark cannot read events under {where}: {reason}") from None
    raise AssertionError("unreachable")


def address_table(
    root: Location | Stores, out: Path, engine: str = "duckdb", master: str | None = None
) -> int:
    """Write first seen, last seen and contacts per source IP as Parquet; returns the rows."""
    return _retrying(root, lambda: _address_table(root, out, engine, master))


def _address_table(root: Location | Stores, out: Path, engine: str, master: str | None) -> int:
    with connect(engine, root, master, COLUMNS) as (con, events):
        bots = contacts(events)
        per_ip = bots.group_by("src_ip").aggregate(
            first_seen=bots.timestamp.min(),
            last_seen=bots.timestamp.max(),
            contacts=bots.count(),
            bot_ids=bots.bot_id.nunique(),
        )
        table: pa.Table = con.to_pyarrow(per_ip.order_by("src_ip"))
    try:
        private.folder(out.parent)
        with private.open_file(out) as handle:  # victim addresses: 0600 from the first byte
            pq.write_table(table, handle, compression="zstd")
    except OSError as exc:
        raise PopulationError(f"cannot write {out}: {exc.strerror}") from None
    rows: int = table.num_rows
    return rows


def report(
    root: Location | Stores,
    engine: str = "duckdb",
    dataset: attribution.Attributor | None = None,
    master: str | None = None,
) -> Report:
    """Counts and the machine estimate for the events under `root` (the lab table by default).

    `root`: a store folder, a shared store's URL, or several (read as one store);
    `master`: the Spark master for engine="spark" (see :func:`spark_master`).
    """
    return _retrying(root, lambda: _report(root, engine, dataset, master))


def _report(
    root: Location | Stores, engine: str, dataset: attribution.Attributor | None, master: str | None
) -> Report:
    lab = dataset if dataset is not None else attribution.lab()
    with connect(engine, root, master, COLUMNS) as (con, events):
        # one pass over the files: the columns the analyses need, kept in the engine's memory
        bots = _materialize(con, contacts(events).select(*COLUMNS), "sinkhole_contacts")
        ci = checkins(bots)
        totals = _rows(
            con,
            bots.aggregate(
                unique_ips=bots.src_ip.nunique(),
                events=bots.count(),
                first=bots.timestamp.min(),
                last=bots.timestamp.max(),
            ),
        )[0]
        n_checkins = int(_rows(con, ci.aggregate(n=ci.count()))[0]["n"])
        id_rows = _rows(con, ci.aggregate(ids=ci.bot_id.nunique()))
        bot_ids = int(id_rows[0]["ids"]) if id_rows and id_rows[0]["ids"] else None
        # distinct counts as two plain group-bys (faster than count-distinct on every engine)
        stamped = bots.mutate(day=bots.timestamp.truncate("D"), hour=bots.timestamp.truncate("h"))
        ip_day = stamped.group_by(["day", "src_ip"]).aggregate(events=stamped.count())
        id_day = stamped.filter(stamped.bot_id.notnull()).select("day", "bot_id").distinct()
        per_day = _rows(
            con,
            ip_day.group_by("day")
            .aggregate(unique_ips=ip_day.count(), events=ip_day.events.sum())
            .order_by("day"),
        )
        ids_per_day = {
            str(r["day"].date()): int(r["n"])
            for r in _rows(con, id_day.group_by("day").aggregate(n=id_day.count()))
        }
        ip_hour = stamped.select("hour", "src_ip").distinct()
        per_hour = _rows(
            con, ip_hour.group_by("hour").aggregate(unique_ips=ip_hour.count()).order_by("hour")
        )
        first_seen = ip_day.group_by("src_ip").aggregate(first=ip_day.day.min())
        new = _rows(
            con, first_seen.group_by(first_seen.first.name("day")).aggregate(new=first_seen.count())
        )
        ip_channel = bots.select("channel", "src_ip").distinct()
        channels = _rows(con, ip_channel.group_by("channel").aggregate(n=ip_channel.count()))
        ip_family = bots.select("family", "src_ip").distinct()
        fams = _rows(con, ip_family.group_by("family").aggregate(n=ip_family.count()))
        ips = [r["src_ip"] for r in _rows(con, first_seen.select("src_ip"))]
        nets_table = _networks(ips, lab)
        nets = ibis.memtable(nets_table)
        ip_net = first_seen.left_join(nets, first_seen.src_ip == nets.src_ip)
        per_net = _rows(
            con, ip_net.group_by([ip_net.asn, ip_net.network]).aggregate(unique_ips=ip_net.count())
        )
        id_net = bots.filter(bots.bot_id.notnull()).select("src_ip", "bot_id").distinct()
        id_net = (
            id_net.left_join(nets, id_net.src_ip == nets.src_ip).select("asn", "bot_id").distinct()
        )
        ids_per_net = {
            r["asn"]: int(r["n"])
            for r in _rows(con, id_net.group_by("asn").aggregate(n=id_net.count()))
        }
        # several bot ids (or user agents) from one address in one hour: NAT. Comparing the
        # smallest and largest hash is the cheap form of "more than one distinct value"
        hour_ci = (ci.timestamp.epoch_seconds() / 3600).floor().name("hour")
        bid, agent = ci.bot_id.hash(), ci.http_agent.hash()
        per_address = ci.group_by([ci.src_ip, hour_ci]).aggregate(
            many=(bid.min() != bid.max()) | (agent.min() != agent.max()), n=ci.count()
        )
        shared = per_address.filter(per_address.many)
        nat = _rows(
            con, shared.aggregate(addresses=shared.src_ip.nunique(), checkins=shared.n.sum())
        )[0]
        stats = address_stats(con, ci)
        try:
            interval = distinct.interval(stats)
        except ValueError:
            # a short or sparse store: the six-hour blocks may still show the interval
            interval, _ = checkin_interval(con, ci)
        interval = distinct.checked_interval(interval, distinct.periods(*sampled(con, ci, stats)))
        rel_t = distinct.interval_error(stats, interval)
        # several requests per check-in: the rate counts check-ins, not requests
        per_checkin = float(pc.sum(stats["events"]).as_py()) / max(
            float(pc.sum(stats["checkins"]).as_py()), 1.0
        )
        online = estimate_machines(con, ci, nets, interval, rel_t, per_checkin)
        day_ci = ci.group_by(day=ci.timestamp.truncate("D")).aggregate(n=ci.count())
        events_per_day = {str(r["day"].date()): int(r["n"]) for r in _rows(con, day_ci)}
        window = float(pc.max(stats["last"]).as_py()) - float(pc.min(stats["first"]).as_py())
        hourly = office_hours(
            con, ci, stats, distinct.office_candidates(stats, interval, window), per_checkin
        )
        found = distinct.estimate(
            stats,
            _network_keys(stats["src_ip"], nets_table),
            events_per_day,
            window,
            online.low,
            interval,
            _coverage([r["hour"] for r in per_hour]),
            hourly,
        )
    new_by_day = {str(r["day"].date()): int(r["new"]) for r in new}
    days = []
    for row in per_day:
        key = str(row["day"].date())
        days.append(
            {
                "day": key,
                "unique_ips": int(row["unique_ips"]),
                "bot_ids": ids_per_day.get(key, 0),
                "events": int(row["events"]),
                "new_ips": new_by_day.get(key, 0),
                "returning_ips": int(row["unique_ips"]) - new_by_day.get(key, 0),
            }
        )
    networks = sorted(
        (
            {
                "asn": r["asn"],
                "network": r["network"] or "(unattributed)",
                "unique_ips": int(r["unique_ips"]),
                "bot_ids": ids_per_net.get(r["asn"], 0),
            }
            for r in per_net
        ),
        key=lambda r: (-r["unique_ips"], str(r["asn"])),
    )
    unique = int(totals["unique_ips"])
    return Report(
        unique_ips=unique,
        events=int(totals["events"]),
        checkins=n_checkins,
        first=_iso(totals["first"]),
        last=_iso(totals["last"]),
        bot_ids=bot_ids,
        machines=found.machines,
        online_at_peak=online,
        machine_days=found.machine_days,
        active_per_day=found.active_per_day,
        learning={
            "learners": found.learners,
            "learners_own_pace": found.own_pace,
            "steady_networks": found.steady_networks,
            "networks": found.networks,
            "shared_addresses": found.shared_addresses,
            "shared_event_share": round(found.shared_share, 3),
            "offices": found.offices,
            "office_machines": round(found.office_machines),
        },
        interval_seconds=round(interval, 1),
        fixed_ratio=unique / FIXED_RATIO,
        per_day=days,
        per_hour=[{"hour": _iso(r["hour"]), "unique_ips": int(r["unique_ips"])} for r in per_hour],
        per_channel={
            str(r["channel"]): int(r["n"])
            for r in sorted(channels, key=lambda r: str(r["channel"]))
        },
        per_family={
            str(r["family"]): int(r["n"]) for r in sorted(fams, key=lambda r: str(r["family"]))
        },
        per_network=networks,
        nat={
            "addresses": int(nat["addresses"] or 0),
            "checkin_share": round(int(nat["checkins"] or 0) / max(n_checkins, 1), 4),
        },
    )
