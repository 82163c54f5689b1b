"""`sinkhole verify` and `simulate --timeline` with bad input: one line, exit code 2."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sinkhole import operation, plan
from sinkhole.cli import app

runner = CliRunner()
OP = """\
[operation]
name = "cli verify"
start = 2026-12-01
hold_days = 3

[[targets]]
family = "megad-sim"
dga_params = { count = 2 }
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli-verify")
    op = folder / "op.toml"
    op.write_text(OP)
    plan.write(plan.compute(operation.load(op)), folder / "plan")
    return op, folder / "plan"


def _is_address(text: str) -> bool:
    try:
        _host, port = operation.parse_address(text, default_port=53)
    except ValueError:
        return False
    return port != 0  # port 0 is refused by verify: a case to keep


def _one_line(args: list[str], cwd: Path) -> None:
    with contextlib.chdir(cwd):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (args, result.exit_code, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("sinkhole: error: "), (args, result.stderr)


PROPERTY = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
BAD_RESOLVERS = ["", "resolver.example", "127.0.0.1:99999", "[::1", "1.2.3.4:x", "127.0.0.1:0"]


@PROPERTY
@given(
    resolver=st.sampled_from(BAD_RESOLVERS) | st.text(max_size=30).filter(lambda t: ":" not in t)
)
def test_verify_bad_resolvers(lab: tuple[Path, Path], tmp_path: Path, resolver: str) -> None:
    op, plan_dir = lab
    # a drawn text that happens to be an address would be asked: only loopback may be
    assume(not _is_address(resolver))
    _one_line(["verify", str(op), "--plan", str(plan_dir), "--resolver", resolver], tmp_path)


@PROPERTY
@given(
    day=st.sampled_from(["2026-11-30", "2026-12-04", "yesterday", "2026-13-01", ""]),
    rate=st.sampled_from(["200", "0", "-1", "nan", "x"]),
)
def test_verify_bad_day_rate_and_plan(
    lab: tuple[Path, Path], tmp_path: Path, day: str, rate: str
) -> None:
    op, plan_dir = lab
    args = ["verify", str(op), "--plan", str(plan_dir), "--resolver", "127.0.0.1:9"]
    _one_line([*args, "--day", day, "--rate", rate], tmp_path)
    _one_line(["verify", str(op), "--plan", str(tmp_path / "none"), "--resolver", "127.0.0.1:9"],
              tmp_path)  # fmt: skip


KEYS = ["day", "action", "tld", "address", "network", "note", "days", "machines", "seed", "x"]
VALUES = ['0', '-1', '99', '2026-12-02', '"seize"', '"take-down"', '"rpz"', '"hold-ends"',
          '"jump"', '"test"', '"com"', '"192.0.2.53"', '"10.0.0.1"', '"AS64496"', '"AS1"',
          '[1, 2]', '{ a = 1 }', 'true', '"x"']  # fmt: skip


@PROPERTY
@given(
    steps=st.lists(
        st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=5), max_size=4
    ),
    header=st.sampled_from(["", "[timeline]\ndays = 0\n", "[timeline]\nweeks = 1\n", "[[step]\n"]),
)
def test_simulate_bad_timelines(
    lab: tuple[Path, Path], tmp_path: Path, steps: list[dict[str, str]], header: str
) -> None:
    op, plan_dir = lab
    text = header + "".join(
        "[[step]]\n" + "".join(f"{k} = {v}\n" for k, v in step.items()) for step in steps
    )
    path = tmp_path / "rollout.toml"
    path.write_text(text)
    with contextlib.chdir(tmp_path):
        result = runner.invoke(
            app, ["simulate", str(op), "--plan", str(plan_dir), "--timeline", str(path)],
            env={"COLUMNS": "200"},
        )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code in (0, 1):  # a valid timeline after all
        assert "fully contained" in result.stdout or "never fully contained" in result.stdout
        return
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, (text, result.stderr)
    assert lines[0].startswith(f"sinkhole: error: {path}"), (text, result.stderr)
