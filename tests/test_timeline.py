"""A takedown over time: containment, escape routes, recapture, bad timeline files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sinkhole import emulate, operation, plan, timeline
from sinkhole.timeline import Held, TimelineError

OP = """\
[operation]
name = "lab"
start = 2026-12-01
hold_days = 10
clock_skew_days = 0

[[targets]]
family = "megad-sim"
static_domains = ["mailer-megad-sim.example"]
dns_servers = ["192.0.2.54"]
"""
RESOLVERS = ("192.0.2.53", "198.51.100.53", "203.0.113.53", "192.0.2.54")


def _step(day: int, action: str, **subject: str) -> str:
    lines = [f"[[step]]\nday = {day}\naction = {json.dumps(action)}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in subject.items()]
    return "\n".join(lines) + "\n"


def complete(skip: str = "", days: int = 10, machines: int = 20_000) -> str:
    """Every registry and resolver acting on day 0, but `skip`."""
    steps = [f"[timeline]\ndays = {days}\nmachines = {machines}\n"]
    steps += [_step(0, "seize", tld=t) for t in ("example", "test") if t != skip]
    steps += [_step(0, "take-down", address=ip) for ip in RESOLVERS if ip != skip]
    return "\n".join(steps)


def _run(text: str, op_text: str = OP) -> timeline.Result:
    op = operation.loads(op_text)
    held = Held.from_plan(plan.compute(op))
    [result] = timeline.run(op, held, timeline.loads(text, op, held))
    return result


def test_a_complete_plan_contains_every_machine_from_day_0() -> None:
    result = _run(complete())
    assert result.first_contained == 0
    assert all(d.reached == 0 and not d.routes for d in result.days)
    assert result.days[0].machines == 20_000
    assert result.open_at_end == []


@pytest.mark.parametrize("missing", ["example", "test", *RESOLVERS])
def test_leaving_out_one_registry_or_resolver_is_an_escape_route_naming_it(missing: str) -> None:
    result = _run(complete(skip=missing))
    assert result.first_contained is None
    [day] = result.days[-1:]
    assert day.reached > 0.9 * day.machines  # the bots find the one route left within a day
    acts = {r.act for r in result.open_at_end}
    subjects = {r.subject for r in result.open_at_end}
    if missing in RESOLVERS:
        assert subjects == {missing}
        assert {r.channel for r in result.open_at_end} == {"dns-servers"}
        assert day.per_channel == {"dns-servers": day.reached}
    else:
        assert acts == {f"registry of .{missing}"}
        assert all("never seizes" in r.reason for r in result.open_at_end)
        # the exact names: its static domains, and the DGA's names under it that day
        dga = next(r for r in result.open_at_end if r.channel == "dga")
        assert dga.names and all(n.endswith(f".{missing}") for n in dga.names)


def test_a_hold_shorter_than_the_window_shows_recapture() -> None:
    text = complete(days=14) + _step(6, "hold-ends", tld="example")
    result = _run(text)
    assert result.first_contained == 0
    shares = [d.share for d in result.days]
    assert shares[:6] == [0.0] * 6
    assert all(s > 0.9 for s in shares[6:])
    [(day, routes)] = result.reopened()
    assert day == 6
    assert {r.reason for r in routes} == {"hold ended on day 6"}
    # after the window (10 days) the names were never planned: still open, for another reason
    assert {r.act for r in result.days[12].routes} == {"the plan"}


def test_rpz_closes_names_for_its_network_only() -> None:
    text = complete(skip="test") + _step(0, "rpz", network="AS64496")
    result = _run(text)
    day = result.days[-1]
    pop = emulate.Population.build(emulate.Settings(machines=20_000, days=10))
    rpz_share = float(np.mean(pop.isp == 0))  # AS64496 is the first lab ISP
    assert day.reached == pytest.approx((1 - rpz_share) * day.machines, rel=0.01)
    assert all(r.networks == [p.asn for p in emulate.LAB_PROFILES][1:] for r in day.routes)


UNSEIZABLE = OP.replace(
    'static_domains = ["mailer-megad-sim.example"]',
    'static_domains = ["mailer-megad-sim.example", "relay-lab.bit", "relay-lab.ru"]',
).replace("[[targets]]", '[registries]\nnot_cooperating = ["ru"]\n\n[[targets]]')


def test_unseizable_names_are_always_open_routes() -> None:
    result = _run(complete())
    assert result.open_at_end == []
    result = _run(complete(), UNSEIZABLE)
    for day in result.days:
        assert {r.subject for r in day.routes} == {"relay-lab.bit", "relay-lab.ru"}
    reasons = {r.subject: r.reason for r in result.open_at_end}
    assert "Namecoin" in reasons["relay-lab.bit"]
    assert "does not cooperate" in reasons["relay-lab.ru"]
    # RPZ at every network closes them: the plan's alternative
    rpz = "".join(_step(0, "rpz", network=f"AS{p.asn}") for p in emulate.LAB_PROFILES)
    assert _run(complete() + rpz, UNSEIZABLE).first_contained == 0


def test_seizing_an_unseizable_tld_is_refused() -> None:
    with pytest.raises(TimelineError, match=r"step\[6\]\.tld: no registry can seize \.bit"):
        _run(complete() + _step(0, "seize", tld="bit"), UNSEIZABLE)


def test_the_walk_is_the_emulators() -> None:
    # one resolver left up: the emulator's contact index and the day-by-day walk must agree,
    # machine by machine, on who has reached it by the end of each day
    op = operation.loads(OP)
    held = Held.from_plan(plan.compute(op))
    tl = timeline.loads(complete(skip="203.0.113.53", days=3, machines=3000), op, held)
    [result] = timeline.run(op, held, tl)
    contacts = timeline.chain(op, "megad-sim")
    emulated = [replace(c, seized=c.resolver != "203.0.113.53") for c in contacts]
    stop = next(i for i, c in enumerate(emulated) if not c.seized)
    pop = emulate.Population.build(emulate.Settings(machines=3000, days=3.0))
    who, when = emulate._schedule(pop, 0, pop.machines, 3 * 86400.0)
    on = pop.online(who, when, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    who, when = who[on], when[on]
    index = emulate._contact_index(emulate._running_index(who), emulated)
    reached = []
    for day in range(3):
        today = np.flatnonzero((when // 86400).astype(np.int64) == day)
        last = today[np.r_[who[today][1:] != who[today][:-1], True]]  # each machine's last
        reached.append(int((index[last] == stop).sum()))
    assert [d.per_channel.get("dns-servers", 0) for d in result.days] == reached
    assert reached[-1] > 0


@pytest.mark.parametrize(
    "behaviours",
    [{}, {"new_share": 0.3, "cleanup_per_day": 0.2, "tz_spread_hours": 3, "evening_share": 0.3}],
)
def test_check_ins_are_counted_as_the_emulator_draws_them(behaviours: dict[str, float]) -> None:
    settings = emulate.Settings(machines=2000, days=4.0, seed=5, **behaviours)  # type: ignore[arg-type]
    pop = emulate.Population.build(settings)
    who, when = emulate._schedule(pop, 0, pop.machines, settings.days * 86400)
    on = pop.online(who, when, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    who, when = who[on], when[on]
    rhythm = timeline._Rhythm(pop)
    for day in range(4):
        today = (when // 86400).astype(np.int64) == day
        expected = np.bincount(who[today], minlength=pop.machines)
        assert np.array_equal(rhythm.checkins(day), expected)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (_step(0, "sieze", tld="test"), r"t\.toml:3: step\[0\]\.action: Input should be 'seize'"),
        (_step(10, "seize", tld="test"), r"t\.toml:2: step\[0\]\.day: day 10 is outside .* 0-9"),
        ("[timeline]\ndays = 3\n" + _step(3, "rpz", network="AS64496"), r"day 3 is outside"),
        (_step(0, "seize", tld="com"), r"step\[0\]\.tld: unknown TLD \.com: the plan has no"),
        (_step(0, "take-down", address="10.0.0.1"), r"10\.0\.0\.1 is not an address of the plan"),
        (_step(0, "rpz", network="AS1"), r"step\[0\]\.network: unknown network 'AS1'"),
        (_step(0, "seize", address="192.0.2.53"), r'step\[0\]: action "seize" takes `tld`'),
        ("[timeline]\nweeks = 2\n", r"t\.toml:2: timeline\.weeks: unknown key"),
        ("[[step]]\nday = 0\n", r"step\[0\]\.action: required key is missing"),
        ("[[step]\n", r"t\.toml: malformed TOML"),
        ("[[step]]\nday = true\naction = 'rpz'\nnetwork = 64496\n", r"t\.toml:2: step\[0\]\.day"),
    ],
)
def test_bad_timelines_are_one_line_naming_file_and_key(text: str, error: str) -> None:
    op = operation.loads(OP)
    held = Held.from_plan(plan.compute(op))
    with pytest.raises(TimelineError, match=error) as caught:
        timeline.loads(text, op, held, Path("t.toml"))
    assert "\n" not in caught.value.message


def test_a_timeline_past_the_dgas_dates_is_one_line_naming_file_and_key() -> None:
    # pushdo generates up to 2099-12-31: 90 days from 2099-11-01 run past it
    op = operation.loads(OP.replace("2026-12-01", "2099-11-01").replace("megad-sim", "pushdo"))
    text = "[timeline]\ndays = 90\n"
    with pytest.raises(
        TimelineError, match=r"t\.toml:2: timeline\.days: pushdo generates"
    ) as caught:
        timeline.loads(text, op, Held({}, {}), Path("t.toml"))
    assert "\n" not in caught.value.message


def test_a_step_may_name_its_day_as_a_date() -> None:
    op = operation.loads(OP)
    held = Held.from_plan(plan.compute(op))
    text = "[[step]]\nday = 2026-12-04\naction = 'seize'\ntld = 'test'\n"
    assert timeline.loads(text, op, held).seize == {"test": 3}


def test_cli_table_json_chart_and_exit_codes(tmp_path: Path) -> None:
    op = tmp_path / "op.toml"
    op.write_text(OP)
    sinkhole = [sys.executable, "-m", "sinkhole"]
    subprocess.run([*sinkhole, "plan", str(op), "--out", str(tmp_path / "plan")], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    good, leaky = tmp_path / "good.toml", tmp_path / "leaky.toml"
    good.write_text(complete(machines=5000))
    leaky.write_text(complete(skip="198.51.100.53", machines=5000))
    base = [*sinkhole, "simulate", str(op), "--plan", str(tmp_path / "plan"), "--timeline"]
    done = subprocess.run([*base, str(good)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "fully contained from day 0" in done.stdout
    charts = tmp_path / "charts"
    done = subprocess.run([*base, str(leaky), "--json", "--chart", str(charts)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1, done.stderr
    [family] = json.loads(done.stdout)["families"]
    assert family["first_contained_day"] is None
    assert [r["subject"] for r in family["open_at_end"]] == ["198.51.100.53"]
    assert family["per_day"][-1]["per_channel"]["dns-servers"] == family["per_day"][-1]["reached"]
    assert (charts / "timeline-megad-sim.png").stat().st_size > 1000
    leaky.write_text(_step(99, "seize", tld="test"))
    done = subprocess.run([*base, str(leaky)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith(f"sinkhole: error: {leaky}:2: step[0].day: day 99 is outside")
    assert done.stderr.count("\n") == 1


def test_p2p_and_static_ips_are_walked(p2p_family: str) -> None:
    op_text = (
        '[operation]\nname = "p2p"\nstart = 2026-12-01\nhold_days = 4\n\n'
        f'[[targets]]\nfamily = "{p2p_family}"\nstatic_ips = ["198.51.100.7"]\n'
    )
    op = operation.loads(op_text)
    assert [c.channel for c in timeline.chain(op, p2p_family)] == [
        "static-domains",
        "p2p",
        "static-ips",
    ]
    text = "[timeline]\nmachines = 2000\n" + _step(0, "seize", tld="example")
    result = _run(text, op_text)
    # the static IP comes after p2p in the chain: every bot stops at the peers first
    for day in result.days:
        assert {r.subject for r in day.routes} == {"peer-to-peer", "198.51.100.7"}
        assert set(day.per_channel) == {"p2p"}
    result = _run(text + _step(1, "take-down", address="198.51.100.7"), op_text)
    assert [r.subject for r in result.open_at_end] == ["peer-to-peer"]
    assert result.first_contained is None  # peer-to-peer is never closed by a seizure


def test_chart_without_timeline_is_one_line(tmp_path: Path) -> None:
    op = tmp_path / "op.toml"
    op.write_text(OP)
    done = subprocess.run([sys.executable, "-m", "sinkhole", "simulate", str(op), "--chart",
                           str(tmp_path / "c")], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "sinkhole: error: --chart draws a timeline: give --timeline FILE too\n"
