"""The listing's state: one SQLite file in the data folder, private and transactional.

``blocklist.sqlite`` (0600, WAL journal) holds what the store showed (``seen``:
one row per bot address with first/last contact, family and network), the C&C
names bots asked for (``domains``), the manual exclusions and additions, the
Parquet files already folded in, and the listing itself (``listing``), which
every change rewrites in one transaction with a new serial: the DNSBL, the
exports and `check` all read one consistent listing, and a reader never sees
half of a rebuild.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

from sinkhole.exceptions import SinkholeError

DB_NAME = "blocklist.sqlite"
#: Seconds a writer waits for another (the DNSBL's fold, a `build`) before giving up.
BUSY_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
    ip TEXT PRIMARY KEY, family TEXT, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    asn INTEGER, as_name TEXT NOT NULL DEFAULT '', prefix TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS domains (
    domain TEXT PRIMARY KEY, family TEXT, first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS folded (path TEXT PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS exclusions (
    kind TEXT NOT NULL, value TEXT NOT NULL, note TEXT NOT NULL, added INTEGER NOT NULL,
    PRIMARY KEY (kind, value));
CREATE TABLE IF NOT EXISTS additions (
    ip TEXT PRIMARY KEY, reason TEXT NOT NULL, added INTEGER NOT NULL, expires INTEGER);
CREATE TABLE IF NOT EXISTS listing (
    ip TEXT PRIMARY KEY, family TEXT, code INTEGER NOT NULL, first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL, expires INTEGER, asn INTEGER, as_name TEXT NOT NULL,
    reason TEXT NOT NULL, source TEXT NOT NULL);
"""


class BlocklistError(SinkholeError):
    """The listing could not be built, read or exported."""


def db_path(root: Path) -> Path:
    """Where the listing of the store at `root` is kept."""
    return Path(root) / DB_NAME


def _damaged(path: Path, exc: sqlite3.Error) -> BlocklistError:
    text = " ".join(str(exc).split())
    return BlocklistError(
        f"{path}: cannot read the listing ({text}); move it aside and run "
        "`sinkhole blocklist build` to rebuild it from the store"
    )


@contextlib.contextmanager
def connect(root: Path, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the listing (created 0600 when writing); errors become one line."""
    path = db_path(root)
    if not write and not path.exists():
        raise BlocklistError(
            f"no listing at {path}: run `sinkhole blocklist build OP --data {Path(root)}` first"
        )
    if write:
        if not Path(root).is_dir():
            raise BlocklistError(f"no event store at {root}")
        # created private before SQLite opens it; its -wal and -shm files take the same mode
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            # one copied in or made by hand: private too, before we add to it
            for item in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
                with contextlib.suppress(FileNotFoundError):
                    if stat.S_IMODE(item.stat().st_mode) & 0o077:
                        os.chmod(item, 0o600)
    try:
        con = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from None
    try:
        if write:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            con.executescript(_SCHEMA)
        else:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        yield con
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from None
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def get_meta(con: sqlite3.Connection, key: str, default: str = "") -> str:
    """One value of the meta table."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


def set_meta(con: sqlite3.Connection, key: str, value: object) -> None:
    """Set one value of the meta table."""
    con.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def serial(root: Path) -> int:
    """The listing's serial (0 when there is none yet): it changes with every rewrite."""
    if not db_path(root).exists():
        return 0
    with connect(root) as con:
        try:
            return int(get_meta(con, "serial", "0"))
        except sqlite3.OperationalError:
            return 0
