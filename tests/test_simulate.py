"""Simulated bots against seizures: closed routes stay closed, gaps show up."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from sinkhole import families, operation, plan, simulate
from sinkhole.exceptions import PlanError

OP = """\
[operation]
name = "lab"
start = 2026-12-01
hold_days = 5
clock_skew_days = 0

[[targets]]
family = "megad-sim"
static_ips = ["198.51.100.7"]
"""


def test_full_plan_closes_every_route() -> None:
    op = operation.loads(OP)
    [outcome] = simulate.run(op, simulate.Seized.from_plan(plan.compute(op)))
    assert outcome.open_days == {}
    assert outcome.closed_days == 5


def test_missing_dga_day_and_resolver_are_reported() -> None:
    op = operation.loads(OP)
    p = plan.compute(op)
    seized = simulate.Seized.from_plan(p)
    dga = families.get("megad-sim").dga
    assert dga is not None
    dropped = dga.generate(dt.date(2026, 12, 3))[4]
    del seized.domains[dropped]
    seized.addresses.discard("198.51.100.53")
    seized.addresses.discard("198.51.100.7")  # an analyst-added address is walked too
    [outcome] = simulate.run(op, seized)
    assert outcome.open_days["dga"] == [dt.date(2026, 12, 3)]
    assert outcome.missed["dga"] == {dropped}
    assert len(outcome.open_days["dns-servers"]) == 5
    assert outcome.missed["static-ips"] == {"198.51.100.7"}
    assert outcome.closed_days == 0


def test_p2p_is_always_open(p2p_family: str) -> None:
    op = operation.loads(
        OP.replace("megad-sim", p2p_family).replace('static_ips = ["198.51.100.7"]', "")
    )
    [outcome] = simulate.run(op, simulate.Seized.from_plan(plan.compute(op)))
    assert len(outcome.open_days["p2p"]) == 5
    assert set(outcome.open_days) == {"p2p"}


def test_edited_plan_files_are_read(tmp_path: Path) -> None:
    op = operation.loads(OP)
    plan.write(plan.compute(op), tmp_path)
    text = (tmp_path / "domains.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    refused = next(r["domain"] for r in rows if r["channels"] == "static-domains")
    kept = [r for r in rows if r["domain"] != refused]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    (tmp_path / "domains.csv").write_text(buffer.getvalue())
    [outcome] = simulate.run(op, simulate.Seized.from_files(tmp_path))
    assert outcome.missed == {"static-domains": {refused}}


def test_malformed_plan_files(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the plan"):
        simulate.Seized.from_files(tmp_path)
    (tmp_path / "domains.csv").write_text("domain,first_day,last_day\nx.test,someday,2026-01-01\n")
    (tmp_path / "addresses.csv").write_text("ip\n")
    with pytest.raises(PlanError, match="malformed"):
        simulate.Seized.from_files(tmp_path)


def test_packaged_demo_operation_matches_example() -> None:
    root = Path(__file__).parent.parent
    packaged = root / "src" / "sinkhole" / "data" / "megad-sim.toml"
    assert packaged.read_text() == (root / "examples" / "megad-sim.toml").read_text()
