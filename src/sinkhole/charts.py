"""Charts a report or the dashboard can reuse: PNG and SVG, drawn with matplotlib (Agg)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from sinkhole.exceptions import SinkholeError


def population_charts(report: dict[str, Any], folder: Path) -> list[Path]:
    """Unique IPs against estimated machines over time, and unique IPs per network."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SinkholeError(f"cannot write charts to {folder}: {exc.strerror}") from None
    written: list[Path] = []
    machines = report["machines"]
    days: Any = [dt.date.fromisoformat(d["day"]) for d in report["per_day"]]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(
        days, [d["unique_ips"] for d in report["per_day"]], marker="o", label="unique IPs per day"
    )
    if any(d["bot_ids"] for d in report["per_day"]):
        ax.plot(
            days, [d["bot_ids"] for d in report["per_day"]], marker="s", label="bot ids per day"
        )
    ax.axhline(report["unique_ips"], color="grey", linestyle=":", label="unique IPs, whole period")
    active = [d for d in report.get("active_per_day", []) if d.get("estimate") is not None]
    if active:
        active_days: Any = [dt.date.fromisoformat(d["day"]) for d in active]
        ax.plot(
            active_days,
            [d["estimate"] for d in active],
            marker="^",
            color="tab:green",
            label="machines active per day (estimated)",
        )
    if machines["estimate"] is not None:
        ax.axhline(machines["estimate"], color="tab:red", label="distinct machines (estimated)")
        band = "95% interval"
    else:
        band = "bounds (no point estimate)"
    ax.axhspan(machines["low"], machines["high"], color="tab:red", alpha=0.15, label=band)
    ax.set_ylim(bottom=0)
    ax.set_title("Unique IPs against distinct machines")
    ax.legend(loc="best", fontsize="small")
    fig.autofmt_xdate()
    written += _save(fig, folder / "population")
    nets = report["per_network"][:12]
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(nets), 2) + 1))
    labels = [f"AS{n['asn']}" if n["asn"] is not None else "?" for n in nets]
    ax.barh(labels[::-1], [n["unique_ips"] for n in nets][::-1], label="unique IPs")
    if any(n["bot_ids"] for n in nets):
        ax.barh(labels[::-1], [n["bot_ids"] for n in nets][::-1], label="bot ids", alpha=0.7)
    ax.set_title("Per network")
    ax.legend(loc="lower right", fontsize="small")
    written += _save(fig, folder / "networks")
    return written


def _save(fig: Any, stem: Path) -> list[Path]:
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    try:
        fig.tight_layout()
        for path in paths:
            fig.savefig(path, dpi=110)
    except OSError as exc:
        raise SinkholeError(f"cannot write {stem}: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return paths


def timeline_charts(report: dict[str, Any], folder: Path) -> list[Path]:
    """Per family: the share of machines reaching a live C&C each day, by channel."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SinkholeError(f"cannot write charts to {folder}: {exc.strerror}") from None
    written: list[Path] = []
    for family in report["families"]:
        per_day = family["per_day"]
        days = [d["day"] for d in per_day]
        machines = max(family["machines"], 1)
        channels = sorted({c for d in per_day for c in d["per_channel"]})
        fig, ax = plt.subplots(figsize=(8, 4.5))
        shares = [[d["per_channel"].get(c, 0) / machines * 100 for d in per_day] for c in channels]
        if channels:
            ax.stackplot(days, shares, labels=channels, step="post", alpha=0.8)
        for reopened in family["reopened"]:
            ax.axvline(reopened["day"], color="tab:red", linestyle=":")
        if family["first_contained_day"] is not None:
            ax.axvline(family["first_contained_day"], color="tab:green", linestyle="--",
                       label=f"contained from day {family['first_contained_day']}")  # fmt: skip
        ax.set_ylim(0, 100)
        ax.set_xlabel(f"day of the operation (day 0 = {report['start']})")
        ax.set_ylabel("% of machines reaching a live C&C")
        ax.set_title(f"{family['family']}: escape routes over the rollout")
        if channels or family["first_contained_day"] is not None:
            ax.legend(loc="best", fontsize="small")
        written += _save(fig, folder / f"timeline-{family['family']}")
    return written
