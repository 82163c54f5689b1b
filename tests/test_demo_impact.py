"""The demo's spam act on a small store."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from sinkhole import demo_impact, emulate, operation, plan
from sinkhole.events.writer import EventWriter

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"


def test_act_prints_the_drop(tmp_path: Path) -> None:
    op = operation.load(EXAMPLE)
    writer = EventWriter(tmp_path / "store", "emulator")
    truth = emulate.offline(
        op, plan.compute(op), emulate.Settings(machines=1500, days=2.0, seed=8), writer
    )
    writer.close()
    text = io.StringIO()
    console = Console(file=text, width=120)
    figures = demo_impact.act(
        console, op, tmp_path / "store", truth, tmp_path, spam_per_hour=0.1, survivors=0.0
    )
    assert figures["drop"] == 1.0 and figures["true_drop"] == 1.0
    assert figures["before"]["bot_messages"] > 1000
    assert figures["after"]["bot_messages"] == 0
    assert "fell by 100.0%" in text.getvalue()
    assert "before" in text.getvalue() and "after" in text.getvalue()
