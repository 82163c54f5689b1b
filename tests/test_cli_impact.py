"""`sinkhole impact` end to end: the JSON keys, the chart, one-line errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from sinkhole import emulate, emulate_mail, operation, plan
from sinkhole.cli import app
from sinkhole.events.writer import EventWriter

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
runner = CliRunner()


def test_impact_json_chart_and_default_takedown(tmp_path: Path) -> None:
    op = operation.load(EXAMPLE)
    settings = emulate.Settings(machines=1500, days=2.0, seed=3)
    writer = EventWriter(tmp_path / "store", "emulator")
    emulate.offline(op, plan.compute(op), settings, writer)
    writer.close()
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    takedown = start + dt.timedelta(days=1)
    mail = tmp_path / "mail.log"
    truth = emulate_mail.postfix_log(
        mail, settings, emulate_mail.MailSettings(spam_per_hour=0.2), takedown, start
    )
    common = ["impact", str(EXAMPLE), "--data", str(tmp_path / "store"), "--mail", str(mail)]
    result = runner.invoke(
        app, [*common, "--takedown", takedown.isoformat(), "--json", "--charts", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for key in ("messages", "bot_messages", "before", "after", "drop"):
        assert key in report
    for side in ("before", "after"):
        assert {"per_hour", "bot_share"} <= set(report[side])
    assert report["messages"] == truth.messages
    assert report["after"]["bot_messages"] == 0  # every bot was cut off
    assert report["drop"] == 1.0
    assert (tmp_path / "impact.png").stat().st_size > 0
    # default: the operation's window start (2026-12-01 00:00 UTC), before all the mail
    default = runner.invoke(app, [*common, "--json"])
    assert default.exit_code == 0
    fallback = json.loads(default.stdout)
    assert fallback["takedown"] == "2026-12-01T00:00:00+00:00"
    assert fallback["drop"] is None and fallback["before"]["per_hour"] is None
    assert "nothing to compare with" in default.stderr
    human = runner.invoke(app, [*common, "--takedown", takedown.isoformat()])
    assert human.exit_code == 0
    assert "fell by 100.0%" in human.stdout
    # `--mail FILE…` as a shell glob gives it: the same mail read twice counts twice
    twice = runner.invoke(app, [*common, str(mail), "--takedown", takedown.isoformat(), "--json"])
    assert twice.exit_code == 0, twice.output
    assert json.loads(twice.stdout)["messages"] == 2 * truth.messages


def test_impact_bad_input_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 8)
    cases = [
        [],
        ["--mail", str(junk)],
        ["--mail", str(tmp_path / "missing.log")],
        ["--mail", str(junk), "--takedown", "soon"],
        ["--mail", str(junk), "--trusted", "not-a-net"],
    ]
    for extra in cases:
        result = runner.invoke(
            app, ["impact", str(EXAMPLE), "--data", str(tmp_path / "store"), *extra]
        )
        assert result.exit_code == 2, (extra, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sinkhole: error:"), result.stderr
