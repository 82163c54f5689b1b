"""Files and folders that hold victim addresses: private to the user from their first byte.

Event segments, exports, address tables and ground-truth files are created
0600 and their folders 0700 (never chmod'ed after the data is in: there is no
moment when another local user can read them). DuckDB spills to a folder of
its own inside a per-user cache folder that is checked before use, never to a
fixed name in a shared temporary folder that another user could create first.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import IO, Any

from sinkhole.exceptions import SinkholeError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


class PrivacyError(SinkholeError):
    """A folder meant to be private is not."""


def folder(path: Path) -> Path:
    """Make `path` and its missing parents as 0700 folders (existing ones are left as they are)."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            if not item.is_dir():
                raise
    return path


def open_file(path: Path, mode: str = "wb", **kwargs: Any) -> IO[Any]:
    """Open `path` for writing, created 0600; an existing file is made 0600 before any byte."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        info = os.fstat(fd)
        # an existing file keeps its mode through O_CREAT: tighten it while it is empty
        if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a 0600 file."""
    with open_file(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _cache_home() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"


def _checked(path: Path) -> Path:
    """`path` as an existing private folder of ours, or PrivacyError."""
    folder(path)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PrivacyError(f"{path}: expected a private folder, found a link or a file")
    if info.st_uid != os.geteuid():
        raise PrivacyError(f"{path}: owned by user {info.st_uid}, not by us; refusing to use it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, FOLDER_MODE)
    return path


def spill_base() -> Path:
    """The per-user private folder DuckDB runs spill into (0700, checked on every use)."""
    try:
        return _checked(_cache_home() / "sinkhole" / "spill")
    except OSError:
        # no writable home (a service account): a fresh private folder of our own
        return Path(tempfile.mkdtemp(prefix="sinkhole-spill-"))


def scratch_base() -> Path:
    """The per-user private folder for throw-away work (benchmarks), never a shared /tmp."""
    try:
        return _checked(_cache_home() / "sinkhole" / "scratch")
    except OSError:
        return Path(tempfile.mkdtemp(prefix="sinkhole-scratch-"))


def spill_folder() -> Path:
    """A path for one DuckDB connection's spill files, inside :func:`spill_base`.

    Not created here: DuckDB makes it on the first spill and removes it when the
    connection closes (so a run that never spills leaves nothing behind).
    """
    return spill_base() / f"run-{os.getpid()}-{secrets.token_hex(4)}"


def duckdb_path_literal(path: Path) -> str:
    """`path` as a quoted SQL string literal (SET statements take no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"
