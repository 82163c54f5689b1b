"""What one `sinkhole serve` holds alone: its data folder and its listening addresses.

The workers share their sockets through SO_REUSEPORT, which would as gladly
share them with a stranger: a second `serve` (or any program using the option)
on the same address would take half the traffic without a word. So before the
workers bind, every address is proved free with a probe socket that does not
use the option, then held by a socket that does until the workers listen. A
port 0 gets a free port the same way. The data folder is locked (flock on
``serve.lock``, which names the holder's PID), so two writers never share a
write-ahead log; the lock goes with the last process that holds it, workers
included.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from pathlib import Path

from sinkhole.exceptions import SinkholeError

LOCK_NAME = "serve.lock"
_KIND_NAMES = {socket.SOCK_DGRAM: "udp", socket.SOCK_STREAM: "tcp"}


class ClaimError(SinkholeError):
    """Another process holds the data folder or a listening address."""


class DataLock:
    """An exclusive lock on a data folder, held from :meth:`acquire` to :meth:`release`."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> DataLock:
        """Take the lock and write our PID into it, or raise naming the PID that holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ClaimError(f"cannot lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise ClaimError(
                    f"the data folder {self.path.parent} is in use by another "
                    f"sinkhole serve (PID {holder})"
                ) from None
            raise ClaimError(f"cannot lock {self.path}: {exc.strerror}") from None
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        """Let the lock go (forked workers that still hold it keep it until they exit)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _shared(host: str, port: int, kind: socket.SocketKind) -> socket.socket:
    """A socket bound to host:port with SO_REUSEPORT, as the workers' will be."""
    sock = socket.socket(_family(host), kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def probe(host: str, port: int, kind: socket.SocketKind) -> None:
    """Raise unless host:port is free for `kind`, even of sockets that use SO_REUSEPORT."""
    sock = socket.socket(_family(host), kind)
    try:
        if kind == socket.SOCK_STREAM:
            # connections of an earlier run in TIME_WAIT do not hold the port; listeners do
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(1)
    except OSError as exc:
        where = f"{_shown(host, port)} ({_KIND_NAMES[kind]})"
        if exc.errno == errno.EADDRINUSE:
            raise ClaimError(f"cannot listen on {where}: another process holds it") from None
        raise ClaimError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    finally:
        sock.close()


#: One listener's address: (host, port, the socket kinds it needs); port 0 asks for a free one.
Wanted = tuple[str, int, tuple[socket.SocketKind, ...]]


def claim(wanted: list[Wanted]) -> tuple[list[int], list[socket.socket]]:
    """Claim every address in `wanted`; returns the ports (port 0 resolved) and the holders.

    Every given address is probed first, then all are held: a wildcard address and a
    specific one on the same port (``0.0.0.0:53`` and a redirected resolver's
    ``192.0.2.54:53``) both belong to this sinkhole, and a probe after the first holder
    would take it for a stranger. The holders are bound with SO_REUSEPORT, so the workers
    can bind beside them; until they have, the holders keep the ports from anyone else
    (an outgoing connection, say). They never listen and must be closed once the workers
    listen (an unread UDP socket in the group would swallow its share of datagrams).
    """
    seen: set[tuple[str, int, socket.SocketKind]] = set()
    for host, port, kinds in wanted:
        for kind in kinds if port else ():
            if (host, port, kind) in seen:
                where = f"{_shown(host, port)} ({_KIND_NAMES[kind]})"
                raise ClaimError(f"{where} is given to two listeners")
            seen.add((host, port, kind))
            probe(host, port, kind)
    ports: list[int] = []
    held: list[socket.socket] = []
    try:
        for host, given, kinds in wanted:
            if given:
                held += _hold(host, given, kinds)
                ports.append(given)
            else:
                port, sockets = _hold_free(host, kinds)
                held += sockets
                ports.append(port)
    except BaseException:
        release(held)
        raise
    return ports, held


def _hold(host: str, port: int, kinds: tuple[socket.SocketKind, ...]) -> list[socket.socket]:
    held: list[socket.socket] = []
    try:
        for kind in kinds:
            held.append(_shared(host, port, kind))
    except OSError as exc:
        release(held)
        raise ClaimError(f"cannot listen on {_shown(host, port)}: {exc.strerror}") from None
    return held


def _hold_free(host: str, kinds: tuple[socket.SocketKind, ...]) -> tuple[int, list[socket.socket]]:
    # a plain socket gets a port nobody holds; with SO_REUSEPORT set, the kernel may pick
    # one that a stranger's SO_REUSEPORT socket holds, and share it
    for _ in range(100):
        try:
            with socket.socket(_family(host), kinds[0]) as picker:
                picker.bind((host, 0))
                port = int(picker.getsockname()[1])
        except OSError as exc:
            raise ClaimError(f"cannot listen on {host}: {exc.strerror}") from None
        try:
            for kind in kinds:
                probe(host, port, kind)
            return port, _hold(host, port, kinds)
        except ClaimError:
            continue  # taken meanwhile, or not free for another kind: try another
    raise ClaimError(f"no free port on {host}")


def release(held: list[socket.socket]) -> None:
    """Close holder sockets."""
    for sock in held:
        with contextlib.suppress(OSError):
            sock.close()
