"""One dataset as sorted, non-overlapping intervals, looked up with numpy in bulk.

Every format loader feeds a `Builder` with ranges (start, end, version) and the
attributes it knows; `Builder.build` flattens nested ranges into elementary
segments that each point at their most specific record, so a lookup is one
`searchsorted` and one bound check per address, whatever the nesting.
IPv4 values are uint64; IPv6 values are 16-byte big-endian strings (numpy
compares fixed-width bytes in the same order as the numbers they encode).
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sinkhole.exceptions import SinkholeError

#: The attributes a dataset may give, in output order (prefix comes from the record's range).
FIELDS = ("asn", "as_name", "country", "abuse_contact")

Values = npt.NDArray[np.generic]

#: How many bytes of a file are read to tell its format.
HEAD = 8192


class AttributionError(SinkholeError):
    """An attribution dataset could not be read."""


@dataclass
class Side:
    """The segments of one address family: [starts[i], ends[i]] belongs to record recs[i]."""

    starts: Values
    ends: Values
    recs: npt.NDArray[np.int64]

    def find(self, values: Values) -> npt.NDArray[np.int64]:
        """The record holding each value, or -1."""
        if len(self.starts) == 0 or len(values) == 0:
            return np.full(len(values), -1, dtype=np.int64)
        index = np.searchsorted(self.starts, values, side="right") - 1
        safe = np.maximum(index, 0)
        hit = (index >= 0) & np.less_equal(values, self.ends[safe])
        return np.where(hit, self.recs[safe], -1)


@dataclass
class Table:
    """One loaded dataset: its records and the segments of each address family."""

    name: str
    kind: str
    v4: Side
    v6: Side
    version: npt.NDArray[np.int8]
    first: list[int]
    last: list[int]
    #: per record: the ASN (0: none) and, for string fields, codes into `values` (0: empty)
    columns: dict[str, npt.NDArray[np.int64]]
    #: the distinct strings of each string field, "" first
    values: dict[str, list[str]]
    #: higher is more specific (minus the bit length of the range size), per record
    spec: npt.NDArray[np.int64]
    #: ASN -> attributes every prefix of that ASN takes (override rows that give no prefix)
    by_asn: dict[int, dict[str, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.first)

    def prefixes(self, recs: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], list[str]]:
        """Prefix text of the records as (codes, texts): a CIDR, or `first-last` if unaligned."""
        wanted, inverse = np.unique(recs, return_inverse=True)
        texts = np.full(len(wanted), "", dtype=object)
        four = (wanted >= 0) & (self.version[np.maximum(wanted, 0)] == 4)
        if four.any():
            chosen = wanted[four].tolist()
            first = np.array([self.first[r] for r in chosen], dtype=np.uint64)
            last = np.array([self.last[r] for r in chosen], dtype=np.uint64)
            texts[four] = _v4_prefixes(first, last)
        for index in np.flatnonzero((wanted >= 0) & ~four).tolist():
            texts[index] = self._prefix(int(wanted[index]))
        return inverse.reshape(-1).astype(np.int64), [str(t) for t in texts]

    def _prefix(self, rec: int) -> str:
        make = ipaddress.IPv4Address if self.version[rec] == 4 else ipaddress.IPv6Address
        first, last = make(self.first[rec]), make(self.last[rec])
        nets = list(ipaddress.summarize_address_range(first, last))
        return str(nets[0]) if len(nets) == 1 else f"{first}-{last}"


def _v4_prefixes(first: npt.NDArray[np.uint64], last: npt.NDArray[np.uint64]) -> Values:
    """`a.b.c.d/len` for CIDR-aligned IPv4 ranges, `first-last` for the others, in bulk."""
    size = last - first + np.uint64(1)
    aligned = ((size & (size - np.uint64(1))) == 0) & ((first & (size - np.uint64(1))) == 0)
    length = 32 - np.log2(size.astype(np.float64)).astype(np.int64)
    cidr = pc.binary_join_element_wise(_dotted(first), pa.array(length).cast(pa.string()), "/")
    span = pc.binary_join_element_wise(_dotted(first), _dotted(last), "-")
    text = pc.if_else(pa.array(aligned), cidr, span)
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)


def _dotted(values: npt.NDArray[np.uint64]) -> pa.Array:
    octets = [
        pa.array((values >> np.uint64(s)) & np.uint64(255)).cast(pa.string())
        for s in (24, 16, 8, 0)
    ]
    joined: pa.Array = pc.binary_join_element_wise(*octets, ".")
    return joined


def address(text: str) -> tuple[int, int]:
    """(version, value) of an address in text; ValueError if it is not one.

    The C parser behind `socket.inet_pton`, since loaders parse millions of them.
    """
    try:
        if ":" in text:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        raise ValueError(f"{text!r} is not an IP address") from None


def prefix_range(text: str) -> tuple[int, int, int]:
    """(version, first, last) of a CIDR prefix in text (host bits ignored)."""
    base, sep, length = text.partition("/")
    version, value = address(base.strip())
    bits = 32 if version == 4 else 128
    if not sep or not length.strip().isdigit() or int(length) > bits:
        raise ValueError(f"{text!r} is not a CIDR prefix")
    host = (1 << (bits - int(length))) - 1
    return version, value & ~host, value | host


class Builder:
    """Collects ranges and attributes from a loader, then builds a `Table`."""

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.rows: list[tuple[int, int, int, int, str, str, str]] = []
        self.by_asn: dict[int, dict[str, str]] = {}

    def add(
        self,
        version: int,
        first: int,
        last: int,
        asn: int = 0,
        as_name: str = "",
        country: str = "",
        abuse_contact: str = "",
    ) -> None:
        """One range, inclusive at both ends; empty attributes are unknown (AS 0 is none).

        Raises ValueError (which every loader reports with the file and line) for an AS
        number outside 32 bits or an address outside its family's space.
        """
        if not 0 <= asn < 2**32:
            raise ValueError(f"AS number {asn} is not a 32-bit number")
        if not 0 <= first <= last < 2 ** (32 if version == 4 else 128):
            raise ValueError(f"addresses {first}..{last} are not an IPv{version} range")
        self.rows.append((version, first, last, asn, as_name, country, abuse_contact))

    def add_network(self, network: str, **attributes: str | int) -> None:
        """One CIDR prefix (host bits tolerated, as in real dumps)."""
        version, first, last = prefix_range(network)
        self.add(version, first, last, **attributes)  # type: ignore[arg-type]

    def build(self) -> Table:
        """The table: records in range order, nested ranges flattened into segments."""
        # outer ranges first where starts tie, so an inner range is pushed after its parent
        rows = sorted(self.rows, key=lambda r: (r[0], r[1], -r[2]))
        n = len(rows)
        version = np.array([r[0] for r in rows], dtype=np.int8)
        first = [r[1] for r in rows]
        last = [r[2] for r in rows]
        attrs: list[list[Any]] = [list(r[3:]) for r in rows]
        sides = {4: _flatten(rows, attrs, 4), 6: _flatten(rows, attrs, 6)}
        columns = {"asn": np.array([a[0] for a in attrs], dtype=np.int64).reshape(n)}
        values: dict[str, list[str]] = {}
        for index, name in enumerate(FIELDS[1:], start=1):
            codes: dict[str, int] = {"": 0}
            columns[name] = np.array(
                [codes.setdefault(a[index], len(codes)) for a in attrs], dtype=np.int64
            ).reshape(n)
            values[name] = list(codes)
        spec = np.array([-((b - a + 1).bit_length()) for a, b in zip(first, last, strict=True)])
        return Table(
            self.name,
            self.kind,
            sides[4],
            sides[6],
            version,
            first,
            last,
            columns,
            values,
            spec.astype(np.int64).reshape(n),
            self.by_asn,
        )


def _flatten(
    rows: list[tuple[int, int, int, int, str, str, str]], attrs: list[list[Any]], version: int
) -> Side:
    """Elementary segments of one family, each held by its innermost range.

    A nested range takes what it leaves empty from its parent (RPSL's inherited
    abuse-c, an override that only sets a contact); where two ranges overlap
    without nesting, the one that starts later holds the overlap.
    """
    if version == 4:
        # most published tables never nest (iptoasn, ip-location-db): no sweep needed there
        fours = np.array([i for i, row in enumerate(rows) if row[0] == 4], dtype=np.int64)
        first = np.array([rows[i][1] for i in fours.tolist()], dtype=np.uint64)
        last = np.array([rows[i][2] for i in fours.tolist()], dtype=np.uint64)
        if bool(np.all(first[1:] > last[:-1])):
            return Side(first, last, fours)
    starts: list[int] = []
    ends: list[int] = []
    recs: list[int] = []
    stack: list[tuple[int, int]] = []  # (last, record)
    cursor = 0

    def emit(upto: int, rec: int) -> None:
        nonlocal cursor
        if cursor <= upto:
            if recs and recs[-1] == rec and ends[-1] + 1 == cursor:
                ends[-1] = upto
            else:
                starts.append(cursor)
                ends.append(upto)
                recs.append(rec)
        cursor = upto + 1

    for rec, row in enumerate(rows):
        if row[0] != version:
            continue
        start, end = row[1], row[2]
        while stack and stack[-1][0] < start:
            emit(*stack.pop())
        if stack:
            emit(start - 1, stack[-1][1])
        while stack and stack[-1][0] < end:
            stack.pop()  # overlapped, not nested: the later range holds from its start on
        if stack:
            parent = attrs[stack[-1][1]]
            mine = attrs[rec]
            # an AS name belongs to its AS number: not inherited from a parent of another AS
            other_as = bool(mine[0]) and bool(parent[0]) and mine[0] != parent[0]
            for i, value in enumerate(mine):
                if not value and not (i == 1 and other_as):
                    mine[i] = parent[i]
        cursor = start
        stack.append((end, rec))
    while stack:
        emit(*stack.pop())
    if version == 4:
        return Side(
            np.array(starts, dtype=np.uint64),
            np.array(ends, dtype=np.uint64),
            np.array(recs, dtype=np.int64),
        )
    return Side(_v6(starts), _v6(ends), np.array(recs, dtype=np.int64))


def _v6(values: list[int]) -> Values:
    return np.array([v.to_bytes(16, "big") for v in values], dtype="S16")


def lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a text dataset, gzip or plain, as UTF-8."""
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if gzipped else path.open("rb") as handle:
            for number, data in enumerate(handle, start=1):
                yield number, data.decode("utf-8", errors="replace").rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        # a truncated .gz ends in EOFError; a damaged one in BadGzipFile (an OSError)
        message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise AttributionError(f"{path}: cannot read attribution dataset: {message}") from None


def head(path: Path, size: int = HEAD) -> bytes:
    """The first bytes of a dataset, decompressed when gzipped (for telling formats apart)."""
    try:
        with path.open("rb") as raw:
            start = raw.read(size)
        if start[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                return handle.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise AttributionError(f"{path}: cannot read attribution dataset: {message}") from None
    return start


def bad_row(path: Path, number: int, why: str) -> AttributionError:
    """The error for one row a loader cannot read."""
    return AttributionError(f"{path}:{number}: {why}")


def sample(start: bytes) -> list[bytes]:
    """The complete, non-blank lines of a file's first bytes (the last may be cut short)."""
    rows = start.splitlines()
    if rows and not start.endswith((b"\n", b"\r")) and len(start) >= HEAD:
        rows.pop()
    return [row.rstrip(b"\r") for row in rows if row.strip()]
