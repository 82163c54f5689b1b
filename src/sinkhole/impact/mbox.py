"""Spam traps kept as mbox files (plain or gzipped), read as a stream.

An mbox is messages one after another, each starting at a line that begins
``From `` (RFC 4155) after an empty line; body lines that begin so are
escaped (``>From``) by the writer, and an unescaped one that follows text is
still taken as body. Only each message's header block is kept in memory,
up to its first empty line; bodies are skipped line by line. Each message
counts once, at its first external hop (:mod:`.received`).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from sinkhole.impact import mta
from sinkhole.impact.errors import ImpactError
from sinkhole.impact.received import MAX_HEADER_BYTES, Networks, Tally

#: Lines are read in pieces of at most this many bytes: a file without newlines (a stray
#: binary, an attachment never wrapped) is never whole in memory.
LINE_BYTES = 64 * 1024


def is_mbox(lines: list[str]) -> bool:
    """Whether a file starting with these lines is an mbox."""
    return bool(lines) and lines[0].startswith("From ") and any(":" in line for line in lines[1:5])


def read(path: Path, trusted: Networks = ()) -> mta.Scan:
    """Count the messages of an mbox by their first external hop."""
    tally = Tally()
    header: list[bytes] = []
    in_header = False
    number = size = 0
    try:
        with path.open("rb") as probe:
            packed = probe.read(2) == b"\x1f\x8b"
        opener = gzip.open if packed else open
        with opener(path, "rb") as handle:
            blank = True  # a message starts at a `From ` line after an empty one (or the top)
            whole = True  # this piece starts a line (a long line comes in pieces)
            for line in iter(lambda: handle.readline(LINE_BYTES), b""):
                starts, whole = whole, line.endswith(b"\n")
                if not starts:  # the rest of a long line: never a separator or a blank
                    if in_header and size <= MAX_HEADER_BYTES:
                        size += len(line)
                        header.append(line)
                    blank = False
                    continue
                if blank and line.startswith(b"From "):
                    if in_header or header:
                        tally.add(b"".join(header), f"{path} message {number}", trusted)
                    header, in_header, number, size = [], True, number + 1, 0
                elif in_header:
                    if line in (b"\n", b"\r\n"):
                        in_header = False
                    elif size <= MAX_HEADER_BYTES:
                        size += len(line)
                        header.append(line)
                blank = line in (b"\n", b"\r\n")
            if in_header or header:
                tally.add(b"".join(header), f"{path} message {number}", trusted)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ImpactError(f"{path}: a damaged gzip file ({exc})") from None
    except OSError as exc:
        raise ImpactError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return tally.scan()
