"""The command line: its contract for scripts, and one clear line for every bad input."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer.core
import typer.main
from typer.testing import CliRunner

from sinkhole import families
from sinkhole.cli import app

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "sinkhole", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_help_shows_the_command_tree() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("families", "dga", "plan"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["families"],
        ["dga", "generate"],
        ["dga", "lookup"],
        ["plan"],
        ["simulate"],
        ["serve"],
        ["events"],
        ["stats"],
        ["emulate"],
        ["population"],
        ["notify"],
        ["demo"],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: sinkhole" in result.output


def test_dga_prints_bare_domains_for_pipes() -> None:
    result = run("dga", "megad-sim", "--date", "2026-12-01", "--days", "2")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    dga = families.get("megad-sim").dga
    assert dga is not None
    import datetime as dt

    expected = dga.generate(dt.date(2026, 12, 1)) + dga.generate(dt.date(2026, 12, 2))
    assert lines == expected
    assert result.stderr == ""


def test_dga_params_and_unique() -> None:
    a = runner.invoke(app, ["dga", "megad-sim", "-d", "2026-12-01", "--param", "count=5"])
    assert a.exit_code == 0, a.output
    assert len(a.stdout.splitlines()) == 5
    b = runner.invoke(
        app, ["dga", "megad-sim", "-d", "2026-12-01", "-p", "count=5", "-p", "seed=x"]
    )
    assert set(a.stdout.split()) & set(b.stdout.split()) == set()


def test_families_json_lists_channels_and_dga() -> None:
    result = runner.invoke(app, ["families", "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["megad-sim"]["channels"] == ["static-domains", "dns-servers", "dga"]
    assert rows["megad-sim"]["dga"]["per_period"] == 24
    assert rows["megad-sim"]["synthetic"] is True


def test_plan_writes_files_and_prints_summary(tmp_path: Path) -> None:
    result = run("plan", str(EXAMPLE), "--out", str(tmp_path / "p"))
    assert result.returncode == 0, result.stderr
    assert "megad-sim lab takedown" in result.stdout
    assert "dns-servers" in result.stdout
    assert (tmp_path / "p" / "domains.csv").exists()
    assert (tmp_path / "p" / "zones" / "nsd.conf").exists()


def test_plan_json_summary(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(tmp_path / "p"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["window"]["days"] == 30
    assert summary["per_channel"]["static-domains"] == 5


def test_plan_benign_flag_reports_collision(tmp_path: Path) -> None:
    benign = tmp_path / "top.csv"
    benign.write_text("1,example.com\n2,update-megad-sim.example\n")
    result = run("plan", str(EXAMPLE), "-o", str(tmp_path / "p"), "--benign", str(benign))
    assert result.returncode == 0, result.stderr
    assert "COLLISIONS" in result.stdout
    assert "update-megad-sim.example" in result.stdout


def _op(tmp_path: Path, text: str) -> str:
    path = tmp_path / "op.toml"
    path.write_text(text)
    return str(path)


WINDOW = '[operation]\nname = "x"\nstart = 2026-12-01\nhold_days = {days}\n[[targets]]\nfamily = "megad-sim"\n'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dga", "nope", "--date", "2026-12-01"], "unknown family 'nope'"),
        (["dga", "megad-sim", "--date", "2026-02-30"], "bad date '2026-02-30'"),
        (["dga", "megad-sim", "--date", "yesterday"], "bad date 'yesterday'"),
        (["dga", "megad-sim", "--date", "2026-12-01", "-p", "seed"], "bad parameter 'seed'"),
        (["dga", "megad-sim", "--date", "2026-12-01", "-p", "count=many"], "count='many' is not an integer"),
        (["dga", "megad-sim", "--date", "2026-12-01", "-p", "colour=red"], "no parameter 'colour'"),
        (["dga", "lookup"], "no domains to look up"),
        (["dga", "lookup", "x.com", "--family", "nope"], "unknown family 'nope'"),
        (["dga", "lookup", "x.com", "--years", "100"], "index window of 100.0 years"),
        (["plan", "/nonexistent/op.toml"], "no such operation file"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sinkhole: error: ")
    assert message in lines[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[operation\nname = 1\n", "malformed TOML"),
        (WINDOW.format(days=0), ":4: operation.hold_days: Input should be greater than or equal to 1"),
        (WINDOW.format(days=36525), ":4: operation.hold_days: Input should be less than or equal to 3660"),
        (WINDOW.replace("megad-sim", "nope").format(days=3), ":6: targets[0].family: unknown family"),
    ],
)  # fmt: skip
def test_bad_operation_file_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    result = run("plan", _op(tmp_path, text), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_unwritable_output_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("plan", str(EXAMPLE), "--out", str(blocker / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot write the plan to" in lines[0]


def test_read_only_output_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores directory permissions; /proc is unwritable for everyone
        target = Path("/proc/sinkhole-plan")
    else:
        target = tmp_path / "ro" / "out"
        (tmp_path / "ro").mkdir(mode=0o500)
    result = run("plan", str(EXAMPLE), "--out", str(target))
    assert result.returncode == 2
    assert "cannot write the plan to" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_simulate_exits_1_when_a_route_stays_open(tmp_path: Path) -> None:
    ok = run("simulate", str(EXAMPLE))
    assert ok.returncode == 0, ok.stderr
    assert "every route closed" in ok.stdout
    assert run("plan", str(EXAMPLE), "-o", str(tmp_path)).returncode == 0
    (tmp_path / "addresses.csv").write_text("network,ip,family,channel,action\n")
    leaky = run("simulate", str(EXAMPLE), "--plan", str(tmp_path), "--json")
    assert leaky.returncode == 1
    [row] = json.loads(leaky.stdout)
    assert len(row["open"]["dns-servers"]) == 30
    assert "192.0.2.54" in row["missed"]["dns-servers"]


def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    result = run("demo", "--dir", str(tmp_path / "demo"), "--machines", "3000",
                 "--live-machines", "200", "--live-seconds", "4")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo" / "plan" / "rpz.zone").exists()
    assert "every route closed on 30 of 30 days" in result.stdout
    assert "escape through dns-servers (30 days), dga (30 days)" in result.stdout
    truth = json.loads((tmp_path / "demo" / "offline-data" / "truth.json").read_text())
    assert truth["population"] == 3000
    assert f"true machines: {truth['machines']:,}" in result.stdout
    assert "(0 failed contacts)" in result.stdout
    assert "AS64" in result.stdout  # lab networks named
    assert (
        "distinct machines: " in result.stdout and "on line together at the peak" in result.stdout
    )
    # the notification act: one .eml per lab abuse contact, nothing sent
    emls = sorted((tmp_path / "demo" / "notify").glob("*/message.eml"))
    assert len(emls) >= 5 and "messages written as .eml" in result.stdout
    assert b"To: abuse@" in emls[0].read_bytes()
    out = result.stdout
    # names from a feed: five made by a DGA (one under EmerDNS's .bazar), one benign
    assert "6 names, 5 made by a DGA" in out and "no registry" in out
    # the rollout act: contained once .test is seized, recaptured when the .example hold ends
    assert "fully contained from day 7" in out and "recaptured on day 21" in out
    # the live store shipped to a shared one, every event once
    assert "pending 0" in out and "both read together" in out
    # the DNSBL answered real lookups: listed bots get the family's code, test points as RFC 5782
    rows = [line for line in out.splitlines() if line.startswith("│ 127.0.0.")]
    assert any("127.0.0.2 " in r and "NOERROR" in r for r in rows)
    assert any("127.0.0.1 " in r and "NXDOMAIN" in r for r in rows)
    assert out.count("127.0.0.14") >= 2
    # the spam act computes the drop beside the truth
    drop = re.search(r"fell by (\d+\.\d)% \(true: (\d+\.\d)%\)", out)
    assert drop is not None and abs(float(drop[1]) - float(drop[2])) < 2.0
    # the dashboard: its URL with a token, the API refused without it
    assert re.search(r"http://127\.0\.0\.1:\d+/\?token=\S{20,}", out)
    assert "200 with the token, 401 without" in out
    # run again in the same folder: the event stores are written anew, not added to
    again = run("demo", "--dir", str(tmp_path / "demo"), "--machines", "3000",
                "--live-machines", "200", "--live-seconds", "4")  # fmt: skip
    assert again.returncode == 0, again.stderr
    second = json.loads((tmp_path / "demo" / "offline-data" / "truth.json").read_text())
    rows = pq.ParquetDataset(tmp_path / "demo" / "offline-data" / "events").read(columns=["src_ip"])
    assert rows.num_rows == second["events"]


COMMANDS = [
    ["families"], ["dga"], ["dga", "generate"], ["dga", "lookup"], ["plan"], ["simulate"], ["serve"],
    ["emulate"], ["population"], ["events"], ["stats"], ["demo"], ["attribute"], ["notify"],
    ["blocklist", "build"], ["blocklist", "export"], ["blocklist", "check"], ["blocklist", "add"],
    ["blocklist", "exclude"], ["dnsbl", "serve"], ["verify"], ["impact"], ["dashboard"], ["ship"],
]  # fmt: skip
#: commands whose example needs what this test cannot give (a mail log, a resolver, an S3
#: bucket) or serves until stopped; the test named beside each runs the command itself
ELSEWHERE = {
    "dnsbl serve": "tests/servers/test_dnsbl.py", "verify": "tests/test_cli_verify.py",
    "impact": "tests/test_cli_impact.py", "dashboard": "tests/web/test_browser.py",
    "ship": "tests/test_ship.py",
}  # fmt: skip


def test_every_command_is_in_the_example_list() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    leaves: list[list[str]] = []
    for name, command in group.commands.items():
        if isinstance(command, typer.core.TyperGroup):
            leaves += [[name, sub] for sub in command.commands]
        else:
            leaves.append([name])
    assert sorted(leaves) == sorted(c for c in COMMANDS if c != ["dga"])


def _examples() -> dict[str, list[str]]:
    """Every command's `Example:` line, taken from its --help."""
    found: dict[str, list[str]] = {}
    for command in COMMANDS:
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        [line] = [ln for ln in result.output.splitlines() if "Example: sinkhole " in ln]
        example = line.split("Example: ", 1)[1].strip().rstrip("│").strip()
        found[" ".join(command)] = shlex.split(example)[1:]
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_help_example_runs(tmp_path: Path) -> None:
    # The examples run as written, in a scratch folder holding examples/megad-sim.toml.
    # Its copy listens on free ports rather than 5353/8080, which another run on this
    # machine may hold; serve and emulate both take them from the file, as in the README.
    examples = _examples()
    # the demo's example is what test_demo_tells_the_whole_story runs; not run twice
    assert examples.pop("demo") == ["demo", "--dir", "demo-out", "--machines", "3000",
                                    "--live-machines", "200", "--live-seconds", "4"]  # fmt: skip
    (tmp_path / "examples").mkdir()
    listeners = (
        f'\n[listeners]\ndns = ["127.0.0.1:{_free_port()}"]\nhttp = ["127.0.0.1:{_free_port()}"]\n'
    )
    text = EXAMPLE.read_text() + listeners
    (tmp_path / "examples" / "megad-sim.toml").write_text(text)
    (tmp_path / "op.toml").write_text(text)  # the same operation (and store) by another name
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "120"}  # fmt: skip

    def sinkhole(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sinkhole", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=180)  # fmt: skip

    for name in ("families", "dga", "dga generate", "dga lookup", "plan", "simulate", "attribute"):
        result = sinkhole(examples.pop(name))
        assert result.returncode == 0, (name, result.stderr)
    assert (tmp_path / "plan" / "plan.json").exists()
    # serve and emulate go together, as the README shows them
    serve = subprocess.Popen([sys.executable, "-m", "sinkhole", *examples.pop("serve")],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert serve.stdout is not None
        lines = []
        for line in serve.stdout:
            lines.append(line)
            if line.strip() == "ready":
                break
        assert "ready\n" in lines, (lines, serve.stderr.read() if serve.stderr else "")
        emulate = sinkhole(examples.pop("emulate"))
        assert emulate.returncode == 0, emulate.stderr
        assert "aiming at dns 127.0.0.1:" in emulate.stderr
        rest, errors = serve.communicate(timeout=60)
    finally:
        serve.kill()
        serve.wait()
    assert serve.returncode == 0, errors
    assert "stopped" in rest
    store = tmp_path / "data" / "sinkhole" / "megad-sim-lab-takedown"
    assert f"events: {store}" in "".join(lines)
    assert oct(store.stat().st_mode & 0o777) == "0o700"
    for name in ("population", "events", "stats", "notify"):
        result = sinkhole(examples.pop(name))
        assert result.returncode == 0, (name, result.stderr)
    assert (tmp_path / "reports" / "ledger.sqlite").exists()
    for name in ("blocklist build", "blocklist export", "blocklist add", "blocklist exclude",
                 "blocklist check"):  # fmt: skip
        result = sinkhole(examples.pop(name))
        assert result.returncode in (0, 1), (name, result.stderr)  # check: 1 = not listed
    assert "192.0.2.7" in sinkhole(["blocklist", "check", "192.0.2.7", "--operation",
                                    "examples/megad-sim.toml"]).stdout  # fmt: skip
    assert (tmp_path / "bl.rbldnsd").stat().st_size > 0
    for name in ELSEWHERE:
        assert examples.pop(name)[0] == name.split()[0]
    assert examples == {}


def test_readme_family_table_names_every_family() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = readme.split("### Families and channels", 1)[1].split("Third-party", 1)[0]
    missing = [f.name for f in families.all_families() if f.name not in table]
    assert missing == []


def test_families_never_cut_a_parameter() -> None:
    result = runner.invoke(app, ["families"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "seed=earnestnessbiophysicalohax.com" in result.stdout
    assert "sandbox=false" in result.stdout  # as --param takes it
    assert "seed=megad-sim-lab" in result.stdout


def test_version_is_printed_without_a_command() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("sinkhole ")
    assert result.stderr == ""


def test_usage_error_is_one_line() -> None:
    result = run("plan")
    assert result.returncode == 2
    assert result.stderr == (
        "sinkhole: error: plan: Missing argument 'operation'. (see sinkhole plan --help)\n"
    )


def test_emulate_checks_the_truth_path_before_the_work(tmp_path: Path) -> None:
    result = run("emulate", str(EXAMPLE), "--machines", "100", "--days", "0.1",
                 "--truth", "/proc/sinkhole-x/t.json")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "sinkhole: error: cannot write the truth file /proc/sinkhole-x/t.json: "
        "No such file or directory\n"
    )
    (tmp_path / "file").write_text("")
    offline = run("emulate", str(EXAMPLE), "--offline", "--data", str(tmp_path / "d"),
                  "--truth", str(tmp_path / "file" / "t.json"))  # fmt: skip
    assert offline.returncode == 2
    assert not (tmp_path / "d" / "events").exists()  # nothing emulated


def test_live_emulate_with_nothing_listening_says_where_it_aimed(tmp_path: Path) -> None:
    port = _free_port()
    op = tmp_path / "op.toml"
    op.write_text(EXAMPLE.read_text() + f'[listeners]\ndns = ["127.0.0.1:{port}"]\n')
    result = run("emulate", str(op), "--machines", "100", "--days", "0.1", "--duration", "1",
                 "--truth", str(tmp_path / "t.json"))  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert f"no sinkhole at dns 127.0.0.1:{port} (connection refused)" in line
    assert "sinkhole serve" in line
    assert not (tmp_path / "t.json").exists()


def test_live_emulate_exits_1_when_nothing_got_through(tmp_path: Path) -> None:
    from sinkhole.testing import running_sinkhole

    # the sinkhole holds a plan of another family: every name the bots ask is refused
    served = tmp_path / "served.toml"
    served.write_text(
        '[operation]\nname = "other"\nstart = 2026-12-01\nhold_days = 30\n'
        '[[targets]]\nfamily = "torpig"\n'
    )
    with running_sinkhole(served, tmp_path / "d") as sink:
        dns, http = sink.address("dns"), sink.address("http")
        result = run("emulate", str(EXAMPLE), "--machines", "50", "--days", "0.05",
                     "--duration", "1", "--target", f"dns={dns[0]}:{dns[1]}",
                     "--target", f"http={http[0]}:{http[1]}",
                     "--truth", str(tmp_path / "t.json"))  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"aiming at dns {dns[0]}:{dns[1]}, http {http[0]}:{http[1]}" in result.stderr
    assert "nothing got through" in result.stderr
    assert result.stdout.startswith("0 check-ins from 0 machines")
    assert oct((tmp_path / "t.json").stat().st_mode & 0o777) == "0o600"


def test_plan_refuses_a_folder_that_is_not_a_plan(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run("plan", str(EXAMPLE), "--out", str(tmp_path))
    assert result.returncode == 2
    assert "is not empty (notes.txt) and holds no earlier plan" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_output_folders_made_on_the_way_are_private(tmp_path: Path) -> None:
    """--data, --charts, --ips and --truth may name folders that do not exist yet: all 0700."""
    from sinkhole import cli

    old = os.umask(0o022)
    try:
        cli._check_folder(tmp_path / "a" / "b" / "store", "the event store")
        cli._check_writable(tmp_path / "c" / "d" / "ips.parquet", "the address table")
    finally:
        os.umask(old)
    for made in ("a", "a/b", "a/b/store", "c", "c/d"):
        assert oct((tmp_path / made).stat().st_mode & 0o777) == "0o700", made
    assert not (tmp_path / "c" / "d" / "ips.parquet").exists()  # the probe leaves nothing


def test_a_demo_run_clears_only_a_demo_folders_stores(tmp_path: Path) -> None:
    from sinkhole import demo

    def folder_with_store(name: str) -> Path:
        folder = tmp_path / name
        (folder / "live-data" / "events").mkdir(parents=True)
        (folder / "live-data" / "events" / "kept.parquet").write_bytes(b"PAR1")
        (folder / "megad-sim.toml").write_text("")
        return folder

    # an operation folder that happens to hold the lab example: nothing is removed
    mine = folder_with_store("operation")
    demo.clear_previous(mine)
    assert (mine / "live-data" / "events" / "kept.parquet").exists()
    # the demo's own folder (marked): its stores go
    marked = folder_with_store("demo-out")
    (marked / demo.DEMO_MARK).touch()
    demo.clear_previous(marked)
    assert not (marked / "live-data").exists()
