"""The emulator: deterministic, faithful to its parameters and to the fallback chain."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sinkhole import emulate, emulate_live, operation, plan
from sinkhole.events import store
from sinkhole.events.writer import EventWriter
from sinkhole.testing import running_sinkhole

OP = """\
[operation]
name = "emulate"
start = 2026-12-01
hold_days = 10

[[targets]]
family = "megad-sim"

[listeners]
dns = ["127.0.0.1:0"]
resolver = ["127.0.0.1:0"]
http = ["127.0.0.1:0"]
"""


@pytest.fixture
def op() -> operation.Operation:
    return operation.loads(OP)


def _offline(
    op: operation.Operation, root: Path, p: plan.Plan | None = None, **kw: object
) -> emulate.Truth:
    settings = emulate.Settings(**{"machines": 3000, "days": 2.0, "seed": 5, **kw})  # type: ignore[arg-type]
    writer = EventWriter(root, "emulator")
    truth = emulate.offline(
        op, p or plan.compute(op), settings, writer, addresses_file=root / "addr.parquet"
    )
    writer.close()
    return truth


def test_offline_is_deterministic_and_matches_the_store(
    op: operation.Operation, tmp_path: Path
) -> None:
    a = _offline(op, tmp_path / "a")
    b = _offline(op, tmp_path / "b")
    c = _offline(op, tmp_path / "c", seed=6)
    assert (a.events, a.machines, a.per_day) == (b.events, b.machines, b.per_day)
    assert a.events != c.events
    assert store.count(tmp_path / "a") == a.events
    http = store.read(tmp_path / "a", store.Filter(application="http"))
    assert http.num_rows == a.checkins
    assert len(set(http.column("bot_id").to_pylist())) == a.machines
    days = {}
    for stamp, bot in zip(
        http.column("timestamp").to_pylist(), http.column("bot_id").to_pylist(), strict=True
    ):
        days.setdefault(stamp.date().isoformat(), set()).add(bot)
    assert {d["date"]: d["machines"] for d in a.per_day} == {k: len(v) for k, v in days.items()}
    assert a.per_channel["dga"] > 0 and a.per_channel["dns-servers"] > 0


def test_nat_and_churn_follow_the_isp_parameters(op: operation.Operation, tmp_path: Path) -> None:
    settings = emulate.Settings(machines=40_000, days=3.0, seed=9, always_on=1.0)
    pop = emulate.Population.build(settings)
    sizes = np.bincount(pop.holder)
    for index, profile in enumerate(settings.profiles):
        members = pop.isp == index
        share = (sizes[pop.holder[members]] > 1).mean()
        n = members.sum()
        tolerance = 3 * np.sqrt(max(profile.nat_share * (1 - profile.nat_share), 1e-4) / n) + 0.01
        assert abs(share - profile.nat_share) < tolerance, (profile.asn, share)
    truth = _offline(op, tmp_path, machines=40_000, days=3.0, seed=9, always_on=1.0)
    spans = pq.read_table(tmp_path / "addr.parquet").to_pylist()
    per_bot: dict[str, set[str]] = {}
    for row in spans:
        per_bot.setdefault(row["bot_id"], set()).add(row["address"])
    bots = {f"{int(v):016x}": i for i, v in enumerate(pop.bot_id)}
    for index, profile in enumerate(settings.profiles):
        if profile.lease_hours == 0:
            counts = [
                len(per_bot[b]) for b, i in bots.items() if pop.isp[i] == index and b in per_bot
            ]
            assert set(counts) == {1}, profile.asn  # static: one address each
        elif profile.lease_hours in (24, 12):
            counts = [
                len(per_bot[b]) for b, i in bots.items() if pop.isp[i] == index and b in per_bot
            ]
            expected = 1 + 3 * 24 / profile.lease_hours  # an always-on host sees 1 + W/lease
            assert abs(np.mean(counts) - expected) / expected < 0.1, (profile.asn, np.mean(counts))
    assert truth.machines == 40_000


def test_unseized_static_domains_keep_bots_off_the_dga(
    op: operation.Operation, tmp_path: Path
) -> None:
    p = plan.compute(op)
    for held in [h for h in p.domains.values() if h.channels == {"static-domains"}]:
        del p.domains[held.domain]
    truth = _offline(op, tmp_path / "x", p)
    assert truth.events == 0 and truth.per_channel.get("dga", 0) == 0
    full = _offline(op, tmp_path / "y")
    assert full.per_channel["dga"] > 0  # with static domains and resolvers seized they fall back


def test_live_mode_refuses_other_targets() -> None:
    for address in (("192.0.2.1", 53), ("10.0.0.1", 53), ("8.8.8.8", 53)):
        with pytest.raises(emulate.EmulateError, match="not a loopback address"):
            emulate_live.Targets(address, ("127.0.0.1", 80)).check()
    emulate_live.Targets(("127.5.5.5", 53), ("::1", 80)).check()


def test_cli_refuses_a_non_loopback_target(tmp_path: Path) -> None:
    path = tmp_path / "op.toml"
    path.write_text(OP)
    result = subprocess.run([sys.executable, "-m", "sinkhole", "emulate", str(path), "--machines", "10",
                             "--days", "0.1", "--target", "dns=192.0.2.53:53", "--target", "http=127.0.0.1:80"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "192.0.2.53 is not a loopback address" in line


def test_live_checkins_appear_in_the_store_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "op.toml"
    path.write_text(OP)
    op = operation.load(path)
    with running_sinkhole(path, tmp_path / "d", "--workers", "2") as sink:
        targets = emulate_live.Targets(
            sink.address("dns"), sink.address("http"), sink.address("resolver")
        )
        settings = emulate.Settings(machines=300, days=0.5, seed=3, interval_minutes=30)
        truth = emulate_live.run_live(op, plan.compute(op), settings, targets, duration=6.0)
    assert truth.failed == 0, truth.error
    assert truth.checkins > 1000
    http = store.read(tmp_path / "d", store.Filter(application="http"))
    stored: dict[str, int] = {}
    for bot in http.column("bot_id").to_pylist():
        stored[bot] = stored.get(bot, 0) + 1
    assert stored == truth.checkins_by_bot
    by_bot = {}
    for bot, ip in zip(
        http.column("bot_id").to_pylist(), http.column("src_ip").to_pylist(), strict=True
    ):
        by_bot.setdefault(bot, set()).add(ip)
    assert {b: sorted(v) for b, v in by_bot.items()} == {
        b: sorted(v) for b, v in truth.addresses_by_bot.items()
    }
    assert all(
        ip.startswith("127.") and not ip.startswith("127.0.0.")
        for ips in by_bot.values()
        for ip in ips
    )
    # the HTTP listener knows a channel by the Host name; the resolver listener sees dns-servers
    assert set(http.column("channel").to_pylist()) == {"static-domains", "dga"}
    lookups = store.read(tmp_path / "d", store.Filter(application="dns"))
    assert set(lookups.column("channel").to_pylist()) == {"static-domains", "dns-servers", "dga"}
    assert lookups.num_rows == truth.dns_queries


def test_live_bots_stay_with_a_name_the_sinkhole_refuses(tmp_path: Path) -> None:
    # the sinkhole only holds the DGA: the reserved domains still "belong to the botmaster"
    served = tmp_path / "served.toml"
    served.write_text(
        OP.replace('family = "megad-sim"', 'family = "megad-sim"\nuse_family_lists = false')
    )
    path = tmp_path / "op.toml"
    path.write_text(OP)
    op = operation.load(path)
    with running_sinkhole(served, tmp_path / "d") as sink:
        targets = emulate_live.Targets(
            sink.address("dns"), sink.address("http"), sink.address("resolver")
        )
        settings = emulate.Settings(machines=100, days=0.25, seed=4, interval_minutes=30)
        truth = emulate_live.run_live(op, plan.compute(op), settings, targets, duration=3.0)
    assert truth.checkins == 0 and truth.absorbed > 0
    names = set(store.read(tmp_path / "d").column("dns_qname").to_pylist())
    assert names and all(
        "megad-sim" in n for n in names
    )  # only reserved names were asked, never the DGA


def test_truth_file_from_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "op.toml"
    path.write_text(OP)
    result = subprocess.run([sys.executable, "-m", "sinkhole", "emulate", str(path), "--machines", "500",
                             "--days", "1", "--offline", "--data", str(tmp_path / "d"), "--truth",
                             str(tmp_path / "truth.json")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["machines"] == len(
        set(
            store.read(tmp_path / "d", store.Filter(application="http"))
            .column("bot_id")
            .to_pylist()
        )
    )
    assert truth["population"] == 500
    assert (tmp_path / "truth-addresses.parquet").exists()
    assert dt.date.fromisoformat(truth["per_day"][0]["date"]) == dt.date(2026, 12, 1)


def test_a_live_run_that_falls_behind_stops_and_says_how_much_it_left(tmp_path: Path) -> None:
    path = tmp_path / "op.toml"
    path.write_text(OP)
    op = operation.load(path)
    with running_sinkhole(path, tmp_path / "d") as sink:
        targets = emulate_live.Targets(sink.address("dns"), sink.address("http"))
        # a day of 3,000 machines in one second: tens of thousands of check-ins, far more
        # than one process sends in a second
        settings = emulate.Settings(machines=3000, days=1, seed=5, interval_minutes=30)
        run = emulate_live.LiveRun(op, plan.compute(op), settings, targets, duration=1.0)
        scheduled = len(run.schedule()[0])
        truth = emulate_live.run_live(op, plan.compute(op), settings, targets, duration=1.0)
    assert truth.skipped > 0
    assert truth.skipped < scheduled
    assert truth.checkins > 0
    stored = store.read(tmp_path / "d", store.Filter(application="http")).num_rows
    # a check-in cut short may or may not have reached the sinkhole; none is counted twice
    assert truth.checkins <= stored <= truth.checkins + truth.cut
    assert json.loads(json.dumps(emulate_live.truth_json(truth)))["skipped"] == truth.skipped


def test_a_live_run_too_big_is_refused_before_building_the_population() -> None:
    op = operation.loads(OP)
    targets = emulate_live.Targets(("127.0.0.1", 1), ("127.0.0.1", 1))
    settings = emulate.Settings(machines=5_000_000, days=60)
    with pytest.raises(emulate.EmulateError, match="a live run's limit"):
        emulate_live.LiveRun(op, plan.compute(op), settings, targets, duration=10.0)


def test_probe_names_the_target_nobody_listens_on() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        targets = emulate_live.Targets(("127.0.0.1", port), ("127.0.0.1", port))
        with pytest.raises(emulate.EmulateError, match=rf"no sinkhole at dns 127.0.0.1:{port}"):
            targets.probe()
    assert targets.describe() == f"dns 127.0.0.1:{port}, http 127.0.0.1:{port}"


# --- behaviours that a tidy world lacks (issue 11) ------------------------------------------

START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _on_share(settings: emulate.Settings, hours: np.ndarray) -> np.ndarray:
    """Share of machines on line at each of `hours` (hours since START)."""
    pop = emulate.Population.build(settings)
    n = pop.machines
    shares = []
    for hour in hours.tolist():
        machines = np.arange(n, dtype=np.int64)
        on = pop.online(machines, np.full(n, hour * 3600.0), START)
        shares.append(on.mean())
    return np.array(shares)


def test_machines_in_their_own_time_zones_flatten_the_day() -> None:
    hours = np.arange(0, 24, dtype=np.float64)
    base = {"machines": 20_000, "seed": 3, "always_on": 0.0}
    tidy = _on_share(emulate.Settings(**base), hours)  # type: ignore[arg-type]
    spread = _on_share(emulate.Settings(**base, tz_spread_hours=6.0), hours)  # type: ignore[arg-type]
    # the same machines, scattered over the zones: the busiest hour holds fewer of them
    assert spread.max() < tidy.max() - 0.05
    assert spread.min() > tidy.min() + 0.05
    assert abs(spread.mean() - tidy.mean()) < 0.03  # on-line time per machine is unchanged


def test_evening_machines_are_on_line_a_few_hours_a_day() -> None:
    settings = emulate.Settings(machines=10_000, seed=4, always_on=0.0, evening_share=1.0)
    share = _on_share(settings, np.arange(0, 48, 0.5))
    # 2-5 h of 24 on average 3.5 h: about 15% on line at any time (zones spread them)
    assert 0.10 < share.mean() < 0.20
    tidy = _on_share(
        emulate.Settings(machines=10_000, seed=4, always_on=0.0), np.arange(0, 48, 0.5)
    )
    assert tidy.mean() > 0.45  # 11-17 h a day


def test_days_off_new_infections_and_clean_ups_show_in_the_truth(
    op: operation.Operation, tmp_path: Path
) -> None:
    tidy = _offline(op, tmp_path / "tidy", machines=6000, days=4.0, always_on=0.0)
    off = _offline(op, tmp_path / "off", machines=6000, days=4.0, always_on=0.0, day_off=0.3)
    turnover = _offline(
        op, tmp_path / "turn", machines=6000, days=4.0, always_on=0.0,
        new_share=0.3, cleanup_per_day=0.1,
    )  # fmt: skip
    per_day = {t: [d["machines"] for d in x.per_day] for t, x in
               (("tidy", tidy), ("off", off), ("turn", turnover))}  # fmt: skip
    # days off: each full day 15-35% fewer machines than the tidy world (a UTC day
    # overlaps two local days, so a machine off on one is often seen on the other),
    # nearly all of them seen at least once in the window
    for tidy_day, off_day in zip(per_day["tidy"][1:4], per_day["off"][1:4], strict=True):
        assert 0.65 < off_day / tidy_day < 0.85
    assert off.machines > 0.97 * tidy.machines
    # turnover: the last full day has lost machines to clean-ups, the window has more
    # machines than any one day (new ones came, old ones left)
    assert turnover.machines > 1.15 * max(per_day["turn"])
    assert per_day["turn"][3] < 0.85 * per_day["tidy"][3]


def test_jitter_spread_and_several_requests_per_check_in(
    op: operation.Operation, tmp_path: Path
) -> None:
    truth = _offline(op, tmp_path / "a", jitter=0.3, interval_spread=0.5, requests_per_checkin=3)
    http = store.read(tmp_path / "a", store.Filter(application="http"))
    assert http.num_rows == 3 * truth.checkins
    stamps = np.array([t.timestamp() for t in http.column("timestamp").to_pylist()])
    bots = np.array(http.column("bot_id").to_pylist())
    one = np.sort(stamps[bots == bots[0]])
    assert np.allclose(np.diff(one)[:2], 1.5)  # one check-in's three requests
    gaps = []
    for bot in np.unique(bots)[:200]:
        t = np.sort(stamps[bots == bot])[::3]
        gaps.extend(np.diff(t).tolist())
    gaps = np.array(gaps)
    # intervals of 30-90 min, moved by up to 0.3 of themselves: far from one fixed hour
    assert gaps.std() > 600 and gaps.min() < 0.75 * 3600


def test_a_sinkhole_outage_leaves_a_hole_in_the_events(
    op: operation.Operation, tmp_path: Path
) -> None:
    _offline(op, tmp_path / "a", outage_hours=6.0)
    events = store.read(tmp_path / "a")
    hours = np.array([t.timestamp() for t in events.column("timestamp").to_pylist()])
    hours = (hours - START.timestamp()) / 3600
    assert not ((hours >= 21.05) & (hours < 26.95)).any()  # 2 days: down 21:00-03:00
    assert ((hours >= 20) & (hours < 21)).any() and ((hours >= 27) & (hours < 28)).any()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("day_off", 1.5),
        ("jitter", 0.5),
        ("requests_per_checkin", 0),
        ("tz_spread_hours", float("nan")),
    ],
)
def test_behaviours_out_of_range_are_one_clear_error(name: str, value: float) -> None:
    with pytest.raises(emulate.EmulateError, match=name):
        emulate.Population.build(emulate.Settings(machines=10, **{name: value}))  # type: ignore[arg-type]


def test_behaviours_from_the_cli_reach_the_world_and_its_truth(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
    common = [sys.executable, "-m", "sinkhole", "emulate", str(example), "--offline"]
    common += ["--machines", "1500", "--days", "2", "--seed", "4"]
    for name, extra in (("tidy", []), ("busy", ["--set", "requests_per_checkin=2"])):
        subprocess.run([*common, *extra, "--data", str(tmp_path / name)], check=True,
                       capture_output=True, timeout=120)  # fmt: skip
    tidy = json.loads((tmp_path / "tidy" / "truth.json").read_text())
    busy = json.loads((tmp_path / "busy" / "truth.json").read_text())
    assert busy["settings"]["requests_per_checkin"] == 2
    assert busy["checkins"] == tidy["checkins"]  # the same check-ins, twice the requests
    tidy_http = store.count(tmp_path / "tidy", store.Filter(application="http"))
    assert store.count(tmp_path / "busy", store.Filter(application="http")) == 2 * tidy_http
    live = subprocess.run(
        [sys.executable, "-m", "sinkhole", "emulate", str(example), "--set", "outage_hours=2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert live.returncode == 2 and "offline only" in live.stderr


def test_lease_spread_varies_each_lines_lease_and_leaves_static_lines_alone(
    op: operation.Operation, tmp_path: Path
) -> None:
    kw = {"machines": 6000, "days": 4.0, "always_on": 1.0}
    even = _offline(op, tmp_path / "even", **kw)
    spread = _offline(op, tmp_path / "spread", **kw, lease_spread=1.5)
    daily = "64497"  # 24 h leases: with lognormal(0, 1.5), the short ones renumber often
    # (1/lease averages e^(1.5^2/2), about 3x that of one fixed day: more addresses)
    assert spread.per_isp[daily]["addresses"] > 1.5 * even.per_isp[daily]["addresses"]
    assert spread.per_isp["64499"]["addresses"] == even.per_isp["64499"]["addresses"]  # static
    pop = emulate.Population.build(emulate.Settings(machines=6000, lease_spread=1.5))
    leases = pop.lease_seconds()[pop.holder_isp == 1] / 3600
    assert leases.min() < 4 and leases.max() > 24 * 14  # hours for some, weeks for others
