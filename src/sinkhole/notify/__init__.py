"""Notification: hand every infected address to the network that can clean it.

`run` builds one report per abuse contact from the store (`batch`: Shadowserver
CSVs, XARF reports, an e-mail from templates), records each in the ledger
(`ledger`, SQLite), and either stops there (a dry run: the ``.eml`` files are
the result) or sends them over SMTP (`delivery`), each report at most once.
`bounces` reads delivery-status notifications back into the ledger. The folder
given as ``--out`` holds it all (0700, files 0600): a re-run over the same
window continues where the last one stopped.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sinkhole.events import private
from sinkhole.exceptions import SinkholeError
from sinkhole.notify import batch, bounces, delivery
from sinkhole.notify.batch import Batch, Reporter
from sinkhole.notify.delivery import Pace, Server
from sinkhole.notify.ledger import Ledger

if TYPE_CHECKING:
    from sinkhole.attribution import Attributor

__all__ = ["Batch", "Outcome", "Pace", "Reporter", "Server", "bounces", "run", "status"]

LOCK = ".notify.lock"


class NotifyError(SinkholeError):
    """A notification run cannot go on."""


@dataclass
class Outcome:
    """What one run did."""

    batch: Batch
    sent: dict[str, int]
    totals: dict[str, int]
    out: Path

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "out": str(self.out),
            "built": self.batch.summary(),
            "delivery": self.sent,
            "ledger": self.totals,
            "reports": [
                {
                    "report_id": r.report_id,
                    "contact": r.contact,
                    "state": r.state,
                    "addresses": r.addresses,
                    "first_seen": r.first_seen,
                    "last_seen": r.last_seen,
                    "families": r.families,
                    "networks": r.networks,
                    "files": [str(f) for f in r.files],
                    "problem": r.problem,
                }
                for r in self.batch.reports
            ],
        }


class _Lock:
    """One notify at a time per folder (flock)."""

    def __init__(self, out: Path) -> None:
        private.folder(out)
        self.fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise NotifyError(f"{out}: another `sinkhole notify` is using this folder") from None

    def release(self) -> None:
        os.close(self.fd)


def run(
    root: Path,
    out: Path,
    networks: Attributor,
    reporter: Reporter,
    server: Server | None,
    pace: Pace | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    templates: Path | None = None,
    xarf_check: str = "first",
    resend_uncertain: bool = False,
    say: Callable[[str], None] | None = None,
) -> Outcome:
    """Build the reports of the window; send them unless `server` is None (a dry run)."""
    lock = _Lock(out)
    try:
        with Ledger(out) as book:
            built = batch.build(
                root, out, networks, reporter, book, since, until, templates, xarf_check, say
            )
            if server is None:
                for report in built.reports:
                    entry = book.get(report.report_id)
                    if entry is not None and entry.state == "built":
                        book.mark(report.report_id, "dry-run", str(report.folder / "message.eml"))
                sent: dict[str, int] = {}
            else:
                sent = delivery.deliver(book, server, pace or Pace(), resend_uncertain, say)
            for report in built.reports:
                entry = book.get(report.report_id)
                if entry is not None:
                    report.state = entry.state
            return Outcome(built, sent, book.totals(), out)
    finally:
        lock.release()


def status(out: Path) -> dict[str, Any]:
    """What the ledger of `out` says: every report, its state and its history."""
    with Ledger(out, create=False) as book:
        entries = book.entries()
        history: dict[str, list[dict[str, str]]] = {}
        for change in book.history():
            history.setdefault(change["report_id"], []).append(change)
        return {
            "out": str(out),
            "totals": book.totals(),
            "reports": [{**e.as_dict(), "history": history.get(e.report_id, [])} for e in entries],
        }


def read_bounces(out: Path, paths: list[Path]) -> dict[str, int]:
    """Mark the reports that delivery-status notifications in `paths` name as bounced."""
    with Ledger(out, create=False) as book:
        return bounces.apply(book, paths)
