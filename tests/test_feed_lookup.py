"""feed_lookup: the demo's names come back to the family and day they were drawn from."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from sinkhole import feed_lookup


def test_every_drawn_name_is_found_on_its_day(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    rows = feed_lookup.show(console, tmp_path / "index")
    feed = feed_lookup.draw()
    assert len(rows) == len(feed) + 1
    for item, (name, family, days, _seize) in zip(feed, rows, strict=False):
        assert name == item.name and family == item.family
        spans = [part.split("..") for part in days.split("; ")[0].split(",")]
        assert any(s[0] <= item.day.isoformat() <= s[-1] for s in spans), (name, days)
    assert rows[-1][:2] == (feed_lookup.BENIGN, "no DGA")
    bazar = next(r for r in rows if r[0].endswith(".bazar"))
    assert "EmerDNS" in bazar[3]
    assert "which family" in console.export_text()
