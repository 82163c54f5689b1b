"""Names no registry can seize: findings, kept out of the registries' files, open routes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sinkhole import operation, plan, simulate, tlds
from sinkhole.exceptions import OperationError

NECURS = """\
[operation]
name = "necurs"
start = 2015-08-28
hold_days = 2
clock_skew_days = 0

[registries]
not_cooperating = [".RU"]

[[targets]]
family = "necurs"
static_domains = ["qcmbartuop.bit"]
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_alternative_roots_and_uncooperative_registries() -> None:
    op = operation.loads(NECURS)
    assert op.registries.not_cooperating == ("ru",)
    assert "Namecoin" in (tlds.why_unseizable("bit", op) or "")
    assert "RFC 7686" in (tlds.why_unseizable("onion", op) or "")
    assert "OpenNIC" in (tlds.why_unseizable("geek", op) or "")
    assert "does not cooperate" in (tlds.why_unseizable("ru", op) or "")
    assert tlds.why_unseizable("com", op) is None
    assert tlds.unseizable_tlds(op, {"com", "bit", "ru"}) == {
        "bit": tlds.ALTERNATIVE_ROOTS["bit"],
        "ru": tlds.why_unseizable("ru", op),
    }


def test_bad_registry_key_names_file_and_key() -> None:
    bad = NECURS.replace('[".RU"]', '["r u"]')
    expected = r"op\.toml:8: registries\.not_cooperating: 'r u' is not a top-level domain"
    with pytest.raises(OperationError, match=expected):
        operation.loads(bad, Path("op.toml"))


def test_plan_flags_them_and_keeps_them_out_of_the_registries(tmp_path: Path) -> None:
    op = operation.loads(NECURS)
    p = plan.compute(op)
    findings = {f.subject: f for f in p.unseizable if f.kind == "tld"}
    assert set(findings) == {".bit", ".ru"}
    bit = [h for h in p.domains.values() if h.tld == "bit"]
    assert len(bit) > 10  # one necurs DGA name in 43 is a .bit name, plus the static host
    assert f"{len(bit)} planned names stay open" in findings[".bit"].detail
    assert "RPZ at cooperating resolvers" in findings[".bit"].detail
    plan.write(p, tmp_path)
    registries = {f.stem for f in (tmp_path / "registries").glob("*.csv")}
    assert "bit" not in registries and "ru" not in registries and "com" in registries
    unseizable = _rows(tmp_path / "unseizable.csv")
    assert {r["tld"] for r in unseizable} == {"bit", "ru"}
    assert {r["domain"] for r in unseizable if r["tld"] == "bit"} == {h.domain for h in bit}
    assert all(r["reason"] for r in unseizable)
    # every planned name is still in domains.csv and rpz.zone: RPZ is the way to close them
    assert "qcmbartuop.bit\t" in (tmp_path / "rpz.zone").read_text()
    kinds = {r["subject"]: r["kind"] for r in _rows(tmp_path / "findings.csv")}
    assert kinds[".bit"] == "tld" and kinds[".ru"] == "tld"


def test_simulate_counts_them_open_even_when_the_plan_lists_them(tmp_path: Path) -> None:
    op = operation.loads(NECURS)
    p = plan.compute(op)
    plan.write(p, tmp_path)
    [outcome] = simulate.run(op, simulate.Seized.from_files(tmp_path))
    assert "qcmbartuop.bit" in outcome.missed["static-domains"]
    assert {n.rpartition(".")[2] for n in outcome.missed["dga"]} == {"bit", "ru"}
    assert outcome.closed_days == 0
