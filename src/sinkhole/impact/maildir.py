"""Spam traps kept as Maildir folders: one file per message under cur/ and new/.

Sub-folders in the Maildir++ layout (``.Spam/cur``) are read too. Only each
file's header block is read; each message counts once, at its first external
hop (:mod:`.received`).
"""

from __future__ import annotations

from pathlib import Path

from sinkhole.impact import mta
from sinkhole.impact.errors import ImpactError
from sinkhole.impact.received import MAX_HEADER_BYTES, Networks, Tally

_PARTS = ("cur", "new")


def is_maildir(path: Path) -> bool:
    """Whether the folder is a Maildir."""
    return any((path / part).is_dir() for part in _PARTS)


def _headers(path: Path) -> bytes:
    """The header block of one message file (up to the first empty line)."""
    kept = bytearray()
    with path.open("rb") as handle:
        # each read bounded: a file without newlines is not read whole
        for line in iter(lambda: handle.readline(MAX_HEADER_BYTES + 1), b""):
            if line in (b"\n", b"\r\n") or len(kept) > MAX_HEADER_BYTES:
                break
            kept += line
    return bytes(kept)


def read(path: Path, trusted: Networks = ()) -> mta.Scan:
    """Count the messages of a Maildir (and its sub-folders) by their first external hop."""
    tally = Tally()
    subfolders = sorted(p for p in path.iterdir() if p.is_dir() and p.name.startswith("."))
    folders = [path, *subfolders]
    try:
        for folder in folders:
            for part in _PARTS:
                box = folder / part
                if not box.is_dir():
                    continue
                for item in sorted(box.iterdir()):
                    if item.is_file() and not item.name.startswith("."):
                        tally.add(_headers(item), str(item), trusted)
    except OSError as exc:
        raise ImpactError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return tally.scan()
