"""The rollout as people see it: the demo's act, its table and summary."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from sinkhole import timeline_view


def test_demo_act_shows_the_late_registry_and_the_recapture(tmp_path: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=160, color_system=None)
    figures = timeline_view.demo_act(tmp_path, console, machines=5000)
    assert figures["first_contained_day"] == 7  # .test's registry acts on day 7
    assert figures["recaptured_days"] == [21]  # .example's hold ends on day 21
    assert set(figures["open_at_end"]) == {
        "update-megad-sim.example",
        "stats-megad-sim.example",
        "mailer-megad-sim.example",
        ".example",
    }
    text = buffer.getvalue()
    assert "registry of .test (seizes from day 7): relay-megad-sim.test" in text
    assert "none: contained" in text
    assert "recaptured on day 21" in text
    # the day RPZ starts at AS64496 (day 1), its customers fall back to the one resolver left
    rows = [line for line in text.splitlines() if line.startswith("│ 1 ")]
    assert rows and "dns-servers" in rows[0]
    assert (tmp_path / "rollout.toml").exists()
