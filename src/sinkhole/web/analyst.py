"""The analyses in a process of their own, so the web server never waits on them.

The population report and its friends are Python and Arrow work as much as DuckDB
work; in a thread they would share the interpreter lock with the event loop that
answers the pages. Here they run in one long-lived child process (spawned, niced,
dying with the dashboard) that takes a :class:`~sinkhole.web.figures.Sources` and
sends back every analysis's result; the plan is computed once per operation file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from sinkhole import attribution
from sinkhole.exceptions import SinkholeError
from sinkhole.web import figures

log = logging.getLogger(__name__)

#: Niceness of the analysis process: the listeners and the pages come first.
NICE = 10


class AnalystError(SinkholeError):
    """The analysis process stopped."""


def run_round(sources: figures.Sources, memo: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every analysis, in order: name -> state, data (or error), when and how long."""
    try:
        datasets = attribution.open_datasets(sources.datasets)
    except SinkholeError as exc:
        # a missing or damaged dataset: every analysis says why; the process keeps serving
        return {name: {"state": "error", "error": exc.message} for name in figures.ANALYSES}
    context = figures.Context(sources, datasets, memo)
    out: dict[str, dict[str, Any]] = {}
    for name, compute in figures.ANALYSES.items():
        began = time.monotonic()
        try:
            data = compute(context)
        # one failing analysis (a damaged ledger, a bug) must not take the others down:
        # its message is shown on the page, and its last good figures stay
        except Exception as exc:
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            out[name] = {"state": "error", "error": " ".join(str(message).split())[:300]}
            continue
        out[name] = {
            "state": "ready",
            "data": data,
            "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - began, 3),
        }
    return out


def _main(pipe: Connection, parent: int) -> None:
    from sinkhole.servers.worker import die_with_parent

    if not die_with_parent(parent):
        return
    with contextlib.suppress(OSError):
        os.nice(NICE)
    memo: dict[str, Any] = {}
    while True:
        try:
            sources = pipe.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        pipe.send(run_round(sources, memo))


class Analyst:
    """The analysis process, started on first use and again if it dies."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._pipe: Connection | None = None

    def _start(self) -> Connection:
        if self._process is None or not self._process.is_alive():
            mine, theirs = self._context.Pipe()
            self._process = self._context.Process(
                target=_main, args=(theirs, os.getpid()), name="dashboard-analyses", daemon=True
            )
            self._process.start()
            theirs.close()
            self._pipe = mine
        assert self._pipe is not None
        return self._pipe

    def run(
        self, sources: figures.Sources, stop: threading.Event
    ) -> dict[str, dict[str, Any]] | None:
        """One round of analyses; None when `stop` was set meanwhile."""
        pipe = self._start()
        try:
            pipe.send(sources)
            while not stop.is_set():
                if pipe.poll(0.2):
                    found: dict[str, dict[str, Any]] = pipe.recv()
                    return found
                if not self._process.is_alive():
                    break
        except (EOFError, OSError) as exc:
            self.close()
            raise AnalystError(f"the analysis process stopped: {exc}") from None
        if stop.is_set():
            return None
        code = self._process.exitcode
        self.close()
        raise AnalystError(f"the analysis process stopped (exit code {code})")

    def close(self) -> None:
        """Stop the process (an analysis in progress is abandoned)."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join(timeout=10)
            self._process = None
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
