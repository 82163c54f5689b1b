"""Shipping: a sensor's closed Parquet segments copied to a shared store, each exactly once.

The shared store is a URL, ``s3://bucket/prefix`` (any S3-compatible service;
endpoint, region and credentials from the standard AWS environment variables
and config files, through pyarrow's S3 file system) or a folder on a shared file
system. A segment keeps its name there: ``events/day=YYYY-MM-DD/<stem>.parquet``,
where the stem of a serving sensor's segment names the sensor, the worker, the
time the segment was opened, the process and a sequence number. The same
segment is therefore always written under the same name, and readers of several
stores take each name once.

For each closed segment, in order:

1. its footer is checked (an unreadable segment goes to the local quarantine,
   as a read would do, and is not shipped);
2. if the name already exists in the shared store with the same bytes (an
   earlier run uploaded it and crashed before recording it), it is recorded;
   with other bytes, it is a conflict: reported, never overwritten;
3. otherwise it is uploaded (an S3 object appears only once complete; in a
   folder it is written to a hidden temporary name and linked in), and the
   upload is confirmed by reading back the stored size;
4. the confirmation is appended to the manifest (``ship/manifest.jsonl`` in
   the data folder, fsynced);
5. only then, with ``delete_local``, is the local segment removed.

A crash at any step leaves the segment pending (or recorded twice with the
same name, which is harmless); the next pass picks it up. Each pass lists the
shared store's day folders it ships into, so a segment recorded but gone from
there (a bucket emptied or recreated) is shipped again while its local copy
exists. A pass stops at the
first failure (a bucket that vanished, a dropped connection) and is retried
with exponential back-off, up to a minute apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from sinkhole.events import private, sources, store
from sinkhole.events.writer import EVENTS_DIR, WAL_DIR, quarantine
from sinkhole.exceptions import SinkholeError

log = logging.getLogger(__name__)

SHIP_DIR = "ship"
MANIFEST = "manifest.jsonl"
STATE = "state.json"
#: Bytes read or written at a time.
CHUNK = 8 << 20
#: Longest wait between two failed passes (seconds).
MAX_BACKOFF = 60.0


class ShipError(SinkholeError):
    """Segments could not be shipped."""


@dataclass
class Pass:
    """What one shipping pass did."""

    shipped: int = 0
    bytes: int = 0
    #: found complete in the shared store already (uploaded by a run that then crashed)
    recorded: int = 0
    deleted: int = 0
    quarantined: int = 0
    pending: int = 0
    conflicts: list[str] = field(default_factory=list)
    error: str = ""


def local_segments(root: Path) -> list[Path]:
    """The closed Parquet segments of a local store, oldest day first."""
    folder = Path(root) / EVENTS_DIR
    if not folder.exists():
        return []
    return sorted(p for p in folder.glob("day=*/*.parquet") if not p.name.startswith("."))


def _name(path: Path) -> str:
    """A segment's name in every store: ``day=YYYY-MM-DD/<stem>.parquet``."""
    return f"{path.parent.name}/{path.name}"


def manifest(root: Path) -> dict[str, set[str]]:
    """Segment names confirmed in each shared store (URL), from the manifest."""
    path = Path(root) / SHIP_DIR / MANIFEST
    confirmed: dict[str, set[str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return confirmed
    except OSError as exc:
        raise ShipError(f"cannot read the shipping manifest {path}: {exc.strerror}") from None
    for line in lines:
        try:
            entry = json.loads(line)
            confirmed.setdefault(str(entry["to"]), set()).add(str(entry["segment"]))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash: that segment is checked again and recorded
    return confirmed


def pending(root: Path, url: str) -> list[Path]:
    """Local segments not yet confirmed in the shared store at `url`."""
    done = manifest(root).get(url, set())
    return [p for p in local_segments(root) if _name(p) not in done]


def status(root: Path) -> dict[str, Any] | None:
    """What `stats` shows about shipping: target, shipped, pending, last error (None: never)."""
    state_path = Path(root) / SHIP_DIR / STATE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("to"), str):
        return None
    url = state["to"]
    waiting = pending(root, url)
    wal = Path(root) / WAL_DIR
    return {
        "to": url,
        "shipped": len(manifest(root).get(url, set())),
        "pending": len(waiting),
        "pending_bytes": sum(_size(p) for p in waiting),
        "open_segments": len(list(wal.glob("*.arrows"))) if wal.exists() else 0,
        "last_pass": state.get("time"),
        "last_error": state.get("error", ""),
        "conflicts": state.get("conflicts", []),
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


class Shipper:
    """Ships one local store's closed segments to one shared store."""

    def __init__(self, root: Path, url: str, delete_local: bool = False) -> None:
        self.root = Path(root)
        self.url = url
        self.target = sources.parse(url)
        if self.target.folder is not None:
            self.target = sources.Source(url, folder=self.target.folder.absolute())
            if self.target.folder == self.root.absolute():
                raise ShipError(f"--to {url}: the shared store cannot be the local store itself")
        self.delete_local = delete_local
        self.failures = 0

    # -- one pass ------------------------------------------------------------

    def ship_pass(self) -> Pass:
        """Ship every pending segment; stop at the first failure (reported, not raised).

        The shared store is listed (the day folders of the local segments only): a
        segment recorded as shipped but missing there (a bucket emptied or recreated)
        is shipped again while its local copy exists.
        """
        result = Pass()
        done = manifest(self.root).get(self.url, set())
        try:
            fs = self.target.filesystem()
            segments = local_segments(self.root)
            stored = self._listing(fs, sorted({p.parent.name for p in segments}))
        except (sources.SourceError, OSError) as exc:
            result.error = exc.message if isinstance(exc, SinkholeError) else _one_line(exc)
        else:
            for path in segments:
                name = _name(path)
                try:
                    if name in done and stored.get(name) == _size(path):
                        self._drop_local(path, result)  # confirmed, and still there
                        continue
                    self._ship_one(fs, path, name, stored.get(name), result)
                except FileNotFoundError:
                    continue  # quarantined, a conflict, or removed by another process
                except OSError as exc:
                    result.error = f"{name}: {_one_line(exc)}"
                    break
                done.add(name)
        result.pending = len(pending(self.root, self.url))
        self._write_state(result)
        return result

    def _listing(self, fs: pafs.FileSystem, days: list[str]) -> dict[str, int]:
        """Sizes of the segments the shared store holds in these day folders."""
        found: dict[str, int] = {}
        for day in days:
            selector = pafs.FileSelector(f"{self.target.events_path()}/{day}", allow_not_found=True)
            for info in fs.get_file_info(selector):
                if info.type == pafs.FileType.File and not info.base_name.startswith("."):
                    found[f"{day}/{info.base_name}"] = int(info.size or 0)
        return found

    def _ship_one(
        self, fs: pafs.FileSystem, path: Path, name: str, existing: int | None, result: Pass
    ) -> None:
        reason = store.check_segment(path)
        if reason:
            if quarantine(self.root, path, reason) is not None:
                result.quarantined += 1
            raise FileNotFoundError(path)
        sha256, size = _digest(path)
        dest = f"{self.target.events_path()}/{name}"
        if existing is not None:
            if existing == size and self._remote_digest(fs, dest) == sha256:
                result.recorded += 1
            else:
                result.conflicts.append(name)
                log.warning("%s exists in %s with other bytes: not overwritten", name, self.url)
                raise FileNotFoundError(path)  # left pending locally, never deleted
        else:
            self._upload(fs, path, dest)
            stored = fs.get_file_info(dest)
            if stored.type != pafs.FileType.File or stored.size != size:
                raise OSError(f"upload not confirmed: stored size {stored.size}, local {size}")
            result.shipped += 1
            result.bytes += size
        self._record(name, dest, size, sha256)
        self._drop_local(path, result)

    def _remote_digest(self, fs: pafs.FileSystem, dest: str) -> str:
        hasher = hashlib.sha256()
        with fs.open_input_stream(dest) as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()

    def _upload(self, fs: pafs.FileSystem, path: Path, dest: str) -> None:
        if self.target.folder is not None:
            self._copy_to_folder(path, Path(dest))
            return
        # an S3 object (single or multipart upload) becomes visible only when complete
        with open(path, "rb") as src, fs.open_output_stream(dest) as out:
            while chunk := src.read(CHUNK):
                out.write(chunk)

    def _copy_to_folder(self, path: Path, dest: Path) -> None:
        """Write to a hidden private name, fsync, then link in (never replacing a file)."""
        folder = private.folder(dest.parent)
        for stale in folder.glob(f".{dest.name}.*.tmp"):  # left by a run killed mid-copy
            with contextlib.suppress(OSError):
                stale.unlink()
        tmp = folder / f".{dest.name}.{secrets.token_hex(4)}.tmp"
        try:
            with open(path, "rb") as src, private.open_file(tmp) as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, dest)
            except FileExistsError:
                raise OSError(f"{dest} appeared during the copy") from None
            except OSError:
                if dest.exists():
                    raise
                os.rename(tmp, dest)  # no hard links on this file system
            _fsync_folder(folder)
        finally:
            tmp.unlink(missing_ok=True)

    def _record(self, name: str, dest: str, size: int, sha256: str) -> None:
        folder = private.folder(self.root / SHIP_DIR)
        line = json.dumps(
            {
                "segment": name,
                "to": self.url,
                "path": dest,
                "bytes": size,
                "sha256": sha256,
                "time": time.time(),
            }
        )
        path = folder / MANIFEST
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags, private.FILE_MODE)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def _drop_local(self, path: Path, result: Pass) -> None:
        if self.delete_local:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                result.deleted += 1

    def _write_state(self, result: Pass) -> None:
        try:
            folder = private.folder(self.root / SHIP_DIR)
            document = {"to": self.url, "time": time.time(), **asdict(result)}
            tmp = folder / f".{STATE}.tmp"
            private.write_text(tmp, json.dumps(document))
            os.replace(tmp, folder / STATE)
        except OSError as exc:
            log.warning("cannot write the shipping state: %s", exc.strerror or exc)

    # -- retries -------------------------------------------------------------

    def backoff(self) -> float:
        """Seconds to wait after the current run of failures (doubling, jittered, capped)."""
        if not self.failures:
            return 0.0
        ceiling = min(MAX_BACKOFF, 0.5 * 2 ** min(self.failures, 16))
        return float(ceiling * random.uniform(0.5, 1.0))

    def until_done(
        self,
        attempts: int = 6,
        sleep: Callable[[float], object] = time.sleep,
        report: Callable[[Pass], None] | None = None,
    ) -> Pass:
        """Passes with back-off until nothing is pending or `attempts` passes failed."""
        total = Pass()
        for attempt in range(max(1, attempts)):
            if attempt:
                sleep(self.backoff())  # never after the last pass: the caller is told now
            result = self.ship_pass()
            _add(total, result)
            if report is not None:
                report(result)
            if not result.error:
                self.failures = 0
                break
            self.failures += 1
        return total

    def run(self, stop: threading.Event, every: float = 5.0) -> None:
        """Ship until `stop` is set: a pass every `every` seconds, backing off on failures."""
        while True:
            result = self.ship_pass()
            if result.error:
                self.failures += 1
                log.warning("shipping to %s failed (%s); retrying", self.url, result.error)
            else:
                self.failures = 0
            if stop.wait(max(every, self.backoff())):
                return


def _add(total: Pass, result: Pass) -> None:
    total.shipped += result.shipped
    total.bytes += result.bytes
    total.recorded += result.recorded
    total.deleted += result.deleted
    total.quarantined += result.quarantined
    total.conflicts.extend(c for c in result.conflicts if c not in total.conflicts)
    total.pending = result.pending
    total.error = result.error


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Background:
    """Shipping in a thread of the serving parent (never in a DNS or HTTP worker)."""

    def __init__(
        self, root: Path, url: str, every: float = 5.0, delete_local: bool = False
    ) -> None:
        self.shipper = Shipper(root, url, delete_local)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ship", daemon=True)

    def start(self) -> Background:
        """Start the shipping thread."""
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.shipper.run(self._stop, self.every)
        except Exception:  # a bug here must not stop the sinkhole; the segments stay pending
            log.exception("shipping stopped")

    def stop(self) -> None:
        """Stop the thread (it finishes the upload in hand)."""
        self._stop.set()
        self._thread.join()

    def final(self, attempts: int = 3) -> Pass:
        """One last shipping run after the workers closed their segments."""
        return self.shipper.until_done(attempts)


def demo(root: Path, shared: Path, say: Callable[[str], None] = print) -> Pass:
    """The demo's act: ship a store's closed segments to a shared folder, then read both
    back as one store (each segment once)."""
    result = Shipper(root, str(shared)).until_done(attempts=2)
    say(
        f"shipped {result.shipped} segments ({result.bytes / 1e6:.1f} MB) to {shared}; "
        f"pending {result.pending}; manifest: {Path(root) / SHIP_DIR / MANIFEST}"
    )
    local, copy, both = store.count(root), store.count(shared), store.count([root, shared])
    say(
        f"events: local store {local:,}; shared store {copy:,}; "
        f"both read together {both:,} (a segment seen twice is read once)"
    )
    return result
