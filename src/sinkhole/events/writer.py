"""The write path: columnar buffers -> Arrow IPC write-ahead log -> Parquet by day.

Listeners append one tuple per event to a :class:`Buffer` (one list extend: the
cheapest thing Python can do on a hot path). A flush thread wakes every
``flush_interval`` seconds (250 ms by default), takes what the buffers hold, turns
them into one Arrow record batch, appends it to the current WAL segment (an
Arrow IPC stream) and fsyncs. Events are *durable* from then on. A segment is
closed after ``segment_seconds`` or ``segment_rows`` and converted into Parquet
files under ``events/day=YYYY-MM-DD/``; the WAL file is removed only once the
Parquet files are safely renamed into place.

If the disk is full or unwritable, the batch that failed is counted as
dropped, the listeners keep going, and the next flush tries a fresh segment:
writing resumes when space returns. On start-up, :func:`recover` turns any
leftover WAL segment into Parquet, reading every complete batch (a kill -9
can leave at most one partial batch, i.e. one flush interval, at the tail).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import ipc

from sinkhole.events import private
from sinkhole.events.schema import SCHEMA

log = logging.getLogger(__name__)

WAL_DIR = "wal"
EVENTS_DIR = "events"
STATS_DIR = "stats"
#: Files that could not be read, kept byte for byte under their relative name (never deleted).
QUARANTINE_DIR = "quarantine"
#: Suffix of the note written next to a quarantined file, saying why it is there.
REASON_SUFFIX = ".reason"


def now_us() -> int:
    """Microseconds since the epoch, the unit of the `timestamp` column."""
    return time.time_ns() // 1000


def warm_up() -> None:
    """Make one throw-away batch, so the libraries a flush pulls in (pyarrow loads pandas on
    its first conversion, ~40 MB) are loaded before serving, not during the first burst."""
    Buffer(("timestamp", "src_ip", "src_port"), {"protocol": "udp"}).to_batch([0, "", 0])


class Buffer:
    """Events of one shape: some columns vary per event, others are fixed.

    ``append`` takes one event as a tuple of the varying columns' values, in
    order. The values are kept in one flat list (an ``extend`` costs what an
    ``append`` costs, creates no row object, and a flat list becomes columns
    with one slice per column). `text_bytes` names varying text columns given
    as bytes: they are checked as UTF-8 by Arrow in bulk, and only a batch
    holding invalid UTF-8 is decoded value by value (backslash-escaped).
    """

    def __init__(
        self, columns: tuple[str, ...], fixed: dict[str, Any], text_bytes: tuple[str, ...] = ()
    ) -> None:
        unknown = [c for c in (*columns, *fixed) if c not in SCHEMA.names]
        if unknown:
            raise ValueError(f"unknown event columns: {', '.join(unknown)}")
        if "timestamp" not in columns:
            raise ValueError("a buffer needs a varying timestamp column")
        if not set(text_bytes) <= set(columns):
            raise ValueError("text_bytes columns must be varying columns")
        self.columns = columns
        self.fixed = fixed
        self.text_bytes = frozenset(text_bytes)
        self.values: list[Any] = []
        #: Add one event (a tuple of the varying columns' values); never rebound, so a
        #: listener holding it can never add to values already taken.
        self.append: Callable[[tuple[Any, ...]], None] = self.values.extend
        self._taking = threading.Lock()  # the loop and the flush thread both take
        self._fixed = {
            f.name: pa.scalar(fixed[f.name], f.type)
            for f in SCHEMA
            if f.name not in columns and fixed.get(f.name) is not None
        }

    def take(self) -> list[Any]:
        """The values gathered so far, removed from the buffer (safe against a concurrent append).

        The slice and the delete are one C call each and an append is one too, so an
        event added in between lands after the taken part and stays for the next take.
        """
        values = self.values
        with self._taking:
            size = len(values)
            taken = values[:size]
            del values[:size]
        return taken

    def to_batch(self, values: list[Any]) -> pa.RecordBatch:
        """Taken values (events one after another) as a record batch in the store's schema."""
        width = len(self.columns)
        count, odd = divmod(len(values), width)
        if odd:
            raise ValueError(f"{len(values)} values do not make events of {width} columns")
        varying = {name: values[i::width] for i, name in enumerate(self.columns)}
        arrays = []
        for schema_field in SCHEMA:
            name, dtype = schema_field.name, schema_field.type
            column = varying.get(name)
            if column is not None:
                arrays.append(self._array(name, column, dtype, count))
            elif name in self._fixed:
                arrays.append(pa.repeat(self._fixed[name], count))
            else:
                arrays.append(pa.nulls(count, dtype))
        return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)

    def _array(self, name: str, column: list[Any], dtype: pa.DataType, count: int) -> pa.Array:
        if name == "timestamp":
            return pa.array(column, pa.int64()).cast(dtype)
        first = column[0] if column else None
        # one C-speed pass: constant columns (the family, the method, no referer) are common
        if column.count(first) == count:
            if first is None:
                return pa.nulls(count, dtype)
            if name in self.text_bytes:
                first = _text(first)
            return pa.repeat(pa.scalar(first, dtype), count)
        if name in self.text_bytes:
            binary = pa.array(column, pa.binary())
            try:
                return binary.cast(dtype)
            except pa.ArrowInvalid:  # invalid UTF-8 somewhere: escape it like the text path
                return pa.array([_text(v) for v in column], dtype)
        return pa.array(column, dtype)


def _text(value: bytes | str | None) -> str | None:
    """A text column's value given as bytes, decoded (invalid UTF-8 backslash-escaped)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return value


@dataclass
class WriterStats:
    """Counters a sensor publishes (stats files, `sinkhole stats`, logs)."""

    accepted: int = 0
    durable: int = 0
    dropped: int = 0
    flushes: int = 0
    failed_flushes: int = 0
    segments: int = 0
    last_error: str = ""
    per_application: dict[str, int] = field(default_factory=dict)


class EventWriter:
    """One sensor's writer: buffers, a flush thread, WAL segments and Parquet output."""

    def __init__(
        self,
        root: Path,
        sensor: str,
        flush_interval: float = 0.25,
        segment_seconds: float = 60.0,
        segment_rows: int = 2_000_000,
    ) -> None:
        self.root = Path(root)
        self.sensor = sensor
        self.flush_interval = flush_interval
        self.segment_seconds = segment_seconds
        self.segment_rows = segment_rows
        self.stats = WriterStats()
        self._buffers: list[Buffer] = []
        self._pending: list[pa.RecordBatch | pa.Table] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wal: ipc.RecordBatchStreamWriter | None = None
        self._wal_file: Any = None
        self._wal_path: Path | None = None
        self._wal_rows = 0
        self._wal_opened = 0.0
        self._seq = 0
        self._running = False
        #: Set by a worker: listener counters to publish with the writer's own.
        self.counters_source: Callable[[], dict[str, dict[str, int]]] | None = None

    # -- the listeners' side -------------------------------------------------

    def buffer(
        self, columns: tuple[str, ...], text_bytes: tuple[str, ...] = (), **fixed: Any
    ) -> Buffer:
        """A new buffer for events with these varying `columns` and `fixed` values.

        `text_bytes`: varying text columns whose values are given as bytes (see Buffer).
        """
        buf = Buffer(columns, fixed, text_bytes)
        with self._lock:
            self._buffers.append(buf)
        return buf

    def append_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Queue prebuilt rows in the store's schema (bulk producers such as the emulator)."""
        if batch.schema.remove_metadata() != SCHEMA:
            batch = batch.select(SCHEMA.names).cast(SCHEMA)
        with self._lock:
            self._pending.append(batch)

    def write_table(self, table: pa.Table) -> int:
        """Write rows straight to day-partitioned Parquet, skipping the WAL.

        For reproducible bulk producers (the offline emulator, imports): their
        input can be produced again, so the WAL's crash safety buys nothing and
        would double the I/O. Returns the rows written.
        """
        if table.schema.remove_metadata() != SCHEMA:
            table = table.select(SCHEMA.names).cast(SCHEMA)
        self._seq += 1
        stem = f"{self.sensor}-bulk-{os.getpid()}-{self._seq:06d}"
        rows = _write_days(table, self.root, stem)
        with self._lock:
            self.stats.accepted += rows
            self.stats.durable += rows
            self.stats.flushes += 1
        return rows

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> EventWriter:
        """Start the flush thread."""
        warm_up()
        self._running = True
        self._thread = threading.Thread(target=self._run, name=f"flush-{self.sensor}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> WriterStats:
        """Flush everything, close the segment into Parquet, stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()
        self._close_segment()
        self._running = False
        self._write_stats()
        return self.stats

    def __enter__(self) -> EventWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()
            if self._wal is not None and (
                self._wal_rows >= self.segment_rows
                or time.monotonic() - self._wal_opened >= self.segment_seconds
            ):
                self._close_segment()
            self._write_stats()

    # -- flushing ------------------------------------------------------------

    def collect(self) -> int:
        """Turn the buffered rows into record batches, queued for the next write.

        A busy event loop can starve the flush thread of the GIL; a worker calls this
        from its own loop every flush interval, so rows never pile up in Python lists
        (the thread then only writes and fsyncs, which release the GIL).
        """
        taken = [(buf, buf.take()) for buf in self._buffers]
        batches = [buf.to_batch(values) for buf, values in taken if values]
        if batches:
            with self._lock:
                self._pending.extend(batches)
        return sum(batch.num_rows for batch in batches)

    def flush(self) -> int:
        """Write what the buffers hold to the WAL and fsync; returns events made durable."""
        self.collect()
        with self._lock:
            batches: list[pa.RecordBatch] = []
            for item in self._pending:
                batches.extend(item.to_batches() if isinstance(item, pa.Table) else [item])
            self._pending = []
            count: int = sum(int(b.num_rows) for b in batches)
            if not count:
                return 0
            self.stats.accepted += count
            try:
                self._write_batches(batches)
            except OSError as exc:
                self.stats.dropped += count
                self.stats.failed_flushes += 1
                self.stats.last_error = f"{exc.strerror or exc}"
                log.warning("event store write failed (%s); %d events dropped", exc, count)
                self._abandon_segment()
                return 0
            self.stats.durable += count
            self.stats.flushes += 1
        return count

    def _write_batches(self, batches: Iterable[pa.RecordBatch]) -> None:
        if self._wal is None:
            self._open_segment()
        assert self._wal is not None
        for batch in batches:
            self._wal.write_batch(batch)
            self._wal_rows += batch.num_rows
        self._wal_file.flush()
        os.fsync(self._wal_file.fileno())

    def _open_segment(self) -> None:
        folder = private.folder(self.root / WAL_DIR)
        self._seq += 1
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = folder / f"{self.sensor}-{stamp}-{os.getpid()}-{self._seq:06d}.arrows"
        handle = private.open_file(path)  # closed in _close_segment
        try:
            self._wal = ipc.new_stream(handle, SCHEMA)
        except Exception:
            handle.close()
            raise
        self._wal_file, self._wal_path = handle, path
        self._wal_rows, self._wal_opened = 0, time.monotonic()

    def _abandon_segment(self) -> None:
        """After a failed write: close what we can; the file keeps its complete batches."""
        try:
            if self._wal is not None:
                self._wal.close()
        except (OSError, pa.ArrowException):
            pass
        try:
            if self._wal_file is not None:
                self._wal_file.close()
        except OSError:
            pass
        self._wal = self._wal_file = None

    def _close_segment(self) -> None:
        if self._wal is None or self._wal_path is None:
            return
        path = self._wal_path
        try:
            self._wal.close()
            self._wal_file.flush()
            os.fsync(self._wal_file.fileno())
            self._wal_file.close()
        except OSError as exc:
            self.stats.last_error = f"{exc.strerror or exc}"
        self._wal = self._wal_file = None
        self._wal_path = None
        self.stats.segments += 1
        try:
            segment_to_parquet(path, self.root)
        except OSError as exc:
            # the WAL stays; the next start-up's recover() converts it
            self.stats.last_error = f"{exc.strerror or exc}"
            log.warning("could not convert %s to Parquet (%s); kept for recovery", path.name, exc)

    def _write_stats(self) -> None:
        try:
            folder = private.folder(self.root / STATS_DIR)
            tmp = folder / f".{self.sensor}.json.tmp"
            document: dict[str, Any] = {"sensor": self.sensor, "pid": os.getpid()}
            document["time"] = time.time()
            document["running"] = self._running
            document.update(vars(self.stats))
            if self.counters_source is not None:
                document["listeners"] = self.counters_source()
            private.write_text(tmp, json.dumps(document))
            os.replace(tmp, folder / f"{self.sensor}.json")
        except OSError:
            pass


def conform(table: pa.Table) -> pa.Table:
    """`table` in the store's schema: known columns cast, missing ones null (or ArrowInvalid)."""
    if table.schema == SCHEMA:
        return table
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def _wal_batches(path: Path, trouble: list[str]) -> Iterator[pa.RecordBatch]:
    """Every complete batch of a WAL segment, one at a time, in the store's schema.

    What could not be read after them is appended to `trouble` (nothing when all was read).
    Raises FileNotFoundError when the segment is gone (converted since it was listed).
    """
    with open(path, "rb") as handle:
        try:
            reader = ipc.open_stream(handle)
        except (pa.ArrowException, OSError) as exc:
            trouble.append(f"not an Arrow IPC stream ({_one_line(exc)})")
            return
        read = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                trouble.append(f"cut or damaged after {read} complete batches ({_one_line(exc)})")
                return
            try:
                table = conform(pa.Table.from_batches([batch]))
            except pa.ArrowException as exc:
                trouble.append(f"columns do not fit the event schema ({_one_line(exc)})")
                return
            read += 1
            yield from table.to_batches()


def _read_wal(path: Path) -> tuple[pa.Table, str]:
    """Every complete batch of a WAL segment, and what could not be read after them ('' if none).

    Raises FileNotFoundError when the segment is gone (converted since it was listed).
    """
    trouble: list[str] = []
    batches = list(_wal_batches(path, trouble))
    if trouble and trouble[0].startswith("columns"):
        return SCHEMA.empty_table(), trouble[0]
    return pa.Table.from_batches(batches, schema=SCHEMA), "".join(trouble)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "strerror", None) or exc).split())
    return text[:200]


def read_segment(path: Path) -> tuple[pa.Table, bool]:
    """Every complete batch of a WAL segment, and whether anything after them was unreadable."""
    table, problem = _read_wal(path)
    return table, bool(problem)


def segment_to_parquet(path: Path, root: Path) -> int:
    """Convert one WAL segment into day-partitioned Parquet, then remove it; returns rows.

    A segment is deleted only when every byte of it was read; otherwise it is moved
    to the quarantine folder (its complete batches are in Parquet all the same).
    """
    return _convert(path, Path(root))[0]


def _convert(path: Path, root: Path) -> tuple[int, str, bool]:
    """(rows converted, what could not be read, whether the segment went to quarantine).

    Streams: batch by batch into one Parquet writer per day, so memory holds about one
    row group per day, not the segment (a full one is 2 million rows).
    """
    trouble: list[str] = []
    with _DayFiles(root, path.stem) as files:
        for batch in _wal_batches(path, trouble):
            files.add(batch)
        if trouble and trouble[0].startswith("columns"):
            files.discard()  # as before: a segment that does not fit converts to nothing
    rows = files.rows
    problem = "".join(trouble)
    if problem and path.stat().st_size > 0:
        moved = quarantine(
            root,
            path,
            f"WAL segment {problem}; its {rows} readable events are in {EVENTS_DIR}/"
            f"{files.days_note()}/{path.stem}.parquet",
        )
        return rows, problem, moved is not None
    path.unlink()
    return rows, problem, False


class _DayFiles:
    """One private Parquet file per UTC day, written a row group at a time, renamed in at exit.

    Nothing becomes visible until every day's file is complete and fsynced; on an error
    the temporary files are removed and the segment stays where it is.
    """

    ROW_GROUP = 128 * 1024

    def __init__(self, root: Path, stem: str) -> None:
        self.root, self.stem = Path(root), stem
        self.rows = 0
        self._open: dict[dt.date, tuple[Any, pq.ParquetWriter, Path, Path]] = {}
        self._held: dict[dt.date, list[pa.RecordBatch]] = {}
        self._discard = False

    def add(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        days = pc.cast(batch.column("timestamp"), pa.date32())
        first, last = pc.min(days).as_py(), pc.max(days).as_py()
        parts = (
            [(first, batch)]
            if first == last
            else [
                (day, batch.filter(pc.equal(days, pa.scalar(day, pa.date32()))))
                for day in pc.unique(days).to_pylist()
            ]
        )
        for day, part in parts:
            held = self._held.setdefault(day, [])
            held.append(part)
            if sum(b.num_rows for b in held) >= self.ROW_GROUP:
                self._write(day)
        self.rows += batch.num_rows

    def _write(self, day: dt.date) -> None:
        held = self._held.pop(day, [])
        if not held:
            return
        if day not in self._open:
            folder = private.folder(self.root / EVENTS_DIR / f"day={day.isoformat()}")
            final = folder / f"{self.stem}.parquet"
            tmp = folder / f".{self.stem}.parquet.tmp"
            handle = private.open_file(tmp)
            try:
                pq_writer = pq.ParquetWriter(handle, SCHEMA, compression="zstd")
            except BaseException:
                handle.close()
                raise
            self._open[day] = (handle, pq_writer, tmp, final)
        self._open[day][1].write_table(pa.Table.from_batches(held, schema=SCHEMA))

    def discard(self) -> None:
        self._discard = True

    def days_note(self) -> str:
        days = sorted(self._open)
        if not days:
            return "(no day)"
        return f"day={days[0]}" if days[0] == days[-1] else f"day={days[0]}..day={days[-1]}"

    def __enter__(self) -> _DayFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        failed = kind is not None or self._discard
        try:
            if not failed:
                for day in list(self._held):
                    self._write(day)
        except BaseException:
            failed = True
            raise
        finally:
            self._finish(failed)

    def _finish(self, failed: bool) -> None:
        done: list[tuple[Path, Path]] = []
        try:
            for handle, pq_writer, tmp, final in self._open.values():
                try:
                    pq_writer.close()
                    if not failed:
                        handle.flush()
                        os.fsync(handle.fileno())
                finally:
                    handle.close()
                done.append((tmp, final))
        except BaseException:
            failed = True
            raise
        finally:
            for tmp, final in done:
                if failed:
                    tmp.unlink(missing_ok=True)
                else:
                    os.replace(tmp, final)
            if failed:
                self.rows = 0
                for _, _, tmp, _ in self._open.values():
                    tmp.unlink(missing_ok=True)


def quarantine(root: Path, path: Path, reason: str) -> Path | None:
    """Move an unreadable file to ``quarantine/<its name under root>`` with a note saying why.

    The file is moved, never copied or rewritten, so its bytes stay as they were.
    Returns the new path, or None when another process moved it first or the
    move failed (logged; the file then stays where it is).
    """
    root = Path(root)
    try:
        relative = path.relative_to(root)
    except ValueError:
        relative = Path(path.name)
    target = root / QUARANTINE_DIR / relative
    try:
        private.folder(target.parent)
        target = _move_aside(path, target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning(
            "unreadable %s skipped, left in place (cannot move it to %s: %s): %s",
            path,
            target.parent,
            exc.strerror or exc,
            reason,
        )
        return None
    with contextlib.suppress(OSError):  # the file itself is safe; the note is a courtesy
        note = target.with_name(target.name + REASON_SUFFIX)
        private.write_text(note, f"{relative}: {reason}\n")
    log.warning("unreadable %s moved to %s: %s", path, target, reason)
    return target


def _move_aside(path: Path, target: Path) -> Path:
    """Move `path` to `target` (or `target.N` if taken) without ever replacing a file."""
    for n in range(1000):
        candidate = target if n == 0 else target.with_name(f"{target.name}.{n}")
        try:
            # a hard link never replaces an existing name, unlike rename
            os.link(path, candidate, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) or candidate.exists():
                raise
            os.rename(path, candidate)  # no hard links on this file system
            return candidate
        try:
            path.unlink()
        except FileNotFoundError:
            # another process moved it at the same moment: keep one quarantined copy
            candidate.unlink()
            raise
        return candidate
    raise OSError(f"too many quarantined files named {target.name}")


def quarantined(root: Path) -> list[Path]:
    """The files in the quarantine folder of `root` (without their notes)."""
    folder = Path(root) / QUARANTINE_DIR
    if not folder.exists():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(REASON_SUFFIX)
    )


def _write_days(table: pa.Table, root: Path, stem: str) -> int:
    """Split rows by UTC day and write one Parquet file per day."""
    if table.num_rows:
        days = pc.cast(table.column("timestamp"), pa.date32())
        for day in pc.unique(days).to_pylist():
            part = table.filter(pc.equal(days, pa.scalar(day, pa.date32())))
            write_parquet(part, root, day, stem)
    rows: int = table.num_rows
    return rows


def write_parquet(table: pa.Table, root: Path, day: dt.date, stem: str) -> Path:
    """Write one day's rows as a Parquet file, atomically and private (0600 in 0700 folders)."""
    folder = private.folder(root / EVENTS_DIR / f"day={day.isoformat()}")
    final = folder / f"{stem}.parquet"
    tmp = folder / f".{stem}.parquet.tmp"
    with private.open_file(tmp) as handle:
        pq.write_table(table, handle, compression="zstd")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    return final


@dataclass(frozen=True)
class Recovery:
    """What start-up recovery found in leftover WAL segments."""

    segments: int
    events: int
    truncated: int
    quarantined: int = 0


def recover(root: Path) -> Recovery:
    """Turn every leftover WAL segment under `root` into Parquet.

    Segments with unreadable bytes (a tail cut by a crash, garbage) are quarantined,
    not deleted, after their complete batches are converted.
    """
    folder = Path(root) / WAL_DIR
    segments = events = truncated = moved = 0
    for path in sorted(folder.glob("*.arrows")) if folder.exists() else []:
        rows, problem, aside = _convert(path, Path(root))
        events += rows
        segments += 1
        truncated += int(bool(problem))
        moved += int(aside)
    return Recovery(segments, events, truncated, moved)
