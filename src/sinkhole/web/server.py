"""Serving the dashboard: the listening socket, the loud warning, the URL, and uvicorn.

`sinkhole dashboard` runs :func:`run` in the foreground. `sinkhole serve --dashboard`
and the demo start that same command as a child process (:func:`start`), so the
analyses never share a process (nor a GIL) with the listeners, and read the URL from
its first line.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import uvicorn

from sinkhole.exceptions import SinkholeError
from sinkhole.web import access
from sinkhole.web.app import create_app
from sinkhole.web.board import Board
from sinkhole.web.figures import Sources

#: Seconds a child dashboard may take to print its URL.
START_TIMEOUT = 60.0


class DashboardServeError(SinkholeError):
    """The dashboard could not start."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warning_lines(host: str) -> list[str]:
    """What the dashboard says, loudly, when it listens beyond loopback."""
    return [
        "!" * 78,
        f"WARNING: the dashboard listens on {host}, NOT on loopback.",
        "It shows victims' IP addresses (personal data). Anyone who can reach this port",
        "and learns the token sees them, over plain HTTP. Prefer 127.0.0.1 with an SSH",
        "tunnel, or put a TLS proxy with its own access control in front.",
        "!" * 78,
    ]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise DashboardServeError(
            f"the dashboard cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    sock.set_inheritable(False)
    return sock


def base_url(sock: socket.socket) -> str:
    """http://host:port of a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def run(
    sources: Sources,
    host: str,
    port: int,
    say: Callable[[str], None],
    warn: Callable[[str], None],
    refresh_every: float = 30.0,
    stop: threading.Event | None = None,
) -> None:
    """Serve the dashboard until SIGINT/SIGTERM (or `stop` is set); `say` gets the URL first."""
    token, made = access.load_token(sources.data_dir)
    sock = bind(host, port)
    if not is_loopback(host):
        for line in warning_lines(host):
            warn(line)
    board = Board(sources, refresh_every=refresh_every)
    app = create_app(board, token)
    say(access.url_with_token(base_url(sock), token))
    if made:
        warn(f"dashboard: a new token was made and kept in {sources.data_dir / access.TOKEN_FILE}")
    config = uvicorn.Config(
        app,
        log_level="warning",
        # the access log would hold the token (first request) and victims' addresses (queries)
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    if stop is not None:

        def watch() -> None:
            stop.wait()
            server.should_exit = True

        threading.Thread(target=watch, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class Dashboard:
    """A dashboard child process (`sinkhole dashboard`) and the URL it printed."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then kill after `timeout` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    operation: Path,
    data: Path,
    listen: str = "127.0.0.1:0",
    notify: Path | None = None,
    extra: list[str] | None = None,
) -> Dashboard:
    """Start `sinkhole dashboard` in a child process that dies with this one; returns its URL."""
    from sinkhole.servers.background import EXIT_WITH

    command = [sys.executable, "-m", "sinkhole", "dashboard", str(operation)]
    command += ["--data", str(data), "--listen", listen]
    if notify is not None:
        command += ["--notify", str(notify)]
    env = {**os.environ, EXIT_WITH: str(os.getpid())}
    process = subprocess.Popen(
        [*command, *(extra or [])], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT)
    line = found[0].strip() if found else ""
    if not line.startswith("http"):
        running = Dashboard(process, "")
        running.stop()
        raise DashboardServeError(
            f"the dashboard did not start (exit code {process.returncode}; see its message above)"
        )
    return Dashboard(process, line)
