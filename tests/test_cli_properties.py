"""Every command, fed extreme values, answers with one line on stderr and exit code 2.

Dates from 0001-01-01 to 9999-12-31, sizes 0, -1 and 10^9, empty and binary
files, paths nobody can write: a new user's first hour must meet no traceback,
no multi-line usage box, and no long work started on a value that is surely a
typo. Commands run in-process (CliRunner) and every drawn command line is
invalid by construction, so none of them starts real work; a few inputs that may
be valid (a DGA date a time-independent family accepts) only have to end
cleanly: exit 0, or one error line and exit 2.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sinkhole import families
from sinkhole.cli import app

runner = CliRunner()

DATES = ["0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "", "yesterday"]
SIZES = ["0", "-1", "1000000000", "1e9", "nan", "-inf", "x"]
FAMILIES = [f.name for f in families.all_families()]

# nothing listens on port 1 of the loopback: a live emulation that got past its argument
# checks would stop at once, naming the target, instead of sending anything anywhere
GOOD_OP = """\
[operation]
name = "props"
start = 2026-12-01
hold_days = 3

[[targets]]
family = "megad-sim"

[listeners]
dns = ["127.0.0.1:1"]
http = ["127.0.0.1:1"]
"""


@dataclass(frozen=True)
class Files:
    """The files and folders the drawn command lines point at."""

    op: str
    bad_ops: tuple[str, ...]
    inputs: tuple[str, ...]
    unwritable: tuple[str, ...]
    data: str


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    root = tmp_path_factory.mktemp("props")
    op = root / "op.toml"
    op.write_text(GOOD_OP)
    bad = {
        "empty.toml": "",
        "start-0001.toml": GOOD_OP.replace("2026-12-01", "0001-01-01"),
        "start-9999.toml": GOOD_OP.replace("2026-12-01", "9999-12-31"),
        "end-9999.toml": GOOD_OP.replace("2026-12-01", "9999-12-20").replace("= 3", "= 30"),
        "hold-0.toml": GOOD_OP.replace("hold_days = 3", "hold_days = 0"),
        "hold-huge.toml": GOOD_OP.replace("hold_days = 3", "hold_days = 1000000000"),
        "hold-neg.toml": GOOD_OP.replace("hold_days = 3", "hold_days = -1"),
        "seed-float.toml": GOOD_OP.replace('"megad-sim"', '"megad-sim"\ndga_params = {seed = 1.5}'),
        "family.toml": GOOD_OP.replace('"megad-sim"', '"nope"'),
    }
    bad_ops = []
    for name, text in bad.items():
        (root / name).write_text(text)
        bad_ops.append(str(root / name))
    binary = root / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    empty = root / "empty.txt"
    empty.write_text("")
    blocker = root / "a-file"
    blocker.write_text("x")
    folder = root / "a-folder"
    folder.mkdir()
    data = root / "store"  # an empty store folder
    data.mkdir()
    yield Files(
        op=str(op),
        bad_ops=(*bad_ops, str(binary), str(root / "missing.toml"), str(folder)),
        inputs=(str(empty), str(binary), str(root / "missing.txt"), str(folder)),
        unwritable=(
            "/proc/sinkhole-props/out",
            str(blocker / "sub" / "out"),
            "/proc/version/x.json",
        ),
        data=str(data),
    )


def _invoke(args: list[str], xdg: Path) -> tuple[int, str, str]:
    # in a scratch folder: a default output (truth.json) must never land in the checkout
    scratch = xdg.parent / "cwd"
    scratch.mkdir(exist_ok=True)
    with contextlib.chdir(scratch):
        result = runner.invoke(app, args, env={"XDG_DATA_HOME": str(xdg), "COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: uncaught {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def _assert_one_line(args: list[str], code: int, stderr: str) -> None:
    assert "Traceback" not in stderr, (args, stderr)
    lines = stderr.strip().splitlines()
    assert code == 2, (args, code, stderr)
    assert len(lines) == 1, (args, stderr)
    assert lines[0].startswith("sinkhole: error: "), (args, stderr)


def _check(args: list[str], files: Files, must_fail: bool = True) -> None:
    code, _stdout, stderr = _invoke(args, Path(files.data).parent / "xdg")
    if must_fail or code != 0:
        _assert_one_line(args, code, stderr)


# no shrinking: the drawn lines are short already, and replaying a failure must stay quick
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _option(flag: str, values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.sampled_from(values).map(lambda value: [f"{flag}={value}"])


@st.composite
def _bad_line(
    draw: st.DrawFn,
    head: st.SearchStrategy[list[str]],
    good: list[st.SearchStrategy[list[str]]],
    bad: list[st.SearchStrategy[list[str]]],
) -> list[str]:
    """HEAD, at least one bad option, and any of the good ones, shuffled."""
    chosen = draw(st.lists(st.sampled_from(bad), min_size=1, max_size=len(bad), unique_by=id))
    extra = draw(st.lists(st.sampled_from(good), max_size=len(good), unique_by=id)) if good else []
    parts = [draw(s) for s in chosen + extra]
    parts = draw(st.permutations(parts))
    return [*draw(head), *(item for part in parts for item in part)]


def _op(files: Files, bad: bool) -> st.SearchStrategy[str]:
    return st.sampled_from(files.bad_ops) if bad else st.just(files.op)


@PROPERTY
@given(data=st.data())
def test_plan(files: Files, data: st.DataObject) -> None:
    op_bad = data.draw(st.booleans())
    head = _op(files, op_bad).map(lambda op: ["plan", op])
    bad = [
        _option("--out", list(files.unwritable)),
        _option("--zone-layout", ["", "nope", "x" * 1000]),
        _option("--benign", [files.inputs[2], files.inputs[3]]),
    ]
    good = [_option("--benign", [files.inputs[0], files.inputs[1]]), st.just(["--json"])]
    args = data.draw(_bad_line(head, good, bad))
    _check(args, files)


@PROPERTY
@given(data=st.data())
def test_simulate(files: Files, data: st.DataObject) -> None:
    op_bad = data.draw(st.booleans())
    head = _op(files, op_bad).map(lambda op: ["simulate", op])
    bad = [_option("--plan", [*files.inputs, files.data])]
    args = data.draw(_bad_line(head, [st.just(["--json"])], bad))
    _check(args, files)


@PROPERTY
@given(data=st.data())
def test_emulate(files: Files, data: st.DataObject) -> None:
    head = _op(files, data.draw(st.booleans())).map(lambda op: ["emulate", op])
    bad = [
        _option("--machines", SIZES),
        _option("--days", SIZES),
        _option("--interval-minutes", SIZES),
        _option("--duration", SIZES),
        _option("--truth", list(files.unwritable)),
        _option("--target", ["dns=192.0.2.1:53", "http=127.0.0.1:0", "x", "dns=[::1]:99999"]),
        _option(
            "--set",
            [
                "nope=1",
                "day_off",
                "day_off=x",
                "day_off=2",
                "requests_per_checkin=1.5",
                "jitter=nan",
                "outage_hours=1e9",
                "tz_spread_hours=-1",
                "evening_share=inf",
            ],
        ),
    ]
    # every bad option above is refused before any work, with or without --offline
    args = data.draw(_bad_line(head, [st.just(["--offline"]), st.just(["--seed", "-1"])], bad))
    _check(args, files)
    # ... so nothing is left behind: no empty default store (later tests expect none)
    assert not (Path(files.data).parent / "xdg" / "sinkhole" / "props").exists(), args


@PROPERTY
@given(data=st.data())
def test_serve(files: Files, data: st.DataObject) -> None:
    head = _op(files, data.draw(st.booleans())).map(lambda op: ["serve", op])
    bad = [
        _option("--duration", ["0", "-5", "nan", "inf", "1e12", "x"]),
        _option("--workers", ["-1", "257", "1000000000", "x"]),
        _option("--dns", ["127.0.0.1:99999", "localhost:53", "", "::1"]),
        _option("--http", ["127.0.0.1:-1", "999.0.0.1:80"]),
    ]
    args = data.draw(_bad_line(head, [_option("--data", list(files.unwritable))], bad))
    _check(args, files)


@PROPERTY
@given(data=st.data())
def test_population(files: Files, data: st.DataObject) -> None:
    head = _op(files, data.draw(st.booleans())).map(lambda op: ["population", op])
    bad = [
        _option("--engine", ["", "sqlite", "x" * 500]),
        _option("--charts", list(files.unwritable)),
        _option("--ips", list(files.unwritable)),
        _option("--data", [*files.inputs, files.data]),
    ]
    args = data.draw(_bad_line(head, [st.just(["--json"])], bad))
    _check(args, files)


@PROPERTY
@given(data=st.data())
def test_events_and_stats(files: Files, data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(["events", "stats"]))
    head = _op(files, data.draw(st.booleans())).map(lambda op: [command, op])
    if command == "events":
        bad = [
            _option("--since", DATES),
            _option("--until", DATES),
            _option("--limit", SIZES),
            _option("--format", ["", "xml"]),
            _option("--out", list(files.unwritable)),
            _option("--data", [*files.inputs[:2]]),
        ]
    else:
        bad = [_option("--interval", SIZES), _option("--data", [*files.inputs[:2]])]
    args = data.draw(_bad_line(head, [], bad))
    _check(args, files)


@PROPERTY
@given(data=st.data())
def test_demo(files: Files, data: st.DataObject) -> None:
    bad = [
        _option("--machines", SIZES),
        _option("--live-machines", SIZES),
        _option("--live-seconds", SIZES),
        _option("--dir", list(files.unwritable)),
    ]
    args = data.draw(_bad_line(st.just(["demo"]), [], bad))
    _check(args, files)


@PROPERTY
@given(data=st.data())
def test_dga_generate(files: Files, data: st.DataObject) -> None:
    family = data.draw(st.sampled_from([*FAMILIES, "nope", ""]))
    date = data.draw(st.sampled_from(DATES))
    days = data.draw(st.sampled_from(["1", *SIZES]))
    param = data.draw(st.sampled_from([[], ["--param", "seed=1.5"], ["--param", "count=-1"],
                                       ["--param", "count=1000000000"], ["--param", "="]]))  # fmt: skip
    args = ["dga", family, "--date", date, "--days", days, *param]
    # a time-independent family may accept any date: then it must just print and exit 0
    _check(args, files, must_fail=days != "1" or family in ("nope", "") or date in DATES[2:])


def test_dga_lookup_far_window_ends_cleanly(files: Files) -> None:
    # (a window around 9999-12-31 is left out: today it builds an index for minutes)
    _check(["dga", "lookup", "x.example", "--around", "0001-01-01"], files, must_fail=False)


@PROPERTY
@given(data=st.data())
def test_dga_lookup(files: Files, data: st.DataObject) -> None:
    bad = [
        _option("--around", DATES[2:]),
        _option("--years", SIZES),
        _option("--family", ["nope", ""]),
        _option("--file", files.inputs[2:]),
        _option("--operation", list(files.bad_ops)),
    ]
    args = data.draw(_bad_line(st.just(["dga", "lookup", "x.example"]), [], bad))
    _check(args, files)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["nosuch"],
        ["--bogus"],
        ["plan"],
        ["plan", "a", "b"],
        ["families", "--jsn"],
        ["emulate"],
        ["serve", "--duration"],
        ["dga"],
        ["dga", "necurs"],
    ],
)
def test_usage_errors_are_one_line(files: Files, args: list[str]) -> None:
    code, stdout, stderr = _invoke(args, Path(files.data).parent / "xdg")
    assert code == 2
    if args in ([], ["dga"]):
        assert "Usage:" in stdout + stderr  # a bare group prints its help
        return
    _assert_one_line(args, code, stderr)
    assert stdout == ""


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("sinkhole ") and result.stdout.count("\n") == 1
    version = result.stdout.split()[1]
    assert all(part.isdigit() for part in version.split(".")[:3]), version
