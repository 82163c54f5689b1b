"""The impact chart: messages per hour from bot addresses against all, the takedown marked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from sinkhole.charts import _save
from sinkhole.events import private
from sinkhole.exceptions import SinkholeError


def impact_chart(report: dict[str, Any], folder: Path) -> list[Path]:
    """Per hour: all messages, the bots' and the target family's, with the takedown line."""
    try:
        private.folder(folder)
    except OSError as exc:
        raise SinkholeError(f"cannot write charts to {folder}: {exc.strerror}") from None
    hours: Any = [dt.datetime.fromisoformat(h["hour"]) for h in report["per_hour"]]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    unit = report.get("unit", "messages")
    ax.plot(hours, [h["messages"] for h in report["per_hour"]], label=f"all {unit}", lw=1)
    ax.plot(
        hours,
        [h["bot_messages"] for h in report["per_hour"]],
        label="from addresses seen at the sinkhole",
        lw=1,
    )
    ax.plot(
        hours,
        [h["family_messages"] for h in report["per_hour"]],
        label="of them, the target family's",
        lw=1,
        linestyle="--",
    )
    takedown: Any = dt.datetime.fromisoformat(report["takedown"])
    ax.axvline(takedown, color="tab:red", label="takedown")
    drop = report.get("drop")
    title = f"{unit.capitalize()} per hour"
    if drop is not None:
        title += f": the bots' fell by {drop:.1%} after the takedown"
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    fig.autofmt_xdate()
    return _save(fig, folder / "impact")
