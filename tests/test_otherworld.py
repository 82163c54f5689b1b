"""bench/otherworld.py: the independent population generator, on small worlds."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from bench import otherworld as ow

from sinkhole.events import store

SMALL = {"machines": 500, "days": 3}
OUTAGE = (30.0, 4.0)  # hours 30-34 of the window


def _hidden(world: ow.World) -> tuple[ow.Simulation, dict[str, np.ndarray]]:
    """The simulation and its recorded events with the hidden machine ids."""
    sim = ow.Simulation(world)
    blocks = list(sim.blocks())
    rows = {
        name: np.concatenate([getattr(b, name) for b in blocks])
        for name in ("machine", "time_us", "addr", "port")
    }
    return sim, rows


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, object]:
    root = tmp_path_factory.mktemp("otherworld") / "store"
    truth = ow.generate(root, "mixed-global", seed=3, outages=(OUTAGE,), **SMALL)
    return root, truth, store.read(root)


def _sorted(table):
    return table.sort_by(
        [("timestamp", "ascending"), ("src_ip", "ascending"), ("src_port", "ascending")]
    )


def test_same_seed_same_world_other_seed_other_world(tmp_path: Path) -> None:
    a = ow.generate(tmp_path / "a", "dsl-europe", seed=5, **SMALL)
    b = ow.generate(tmp_path / "b", "dsl-europe", seed=5, **SMALL)
    c = ow.generate(tmp_path / "c", "dsl-europe", seed=6, **SMALL)
    assert a == b
    assert _sorted(store.read(tmp_path / "a")).equals(_sorted(store.read(tmp_path / "b")))
    assert a["events"] != c["events"] or a["unique_ips"] != c["unique_ips"]


def test_truth_matches_the_rows(mixed) -> None:
    root, truth, table = mixed
    world = ow.make_world("mixed-global", seed=3, outages=(OUTAGE,), **SMALL)
    _, rows = _hidden(world)
    assert truth["events"] == store.count(root) == table.num_rows == rows["machine"].size
    assert truth["machines"] == np.unique(rows["machine"]).size
    assert 0 < truth["machines"] <= truth["infected"] == SMALL["machines"]
    assert truth["unique_ips"] == pc.count_distinct(table["src_ip"]).as_py()
    # the hidden rows are the stored rows: same (time, address) pairs
    begin_us = int(world.begin.timestamp()) * ow.US
    stored = sorted(
        zip(
            pc.cast(table["timestamp"], "int64").to_pylist(),
            table["src_ip"].to_pylist(),
            strict=True,
        )
    )
    hidden = sorted(
        zip(
            (rows["time_us"] + begin_us).tolist(),
            [str(ipaddress.IPv4Address(int(a))) for a in rows["addr"]],
            strict=True,
        )
    )
    assert stored == hidden
    day = rows["time_us"] // ow.DAY_US
    per_day = [np.unique(rows["machine"][day == d]).size for d in range(SMALL["days"])]
    assert list(truth["active_per_day"].values()) == per_day
    assert truth["machine_days"] == sum(per_day)
    assert truth["peak_online"] >= truth["peak_checking_in"] > 0
    # no identity in the store
    assert table["bot_id"].null_count == table.num_rows
    assert table["machine_name"].null_count == table.num_rows
    assert set(table["http_url"].unique().to_pylist()) <= {"/cfg/?v=2", "/cfg/?v=3"}


def test_addresses_inside_the_declared_pools(mixed) -> None:
    _, truth, table = mixed
    nets = [
        ipaddress.IPv4Network(cidr)
        for pools in truth["pools"].values()
        for ranges in pools.values()
        for cidr in ranges
    ]
    for net in nets:
        assert any(
            net.subnet_of(ipaddress.IPv4Network(space))
            for space in ("10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10")
        )
    for ip in table["src_ip"].unique().to_pylist():
        address = ipaddress.IPv4Address(ip)
        assert any(address in net for net in nets), ip
    assert set(table["dst_ip"].unique().to_pylist()) == {"127.0.0.1"}


def test_every_address_belongs_to_its_machines_isp() -> None:
    world = ow.make_world("mixed-global", seed=4, **SMALL)
    sim, rows = _hidden(world)
    truth_pools = sim.pools
    isp = sim.m_isp[rows["machine"]]
    for i, one in enumerate(world.isps):
        nets = [ipaddress.IPv4Network(c) for r in truth_pools[one.name].values() for c in r]
        for a in np.unique(rows["addr"][isp == i]).tolist():
            assert any(ipaddress.IPv4Address(a) in net for net in nets)


def test_timestamps_inside_the_window_and_not_in_the_outage(mixed) -> None:
    _, truth, table = mixed
    begin = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    stamps = pc.cast(table["timestamp"], "int64").to_numpy() - int(begin.timestamp()) * ow.US
    assert stamps.min() >= 0
    assert stamps.max() < SMALL["days"] * ow.DAY_US
    o_s, o_e = int(OUTAGE[0] * 3600 * ow.US), int(sum(OUTAGE) * 3600 * ow.US)
    assert not np.any((stamps >= o_s) & (stamps < o_e))
    assert truth["outages"][0]["start"] == (begin + dt.timedelta(hours=30)).isoformat()
    # bots retry during the outage: a burst in the first 5 minutes after it
    after = np.sum((stamps >= o_e) & (stamps < o_e + 300 * ow.US))
    before = np.sum((stamps >= o_s - 3600 * ow.US) & (stamps < o_s)) / 12
    assert after > 2 * before


def test_forced_reconnect_addresses_never_held_longer_than_24h() -> None:
    world = ow.make_world("dsl-europe", seed=2, **SMALL)
    sim, rows = _hidden(world)
    forced = sim.line_kind[sim.lease_line] == ow.K["forced"]
    overlapping = forced & (sim.lease_end > 0) & (sim.lease_start < sim.window_us)
    assert overlapping.sum() > 100
    assert np.all(sim.lease_end[overlapping] - sim.lease_start[overlapping] <= ow.DAY_US)
    # and in the rows: every check-in of a forced line comes from the lease it held then
    line = sim.m_line[rows["machine"]]
    on_forced = sim.line_kind[line] == ow.K["forced"]
    assert on_forced.sum() > 1000
    order = np.lexsort((sim.lease_start, sim.lease_line))
    l_line, l_start = sim.lease_line[order], sim.lease_start[order]
    l_end, l_addr = sim.lease_end[order], sim.lease_addr[order]
    t = rows["time_us"][on_forced]
    key = line[on_forced].astype(np.int64) * ow.SPAN + (t - sim.h0)
    pos = np.searchsorted(l_line.astype(np.int64) * ow.SPAN + (l_start - sim.h0), key, "right") - 1
    assert np.all(l_line[pos] == line[on_forced])
    assert np.all((l_start[pos] <= t) & (t < l_end[pos]))
    assert np.all(l_addr[pos] == rows["addr"][on_forced])
    assert np.all(l_end[pos] - l_start[pos] <= ow.DAY_US)
    # a line seen on line for over a day has changed address
    first = np.full(line.max() + 1, np.iinfo(np.int64).max)
    last = np.full(line.max() + 1, -1)
    np.minimum.at(first, line[on_forced], t)
    np.maximum.at(last, line[on_forced], t)
    pairs = np.unique(line[on_forced].astype(np.int64) << 32 | rows["addr"][on_forced])
    addresses = np.bincount((pairs >> 32).astype(np.int64), minlength=line.max() + 1)
    long_seen = last - first > ow.DAY_US
    assert long_seen.any()
    assert np.all(addresses[long_seen] >= 2)
    # the ISP's addresses pass to other lines over time
    pairs = np.unique(rows["addr"][on_forced].astype(np.int64) << 32 | line[on_forced])
    _, holders = np.unique(pairs >> 32, return_counts=True)
    assert holders.max() >= 2


def test_dynamic_addresses_are_never_held_by_two_lines_at_once() -> None:
    sim, _ = _hidden(ow.make_world("mixed-global", seed=5, **SMALL))
    order = np.lexsort((sim.lease_start, sim.lease_addr))
    addr, start, end = sim.lease_addr[order], sim.lease_start[order], sim.lease_end[order]
    same = addr[1:] == addr[:-1]
    assert not np.any(same & (start[1:] < end[:-1]))
    assert np.any(same & (sim.lease_line[order][1:] != sim.lease_line[order][:-1]))


def test_office_nat_addresses_host_several_machines() -> None:
    world = ow.make_world("mixed-global", seed=6, **SMALL)
    sim, rows = _hidden(world)
    line = sim.m_line[rows["machine"]]
    office = sim.line_kind[line] == ow.K["office"]
    assert office.any()
    machines_per_addr = {}
    for a, m, ln in zip(
        rows["addr"][office].tolist(),
        rows["machine"][office].tolist(),
        line[office].tolist(),
        strict=True,
    ):
        machines_per_addr.setdefault(a, (set(), set()))
        machines_per_addr[a][0].add(m)
        machines_per_addr[a][1].add(ln)
    assert all(len(lines) == 1 for _, lines in machines_per_addr.values())  # static: one line
    assert max(len(ms) for ms, _ in machines_per_addr.values()) >= 3
    # office machines check in mostly in local working hours on weekdays
    t = rows["time_us"][office]
    local = t / 3.6e9 + sim.m_zone[rows["machine"][office]]
    office_class = sim.m_class[rows["machine"][office]] == ow.C["office"]
    hour = local[office_class] % 24
    assert np.mean((hour >= 6) & (hour < 21)) > 0.95


def test_cgnat_pools_are_shared_and_ports_stay_in_blocks() -> None:
    world = ow.make_world("mobile-cgnat", seed=7, **SMALL)
    sim, rows = _hidden(world)
    kind = sim.line_kind[sim.m_line[rows["machine"]]]
    cg = kind == ow.K["cgnat"]
    hour = rows["time_us"][cg] // (3600 * ow.US)
    cells = np.unique(np.stack([rows["addr"][cg], hour, rows["machine"][cg]]), axis=1)
    _, at_once = np.unique(cells[:2], axis=1, return_counts=True)
    assert at_once.max() >= 3  # several subscribers behind one address in one hour
    assert np.all(rows["port"][cg] >= 1024)
    assert np.all((rows["port"][~cg] >= 1024) & (rows["port"][~cg] <= 65535))


@pytest.mark.parametrize("profile", sorted(ow.PROFILES))
def test_every_profile_makes_a_store(tmp_path: Path, profile: str) -> None:
    truth = ow.generate(tmp_path / "s", profile, machines=300, days=2, seed=1)
    assert truth["profile"] == profile
    assert truth["events"] == store.count(tmp_path / "s") > 0
    assert truth["unique_ips"] > 0 and truth["machines"] > 0
    assert truth["checkins"] <= truth["events"]


def test_explicit_world_and_bad_overrides(tmp_path: Path) -> None:
    isp = {"name": "lab-dsl", "share": 1.0, "zones": [[1.0, 1.0]], "lines": [["forced", 1.0]]}
    world = ow.World(isps=(isp,), machines=200, days=2, seed=9)
    truth = ow.generate_world(tmp_path / "w", world)
    assert truth["per_isp"]["lab-dsl"]["machines"] == truth["machines"] > 0
    with pytest.raises(TypeError):
        ow.make_world("mixed-global", machines=10, bogus=1)
    with pytest.raises(ValueError, match="profile"):
        ow.make_world("no-such-profile")
    tuned = ow.make_world("dsl-europe", isp_overrides={"de-dsl": {"pool_factor": 3}})
    assert next(i for i in tuned.isps if i.name == "de-dsl").pool_factor == 3


def test_cli_prints_the_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ow.main(
        [
            str(tmp_path / "cli"),
            "--profile",
            "mobile-cgnat",
            "--machines",
            "200",
            "--days",
            "2",
            "--seed",
            "4",
        ]
    )
    truth = json.loads(capsys.readouterr().out)
    assert truth["profile"] == "mobile-cgnat" and truth["seed"] == 4
    assert truth["events"] == store.count(tmp_path / "cli")
