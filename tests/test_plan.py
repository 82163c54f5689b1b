"""The takedown plan: what is held, for how long, and what is flagged."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

from sinkhole import families, operation, plan
from sinkhole.exceptions import PlanError

OP = """\
[operation]
name = "lab"
start = 2026-12-01
hold_days = 10
clock_skew_days = {skew}

[sinkhole]
ipv4 = ["127.0.0.1"]
ipv6 = ["::1"]

[[targets]]
family = "megad-sim"
static_domains = ["extra-megad.example"]
dns_servers = ["192.0.2.54"]
static_ips = ["198.51.100.7"]
"""


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _plan(skew: int = 0, extra: str = "") -> plan.Plan:
    return plan.compute(operation.loads(OP.format(skew=skew) + extra))


def test_every_channel_is_covered_every_day() -> None:
    p = _plan()
    dga = families.get("megad-sim").dga
    assert dga is not None
    for offset in range(10):
        day = dt.date(2026, 12, 1) + dt.timedelta(days=offset)
        for name in dga.generate(day):
            held = p.domains[name]
            assert held.first_day <= day <= held.last_day
    for name in families.get("megad-sim").channel("static-domains").domains:  # type: ignore[union-attr]
        assert p.domains[name].days == 10
    assert p.domains["extra-megad.example"].channels == {"static-domains"}
    ips = {a.ip: a for a in p.addresses}
    assert set(ips) == {"192.0.2.53", "198.51.100.53", "203.0.113.53", "192.0.2.54", "198.51.100.7"}
    assert ips["192.0.2.54"].network == "192.0.2.0/24"
    assert ips["198.51.100.7"].channel == "static-ips"
    assert not p.unseizable


def test_dga_domains_are_held_only_on_their_days_without_skew() -> None:
    p = _plan(skew=0)
    dga_domains = [h for h in p.domains.values() if "dga" in h.channels]
    assert len(dga_domains) == 24 * 10
    assert all(h.days == 1 for h in dga_domains)
    assert [n for _, n in p.per_day()] == [5 + 24] * 10


def test_clock_skew_widens_holds_but_not_the_window() -> None:
    p = _plan(skew=1)
    dga = families.get("megad-sim").dga
    assert dga is not None
    # the day before the window: bots a day fast already try them inside it
    early = dga.generate(dt.date(2026, 11, 30))
    assert all(
        p.domains[n].first_day == p.domains[n].last_day == dt.date(2026, 12, 1) for n in early
    )
    middle = p.domains[dga.generate(dt.date(2026, 12, 5))[0]]
    assert (middle.first_day, middle.last_day) == (dt.date(2026, 12, 4), dt.date(2026, 12, 6))
    assert min(h.first_day for h in p.domains.values()) == dt.date(2026, 12, 1)
    assert max(h.last_day for h in p.domains.values()) == dt.date(2026, 12, 10)


def test_weekly_dga_domains_span_their_period() -> None:
    extra = '\n[[targets]]\nfamily = "kraken-v2"\n'
    p = _plan(extra=extra)
    dga = families.get("kraken-v2").dga
    assert dga is not None
    for offset in range(10):
        day = dt.date(2026, 12, 1) + dt.timedelta(days=offset)
        for name in dga.generate(day):
            assert p.domains[name].first_day <= day <= p.domains[name].last_day


def test_p2p_channel_is_flagged_unseizable(p2p_family: str) -> None:
    p = _plan(extra=f'\n[[targets]]\nfamily = "{p2p_family}"\n')
    assert [(f.family, f.kind) for f in p.unseizable] == [(p2p_family, "p2p")]
    assert "p2p-lab-cc.example" in p.domains


def test_gap_when_declared_channel_is_empty() -> None:
    text = OP.format(skew=0).replace('dns_servers = ["192.0.2.54"]\n', "")
    text += "use_family_lists = false\n"
    p = plan.compute(operation.loads(text))
    assert [(g.family, g.subject) for g in p.gaps] == [("megad-sim", "dns-servers")]


def test_benign_collisions_exact_and_parent(tmp_path: Path) -> None:
    p = _plan()
    dga = families.get("megad-sim").dga
    assert dga is not None
    hit = dga.generate(dt.date(2026, 12, 3))[5]
    benign = tmp_path / "top.csv"
    benign.write_text(f"1,google.com\n2,{hit}\n3,www.extra-megad.example\n")
    found = plan.benign_collisions(p.domains, plan.read_domain_list(benign))
    assert {(f.subject, f.detail) for f in found} == {
        (hit, "on the benign list"),
        ("extra-megad.example", "parent of benign www.extra-megad.example"),
    }


def test_collisions_from_operation_file(tmp_path: Path) -> None:
    (tmp_path / "benign.txt").write_text("# comment\nextra-megad.example\n")
    path = tmp_path / "op.toml"
    path.write_text(OP.format(skew=0) + '\n[collisions]\nbenign = ["benign.txt"]\n')
    p = plan.compute(operation.load(path))
    assert [f.subject for f in p.collisions if f.kind == "benign"] == ["extra-megad.example"]


def test_written_files_agree_with_plan(tmp_path: Path) -> None:
    p = _plan(skew=1)
    written = plan.write(p, tmp_path / "out")
    out = tmp_path / "out"
    assert out / "plan.json" in written
    rows = _csv(out / "domains.csv")
    assert len(rows) == len(p.domains)
    assert [r["domain"] for r in rows] == sorted(
        (r["domain"] for r in rows), key=lambda d: (d.rsplit(".", 1)[1], d)
    )
    for row in rows:
        held = p.domains[row["domain"]]
        assert row["first_day"] == held.first_day.isoformat()
        assert int(row["days"]) == held.days
    by_tld = {f.stem: _csv(f) for f in (out / "registries").glob("*.csv")}
    assert set(by_tld) == {"example", "test"}
    assert sum(len(v) for v in by_tld.values()) == len(rows)
    assert all(r["tld"] == tld for tld, v in by_tld.items() for r in v)
    document = json.loads((out / "plan.json").read_text())
    assert document["summary"]["domains"] == len(p.domains)
    assert document["summary"]["per_channel"]["dns-servers"] == 4
    grouped = json.loads((out / "domains.json").read_text())
    assert sum(len(v) for v in grouped["tlds"].values()) == len(rows)
    addresses = _csv(out / "addresses.csv")
    assert {a["ip"] for a in addresses} == {a.ip for a in p.addresses}


def test_unwritable_output_is_a_plan_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(PlanError, match="cannot write the plan to"):
        plan.write(_plan(), blocker / "out")


def test_unreadable_benign_list() -> None:
    with pytest.raises(PlanError, match="cannot read benign domain list"):
        plan.read_domain_list(Path("/nonexistent/benign.txt"))


TORPIG = (
    '[operation]\nname = "t"\nstart = 2026-12-01\nhold_days = 3\n[[targets]]\nfamily = "torpig"\n'
)


def test_a_new_plan_replaces_an_earlier_one_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    plan.write(_plan(), out)
    assert {f.stem for f in (out / "registries").glob("*.csv")} == {"example", "test"}
    (out / "notes.txt").write_text("the analyst's own notes stay")
    written = plan.write(plan.compute(operation.loads(TORPIG)), out)
    registries = {f.stem for f in (out / "registries").glob("*.csv")}
    assert registries == {"com", "net", "biz"}  # no stale .example/.test file handed over
    assert all(path.exists() and out in path.parents for path in written)
    assert (out / "notes.txt").read_text() == "the analyst's own notes stay"
    assert sorted(p.name for p in out.iterdir()) == sorted([*plan.PLAN_ENTRIES, "notes.txt"])
    rows = _csv(out / "domains.csv")
    assert {r["tld"] for r in rows} == registries


def test_a_folder_that_holds_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("keep me")
    with pytest.raises(PlanError, match=r"is not empty \(thesis.tex\) and holds no earlier plan"):
        plan.write(_plan(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("")
    with pytest.raises(PlanError, match="it is a file, not a folder"):
        plan.write(_plan(), tmp_path / "out")


def test_a_swap_cut_short_still_reads_as_a_plan_and_the_next_run_replaces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    plan.write(_plan(), out)
    real = os.replace
    for cut_after in range(1, 2 * len(plan.PLAN_ENTRIES) + 1):
        calls = [0]

        def cut(src: object, dst: object, calls: list[int] = calls, at: int = cut_after) -> None:
            real(src, dst)  # type: ignore[arg-type]
            calls[0] += 1
            if calls[0] == at:  # interrupted right after this rename
                raise KeyboardInterrupt

        monkeypatch.setattr(plan.os, "replace", cut)
        with contextlib.suppress(KeyboardInterrupt):
            plan.write(plan.compute(operation.loads(TORPIG)), out)
        monkeypatch.setattr(plan.os, "replace", real)
        assert (out / "plan.json").exists(), cut_after  # still a plan, never a refused folder
    plan.write(plan.compute(operation.loads(TORPIG)), out)
    assert {f.stem for f in (out / "registries").glob("*.csv")} == {"com", "net", "biz"}
