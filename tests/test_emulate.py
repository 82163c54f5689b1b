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
