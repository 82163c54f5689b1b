"""The dashboard's figures, computed in the background; requests only read what is ready.

Two loops run in threads beside the web server:

- the live loop samples the sensors' stats files every second (rates per sensor and
  listener, as `sinkhole stats` computes them) and, every few seconds, counts today's
  events and unique addresses and the last hour's contacts per minute;
- the analysis loop hands the expensive analyses (the population report and machine
  estimate, networks and countries, time series, plan coverage, notification and
  listing status, the spam before and after the takedown) to the analysis process
  (:mod:`sinkhole.web.analyst`) when the store or the mail has changed, at most once per
  `refresh_every` seconds (and never more often than a round takes), or sooner when an
  operator asks (a POST with the CSRF token).

Each analysis is kept as its last good result with the time it was computed; one that
fails keeps its last result and says why. No request ever starts a query but the event
explorer's, which is bounded (at most :data:`PAGE_MAX` rows, one query at a time).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from sinkhole import stats
from sinkhole.events import store
from sinkhole.events.writer import EVENTS_DIR, WAL_DIR
from sinkhole.exceptions import SinkholeError
from sinkhole.web import figures
from sinkhole.web.analyst import Analyst, AnalystError
from sinkhole.web.figures import Sources

log = logging.getLogger(__name__)

#: Most rows the event explorer returns at once, and the furthest it pages.
PAGE_MAX = 500
OFFSET_MAX = 100_000


@dataclass
class Result:
    """One analysis as the pages see it: its data, when it was computed, or why it is missing."""

    state: str = "pending"
    data: Any = None
    computed_at: str | None = None
    seconds: float | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "state": self.state,
            "computed_at": self.computed_at,
            "seconds": self.seconds,
            "error": self.error,
            "data": self.data,
        }


class Board:
    """The cached figures of one store, kept fresh by background threads."""

    def __init__(
        self,
        sources: Sources,
        live_every: float = 1.0,
        store_every: float = 3.0,
        refresh_every: float = 30.0,
    ) -> None:
        self.sources = sources
        self.live_every = live_every
        self.store_every = store_every
        self.refresh_every = refresh_every
        self.results: dict[str, Result] = {name: Result() for name in figures.ANALYSES}
        self.live_figures: dict[str, Any] = {"state": "pending"}
        self._today = Result()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._explorer = threading.Semaphore(1)
        self._threads: list[threading.Thread] = []
        self._fingerprint: tuple[Any, ...] | None = None
        self.generation = 0
        self._analyst = Analyst()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background loops (idempotent)."""
        if self._threads:
            return
        for target, name in ((self._live_loop, "live"), (self._analysis_loop, "analyses")):
            thread = threading.Thread(target=target, name=f"dashboard-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the loops and wait for them (an analysis in progress finishes first)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads.clear()
        self._analyst.close()

    def refresh(self) -> None:
        """Ask the analysis loop to run now, whether or not the store changed."""
        self._fingerprint = None
        self._wake.set()

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait until every analysis has run once (tests, the demo); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.generation > 0 and self.live_figures.get("state") == "ready":
                return True
            time.sleep(0.05)
        return False

    # -- what requests read -----------------------------------------------------------------

    def result(self, name: str) -> dict[str, Any]:
        """The named analysis's last result."""
        with self._lock:
            return self.results[name].as_dict()

    def live(self) -> dict[str, Any]:
        """The latest live sample, with the machine estimate of the last analysis."""
        with self._lock:
            figures_now = dict(self.live_figures)
            summary = self.results["summary"]
            figures_now["machines"] = (summary.data or {}).get("machines")
            figures_now["today"] = self._today.as_dict()
        return figures_now

    def events(self, query: figures.EventQuery) -> dict[str, Any]:
        """One page of the event explorer: at most PAGE_MAX rows, one query at a time."""
        with self._explorer:
            return figures.event_page(self.sources.data_dir, query, PAGE_MAX, OFFSET_MAX)

    # -- the loops ----------------------------------------------------------------------------

    def _live_loop(self) -> None:
        root = self.sources.data_dir
        before = {s["sensor"]: s for s in _sensor_stats(root)}
        then = time.monotonic()
        last_store = 0.0
        while not self._stop.wait(self.live_every):
            try:
                before, then, last_store = self._live_step(root, before, then, last_store)
            except Exception as exc:  # the loop must outlive any one sample
                # a sample that failed is shown as failed, never as stale figures
                log.exception("dashboard live figures failed")
                with self._lock:
                    self.live_figures = {"state": "error", "error": _why(exc), "time": _now()}

    def _live_step(
        self, root: Path, before: dict[str, Any], then: float, last_store: float
    ) -> tuple[dict[str, Any], float, float]:
        """One live sample; returns the new (before, then, last_store)."""
        now = time.monotonic()
        after = _sensor_stats(root)
        report = stats.report(before, after, max(now - then, 1e-3), {})
        before, then = {s["sensor"]: s for s in after}, now
        rates: dict[str, float] = {}
        for sensor in report["sensors"]:
            for listener, rate in sensor["listener_rates"].items():
                rates[listener] = rates.get(listener, 0.0) + rate
        figures_now = {
            "state": "ready",
            "time": _now(),
            "events_per_s": sum(s["events_per_s"] for s in report["sensors"]),
            "accepted": sum(s["accepted"] for s in report["sensors"]),
            "dropped": report["dropped"],
            "listener_rates": rates,
            "sensors": [
                {k: s[k] for k in ("sensor", "state", "events_per_s", "accepted", "dropped")}
                | {"counters": s["counters"], "listener_rates": s["listener_rates"]}
                for s in report["sensors"]
            ],
        }
        with self._lock:
            self.live_figures = figures_now
        if now - last_store >= self.store_every:
            last_store = now
            self._run_today()
        return before, then, last_store

    def _run_today(self) -> None:
        began = time.monotonic()
        try:
            data = figures.today(self.sources.data_dir)
        except (SinkholeError, duckdb.Error, OSError) as exc:
            with self._lock:
                self._today.state, self._today.error = "error", _why(exc)
            return
        with self._lock:
            self._today = Result("ready", data, _now(), round(time.monotonic() - began, 3))

    def _analysis_loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                mark = _fingerprint(self.sources)
                if mark != self._fingerprint or not self.generation:
                    self._fingerprint = mark
                    self._run_analyses()
                    self.generation += 1
            except Exception as exc:  # the loop must outlive any one run
                # shown as an error on every analysis (their last figures kept); tried again
                log.exception("dashboard analyses failed")
                self._fingerprint = None
                with self._lock:
                    for name, old in list(self.results.items()):
                        self.results[name] = Result(
                            "error", old.data, old.computed_at, None, _why(exc)
                        )
                self.generation += 1
            # an analysis that takes a minute waits a minute: serving comes first
            self._wake.wait(max(self.refresh_every, time.monotonic() - began))
            self._wake.clear()

    def _run_analyses(self) -> None:
        try:
            found = self._analyst.run(self.sources, self._stop)
        except AnalystError as exc:
            log.warning("dashboard analyses failed: %s", exc.message)
            found = {name: {"state": "error", "error": exc.message} for name in self.results}
        for name, got in (found or {}).items():
            with self._lock:
                old = self.results[name]
                if got["state"] == "ready":
                    self.results[name] = Result(
                        "ready", got["data"], got["computed_at"], got["seconds"]
                    )
                else:
                    self.results[name] = Result(
                        "error", old.data, old.computed_at, None, got["error"]
                    )


def _sensor_stats(root: Path) -> list[dict[str, Any]]:
    try:
        return store.sensor_stats(root)
    except OSError:
        return []


def _fingerprint(sources: Sources) -> tuple[Any, ...]:
    """What changes when the store, the operation file, the ledger or the mail changes."""
    marks: list[Any] = []
    root = sources.data_dir
    for folder, pattern in ((root / EVENTS_DIR, "day=*/*.parquet"), (root / WAL_DIR, "*.arrows")):
        for path in sorted(folder.glob(pattern)) if folder.exists() else []:
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            marks.append((path.name, info.st_size, info.st_mtime_ns))
    for path in sorted(root.glob("*.sqlite*")):  # the blocklist's listing
        with contextlib.suppress(FileNotFoundError):
            marks.append((path.name, path.stat().st_mtime_ns))
    for extra in (sources.operation_path, sources.notify_dir):
        if extra is not None:
            for path in [extra, *(extra.glob("*.sqlite*") if extra.is_dir() else [])]:
                try:
                    marks.append((str(path), path.stat().st_mtime_ns))
                except OSError:
                    marks.append((str(path), None))
    marks.extend(figures.mail_marks(sources.mail))
    return tuple(marks)


def _why(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:300]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
