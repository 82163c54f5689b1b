"""What the listeners need from a plan: the name table and the DNS records, and their handover.

`serve` computes them once, in the parent process (a year of every family's
DGA takes tens of seconds, far too long for a loop that must keep answering).
At start the workers inherit them through fork. On reload the parent writes
them to a file in a compact form, one blob of names per (family, channel),
and each worker reads that file a slice at a time between its packets
(:class:`TableReader`), then swaps the finished table in with one assignment.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sinkhole import families, operation, plan
from sinkhole.exceptions import SinkholeError
from sinkhole.servers import dnswire
from sinkhole.servers.dns import NameTable
from sinkhole.zones import serial

#: How far beyond the plan window unplanned DGA names are still recognised.
SUSPECT_MARGIN = dt.timedelta(days=30)

_MAGIC = b"SHTABLE1"
_SIZE = struct.Struct("<Q")
_SEP = b"\n"
#: Bytes of names taken in per step: a few milliseconds of work, whatever the plan's size.
STEP_BYTES = 64 * 1024


class TableError(SinkholeError):
    """A name table file could not be written or read."""


@dataclass
class Tables:
    """What a worker serves from: the operation, its name table and its DNS records."""

    op: operation.Operation
    table: NameTable
    records: dnswire.Records


def name_table(op: operation.Operation, p: plan.Plan) -> NameTable:
    """Planned names for the DNS listener, plus the DGA names just outside the plan."""
    names: dict[bytes, tuple[str, str]] = {}
    interned: dict[tuple[str, str], tuple[str, str]] = {}
    for held in p.domains.values():
        value = ("+".join(sorted(held.families)), sorted(held.channels)[0])
        names[held.domain.encode()] = interned.setdefault(value, value)
    suspects: dict[bytes, str] = {}
    for target in op.targets:
        dga = families.get(target.family).dga
        if dga is None:
            continue
        first, last = p.start - SUSPECT_MARGIN, p.end + SUSPECT_MARGIN
        for key in dga.key_spans(first, last):
            for name in dga.domains_for(key, dga.params(target.dga_params)):
                encoded = name.encode()
                if encoded not in names:
                    suspects[encoded] = target.family
    return NameTable(names, suspects)


def records_for(op: operation.Operation) -> dnswire.Records:
    """The A/AAAA/SOA/NS bytes every planned zone answers with."""
    sink = op.sinkhole
    return dnswire.Records(
        sink.ipv4,
        sink.ipv6,
        sink.nameservers,
        sink.hostmaster,
        sink.ttl,
        serial(op.operation.start),
    )


def compute(op: operation.Operation) -> Tables:
    """The plan's tables for `op` (the slow part: every DGA name of the window and margin)."""
    return Tables(op, name_table(op, plan.compute(op)), records_for(op))


def write(tables: Tables, path: Path) -> None:
    """Write `tables` to `path` (0600) for the workers to take in; replaced atomically."""
    groups: list[tuple[str, Any, list[bytes]]] = []
    by_value: dict[Any, list[bytes]] = {}
    for name, value in tables.table.names.items():
        by_value.setdefault(value, []).append(name)
    groups += [("names", value, names) for value, names in by_value.items()]
    by_family: dict[str, list[bytes]] = {}
    for name, family in tables.table.suspects.items():
        by_family.setdefault(family, []).append(name)
    groups += [("suspects", family, names) for family, names in by_family.items()]
    blobs = [_SEP.join(names) for _, _, names in groups]
    for (_, _, names), blob in zip(groups, blobs, strict=True):
        if blob.count(_SEP) != len(names) - 1:  # a name holding the separator
            raise TableError("a planned name holds a line break")
    header = pickle.dumps(
        {
            "op": tables.op,
            "groups": [
                (kind, value, len(names), len(blob))
                for (kind, value, names), blob in zip(groups, blobs, strict=True)
            ],
        }
    )
    tmp = path.with_suffix(".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_MAGIC + _SIZE.pack(len(header)) + header)
            for blob in blobs:
                handle.write(blob)
        os.replace(tmp, path)
    except OSError as exc:
        raise TableError(f"cannot write the name table {path}: {exc.strerror}") from None


class TableReader:
    """Takes in a table file written by :func:`write`, one bounded step at a time."""

    def __init__(self, path: Path) -> None:
        try:
            self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 (closed by the last step)
        except OSError as exc:
            raise TableError(f"cannot read the name table {path}: {exc.strerror}") from None
        self.path = path
        try:
            head = self._file.read(len(_MAGIC) + _SIZE.size)
            if head[: len(_MAGIC)] != _MAGIC:
                raise TableError(f"{path}: not a name table")
            (size,) = _SIZE.unpack(head[len(_MAGIC) :])
            # our own file, 0600 in the 0700 data folder: nobody else can have written it
            header = pickle.loads(self._file.read(size))
        except (struct.error, pickle.UnpicklingError, EOFError) as exc:
            self._file.close()
            raise TableError(f"{path}: damaged name table ({exc})") from None
        except BaseException:
            self._file.close()
            raise
        self.op: operation.Operation = header["op"]
        self.records = records_for(self.op)
        self.names: dict[bytes, tuple[str, str]] = {}
        self.suspects: dict[bytes, str] = {}
        self._groups: list[tuple[str, Any, int, int]] = header["groups"]
        self._steps = self._take_in()

    def step(self) -> bool:
        """Take in the next slice of names; True once the whole table is in."""
        try:
            next(self._steps)
        except StopIteration:
            return True
        return False

    def tables(self) -> Tables:
        """The finished tables (after :meth:`step` returned True)."""
        return Tables(self.op, NameTable(self.names, self.suspects), self.records)

    def close(self) -> None:
        """Close the file (done by the last step)."""
        self._file.close()

    def _take_in(self) -> Iterator[None]:
        try:
            for kind, value, count, size in self._groups:
                target: dict[bytes, Any] = self.names if kind == "names" else self.suspects
                before = len(target)
                left, rest = size, b""
                while left > 0:
                    chunk = self._file.read(min(STEP_BYTES, left))
                    if not chunk:
                        raise TableError(f"{self.path}: name table cut short")
                    left -= len(chunk)
                    data = rest + chunk
                    if left:
                        cut = data.rfind(_SEP)
                        if cut < 0:
                            rest = data
                            continue
                        data, rest = data[:cut], data[cut + 1 :]
                    target.update(dict.fromkeys(data.split(_SEP), value))
                    yield
                if len(target) - before != count:
                    raise TableError(f"{self.path}: damaged name table (count mismatch)")
        finally:
            self._file.close()
