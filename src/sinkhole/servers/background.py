"""`sinkhole serve` in a child process, for programs that need a sinkhole while they run.

:func:`in_background` starts ``python -m sinkhole serve``, waits for its
"ready" line, and yields the addresses it listens on. Two threads read the
child's output for as long as it runs (a child whose pipe fills up would
block mid-packet): every stdout line is kept, and the last stderr lines, so
a caller can wait for a later line (``reloaded: ...``) and an early exit is
reported with the child's own last words. On leaving, SIGTERM: the child
flushes its events and stops.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sinkhole.exceptions import SinkholeError

#: stderr lines kept from the child (a chatty one must not fill the memory).
STDERR_LINES = 1000


class BackgroundError(SinkholeError):
    """The sinkhole in the background did not start, or stopped early."""


class Background:
    """A `sinkhole serve` child process: its listeners and what it has printed."""

    def __init__(self, process: subprocess.Popen[str], data: Path) -> None:
        self.process = process
        self.data = data
        self.listeners: dict[str, list[tuple[str, int]]] = {}
        #: Every stdout line, in order.
        self.lines: list[str] = []
        #: The last stderr lines.
        self.errors: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._changed = threading.Condition()
        self._open = 2
        self._readers = [
            threading.Thread(target=self._read, args=(stream, keep), daemon=True)
            for stream, keep in ((process.stdout, self.lines.append), (process.stderr, None))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str] | None, keep: Callable[[str], None] | None) -> None:
        if stream is not None:
            for line in stream:
                with self._changed:
                    (keep or self.errors.append)(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self._open -= 1
            self._changed.notify_all()

    def address(self, kind: str) -> tuple[str, int]:
        """The first listener of `kind` (dns, http, tls, tcp, udp, resolver)."""
        return self.listeners[kind][0]

    def wait_for(
        self, match: Callable[[str], bool], timeout: float, after: int = 0, stderr: bool = False
    ) -> str:
        """The first line (stdout, or stderr), from index `after` on, that `match` accepts."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                source = list(self.errors) if stderr else self.lines[after:]
                found = next((line for line in source if match(line)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or (self._open == 0 and self.process.poll() is not None):
                    last = self.errors[-1] if self.errors else "no message"
                    state = (
                        f"exited with {self.process.returncode}: {last}"
                        if self.process.poll() is not None
                        else f"no such line within {timeout:g} s"
                    )
                    raise BackgroundError(f"sinkhole serve {state}")
                self._changed.wait(min(left, 0.5))

    def _ready(self, timeout: float) -> None:
        self.wait_for(lambda line: line == "ready", timeout)
        for line in self.lines:
            if line.startswith("listening "):
                words = line.split()
                host, _, port = words[2].rpartition(":")
                self.listeners.setdefault(words[1], []).append((host.strip("[]"), int(port)))

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, wait for the flush (then kill), and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode


#: Set to a PID, `sinkhole serve` stops (flushing) when that process dies.
EXIT_WITH = "SINKHOLE_EXIT_WITH"


@contextmanager
def in_background(
    operation: Path, data: Path, args: Sequence[str] = (), timeout: float = 60.0
) -> Iterator[Background]:
    """Run `sinkhole serve OPERATION --data DATA ARGS...` until the block ends."""
    command = [sys.executable, "-m", "sinkhole", "serve", str(operation), "--data", str(data)]
    # a sinkhole must not outlive the program that needed it (and keep its ports and lock)
    env = {**os.environ, EXIT_WITH: str(os.getpid())}
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    running = Background(process, data)
    try:
        running._ready(timeout)
        yield running
    finally:
        running.stop()
