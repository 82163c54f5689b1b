"""The notification ledger: one SQLite file that says what was built, sent, refused or bounced.

Every report has one row, keyed by its deterministic id (operation, contact and
the days it covers), and every change of state is also appended to a history.
Each change is its own committed transaction (synchronous=FULL), so after a
crash the ledger holds the last state that was reached, never a guess:

- ``built``: files and message written, not sent; ``dry-run``: the same, by a dry run
- ``sending``: committed before the SMTP transaction starts; the server cannot have
  the message yet, so a run that finds this state sends it again
- ``data-end``: committed just before the end-of-data mark goes out; a run that finds
  this state cannot know whether the server took the message, and marks it
  ``uncertain`` (resent only when asked: a report is never sent twice unawares)
- ``sent`` (the server's 250 reply is kept), ``refused`` (a 5xx: not retried),
  ``deferred`` (a 4xx or a lost connection: retried by a later run), ``bounced``
  (a delivery-status notification named it), ``no-contact`` and ``invalid-contact``
  (nobody to send to: listed, never sent)
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sinkhole.events import private
from sinkhole.exceptions import SinkholeError

FILE = "ledger.sqlite"

#: States a run may (re)send from.
SENDABLE = ("built", "dry-run", "sending", "deferred")
#: States that never change again but through an operator (or a bounce).
FINAL = ("sent", "refused", "bounced", "uncertain")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    contact TEXT NOT NULL,
    recipient TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    addresses INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    families TEXT NOT NULL,
    networks TEXT NOT NULL,
    folder TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    sent_at TEXT,
    reply TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL,
    time TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS reports_recipient ON reports (recipient, sent_at);
"""


class LedgerError(SinkholeError):
    """The notification ledger could not be read or written."""


@dataclass(frozen=True)
class Entry:
    """One report as the ledger knows it."""

    report_id: str
    contact: str
    recipient: str
    first_day: str
    last_day: str
    addresses: int
    first_seen: str
    last_seen: str
    families: str
    networks: str
    folder: str
    message_id: str
    state: str
    attempts: int
    created: str
    updated: str
    sent_at: str | None
    reply: str

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data."""
        return dict(vars(self))


def now() -> str:
    """The current time, UTC, ISO 8601 with a Z."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Ledger:
    """The ledger file of one notification folder."""

    def __init__(self, folder: Path, create: bool = True) -> None:
        self.path = Path(folder) / FILE
        if not create and not self.path.is_file():
            raise LedgerError(f"{folder}: no notification ledger here ({FILE}); run notify first")
        try:
            if create:
                private.folder(Path(folder))
                if not self.path.exists():
                    private.open_file(self.path).close()  # 0600 before SQLite writes a byte
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            # WAL: one fsync a commit (a rollback journal costs three or four), and every
            # commit durable before it returns; -wal and -shm get the file's own 0600
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: not a readable ledger ({exc})") from None
        except OSError as exc:
            raise LedgerError(f"{self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def get(self, report_id: str) -> Entry | None:
        """One report, or None."""
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM reports WHERE report_id = ?", (report_id,)
        ).fetchone()
        return Entry(*row) if row else None

    def entries(self) -> list[Entry]:
        """Every report, oldest first."""
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM reports ORDER BY created, contact")
        return [Entry(*row) for row in rows]

    def add(self, entry: dict[str, Any], state: str) -> None:
        """Record a newly built report (an existing one keeps its row)."""
        stamp = now()
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO reports (report_id, contact, recipient, first_day, "
                "last_day, addresses, first_seen, last_seen, families, networks, folder, "
                "message_id, state, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    entry["report_id"],
                    entry["contact"],
                    entry["recipient"],
                    entry["first_day"],
                    entry["last_day"],
                    entry["addresses"],
                    entry["first_seen"],
                    entry["last_seen"],
                    entry["families"],
                    json.dumps(entry["networks"]),
                    entry["folder"],
                    entry["message_id"],
                    state,
                    stamp,
                    stamp,
                ),
            )
            if cur.rowcount:
                db.execute(
                    "INSERT INTO history (report_id, time, state, detail) VALUES (?,?,?,?)",
                    (entry["report_id"], stamp, state, ""),
                )

    def mark(self, report_id: str, state: str, detail: str = "", attempt: bool = False) -> None:
        """Move a report to `state` (committed before this returns)."""
        stamp = now()
        with self._tx() as db:
            db.execute(
                "UPDATE reports SET state = ?, updated = ?, attempts = attempts + ?, "
                "reply = CASE WHEN ? != '' THEN ? ELSE reply END, "
                "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE report_id = ?",
                (state, stamp, int(attempt), detail, detail, state, stamp, report_id),
            )
            db.execute(
                "INSERT INTO history (report_id, time, state, detail) VALUES (?,?,?,?)",
                (report_id, stamp, state, detail),
            )

    def last_sent_to(self, recipient: str) -> str | None:
        """When a message last went to `recipient` (any report), or None."""
        row = self.db.execute(
            "SELECT max(sent_at) FROM reports WHERE recipient = ? AND sent_at IS NOT NULL",
            (recipient,),
        ).fetchone()
        return str(row[0]) if row and row[0] else None

    def history(self, report_id: str | None = None) -> list[dict[str, str]]:
        """State changes, oldest first (of one report, or all)."""
        sql = "SELECT report_id, time, state, detail FROM history"
        rows = (
            self.db.execute(sql + " WHERE report_id = ? ORDER BY id", (report_id,))
            if report_id
            else self.db.execute(sql + " ORDER BY id")
        )
        return [dict(zip(("report_id", "time", "state", "detail"), r, strict=True)) for r in rows]

    def totals(self) -> dict[str, int]:
        """Reports per state."""
        rows = self.db.execute("SELECT state, count(*) FROM reports GROUP BY 1 ORDER BY 1")
        return {str(state): int(count) for state, count in rows}


_COLUMNS = ", ".join(Entry.__dataclass_fields__)
