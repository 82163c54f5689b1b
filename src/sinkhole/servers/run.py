"""`sinkhole serve`: the parent process, which plans, claims, forks the workers and reloads.

The parent never serves. It locks the data folder (a second `serve` on it
exits naming the PID that holds it), recovers any WAL left by a crash,
computes the plan's tables once, claims every listening address (refusing
one that another process holds, even through SO_REUSEPORT; port 0 becomes a
free port), then forks N workers (default: one per core, ``servers/worker.py``)
that inherit the tables and share the sockets. SIGTERM or SIGINT stops the
workers, each flushing its events into Parquet; if the parent dies instead,
the workers stop by themselves. SIGHUP makes the parent re-read the operation
file and compute the new tables in a thread, then hand them to the workers,
which take them in between packets and swap without closing a socket; an
operation file that became invalid costs one line on stderr and the old plan
stays.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sinkhole import operation
from sinkhole.events import private
from sinkhole.events.writer import Recovery, recover, warm_up
from sinkhole.exceptions import SinkholeError
from sinkhole.servers import claims, tables
from sinkhole.servers.tls import tls_context
from sinkhole.servers.worker import worker_main


class ServeError(SinkholeError):
    """The sinkhole could not start."""


#: Handover files of a reload in the data folder, removed once every worker has taken it in.
_TABLE_PREFIX = ".reload-"


Address = tuple[str, int]


@dataclass
class ServeConfig:
    """Everything a worker needs, resolved from the operation file and CLI flags."""

    operation_path: Path
    data_dir: Path
    sensor: str
    workers: int
    dns: list[Address] = field(default_factory=list)
    resolver: list[Address] = field(default_factory=list)
    http: list[Address] = field(default_factory=list)
    tls: list[Address] = field(default_factory=list)
    tcp: list[tuple[Address, str | None]] = field(default_factory=list)
    udp: list[tuple[Address, str | None]] = field(default_factory=list)
    flush_interval: float = 0.25
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: HOST:PORT of the dashboard, run as a child process beside (not in) the workers.
    dashboard: str | None = None
    #: More `sinkhole dashboard` options (the Impact page's mail).
    dashboard_args: list[str] = field(default_factory=list)
    #: A shared store the parent ships closed segments to (sinkhole.ship), if any.
    ship: str | None = None
    #: Remove each local segment once its upload is confirmed.
    ship_delete: bool = False


#: A sensor's name: what operation.Data accepts.
_SENSOR = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def config_from(
    op: operation.Operation,
    data_dir: Path | None = None,
    dns: list[str] | None = None,
    http: list[str] | None = None,
    tls: list[str] | None = None,
    workers: int | None = None,
    resolver: list[str] | None = None,
    sensor: str | None = None,
    ship: str | None = None,
) -> ServeConfig:
    """Merge the operation's [listeners] and [data] with command-line overrides."""
    if op.path is None:
        raise ServeError("the operation must come from a file (SIGHUP re-reads it)")
    if sensor is not None and not _SENSOR.fullmatch(sensor):
        raise ServeError(f"--sensor {sensor!r}: expected 1 to 64 letters, digits, '_', '.', '-'")
    if ship is not None:
        from sinkhole.events import sources

        try:
            sources.parse(ship)
        except sources.SourceError as exc:
            raise ServeError(f"--ship {exc.message}") from None

    def addresses(values: list[str] | tuple[str, ...], default_port: int) -> list[Address]:
        out = []
        for value in values:
            try:
                out.append(operation.parse_address(value, default_port))
            except ValueError as exc:
                raise ServeError(str(exc)) from None
        return out

    listeners = op.listeners
    count = workers if workers is not None else listeners.workers
    if count < 0 or count > 256:
        raise ServeError(f"--workers {count}: expected 0 (one per core) to 256")
    return ServeConfig(
        operation_path=op.path,
        data_dir=data_dir or op.data_dir,
        sensor=sensor if sensor is not None else op.data.sensor,
        workers=count or os.cpu_count() or 1,
        dns=addresses(dns if dns is not None else listeners.dns, 53),
        resolver=addresses(resolver if resolver is not None else listeners.resolver, 53),
        http=addresses(http if http is not None else listeners.http, 80),
        tls=addresses(tls if tls is not None else listeners.tls, 443),
        tcp=[(operation.parse_address(r.address), r.family) for r in listeners.tcp],
        udp=[(operation.parse_address(r.address), r.family) for r in listeners.udp],
        tls_cert=op.resolve(listeners.tls_cert) if listeners.tls_cert else None,
        tls_key=op.resolve(listeners.tls_key) if listeners.tls_key else None,
        ship=ship,
    )


def listener_lines(config: ServeConfig) -> list[str]:
    """One line per listener, printed when the sinkhole is ready."""
    lines = []
    for kind, addrs in (
        ("dns", config.dns),
        ("resolver", config.resolver),
        ("http", config.http),
        ("tls", config.tls),
    ):
        for host, port in addrs:
            shown = f"[{host}]" if ":" in host else host
            lines.append(f"{kind} {shown}:{port}")
    for kind, raw in (("tcp", config.tcp), ("udp", config.udp)):
        for (host, port), fam in raw:
            shown = f"[{host}]" if ":" in host else host
            lines.append(f"{kind} {shown}:{port}" + (f" ({fam})" if fam else ""))
    return lines


def claim_addresses(config: ServeConfig) -> list[socket.socket]:
    """Claim every listener's address (port 0: a free port, written back into `config`).

    Returns the holder sockets, to close once the workers listen.
    """
    both = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
    tcp, udp = (socket.SOCK_STREAM,), (socket.SOCK_DGRAM,)
    groups: list[tuple[list[Address], tuple[socket.SocketKind, ...]]] = [
        (config.dns, both),
        (config.resolver, both),
        (config.http, tcp),
        (config.tls, tcp),
        ([a for a, _ in config.tcp], tcp),
        ([a for a, _ in config.udp], udp),
    ]
    ports, held = claims.claim([(h, p, kinds) for addrs, kinds in groups for h, p in addrs])
    given = iter(ports)
    resolved = [[(h, next(given)) for h, _ in addrs] for addrs, _ in groups]
    config.dns, config.resolver, config.http, config.tls = resolved[:4]
    config.tcp = [(a, f) for a, (_, f) in zip(resolved[4], config.tcp, strict=True)]
    config.udp = [(a, f) for a, (_, f) in zip(resolved[5], config.udp, strict=True)]
    return held


class _Reload:
    """One SIGHUP: new tables, computed in a thread of the parent, written for the workers."""

    def __init__(self, config: ServeConfig, generation: int, serving: operation.Operation) -> None:
        self.config = config
        self.serving = serving
        #: What changed in the file that a reload cannot apply (listeners, data), if anything.
        self.needs_restart: list[str] = []
        self.generation = generation
        self.path = config.data_dir / f"{_TABLE_PREFIX}{generation}.table"
        self.names = 0
        self.error: str | None = None
        self.thread = threading.Thread(target=self._compute, name="reload", daemon=True)
        self.thread.start()

    def _compute(self) -> None:
        try:
            op = operation.load(self.config.operation_path)
            new = tables.compute(op)
            tables.write(new, self.path)
            self.names = len(new.table.names)
            for section in ("listeners", "data"):
                if getattr(op, section) != getattr(self.serving, section):
                    self.needs_restart.append(f"[{section}]")
        except SinkholeError as exc:
            self.error = exc.message
        except Exception as exc:  # a bug here must not stop the serving workers
            self.error = f"{type(exc).__name__}: {exc}"


def _remove_tables(folder: Path) -> None:
    for path in folder.glob(f"{_TABLE_PREFIX}*"):
        with contextlib.suppress(OSError):
            path.unlink()


def _to_stderr(line: str) -> None:
    sys.stderr.write(f"sinkhole: {line}\n")
    sys.stderr.flush()


@dataclass
class _Workers:
    """The forked workers, their pipes, and the reload they are taking in."""

    procs: list[Any] = field(default_factory=list)
    pipes: list[Connection] = field(default_factory=list)
    awaiting: set[int] = field(default_factory=set)
    reload: _Reload | None = None
    longest_pause: float = 0.0
    failed: int = 0

    def start(self, config: ServeConfig, current: tables.Tables, held: list[socket.socket]) -> None:
        """Fork one worker per configured count; each inherits the tables and the sockets."""
        ctx = multiprocessing.get_context("fork")
        parent = os.getpid()
        for index in range(config.workers):
            parent_end, child_end = ctx.Pipe(duplex=True)
            self.pipes.append(parent_end)
            proc = ctx.Process(
                target=worker_main,
                args=(index, config, current, child_end, parent, list(self.pipes), held),
                name=f"sinkhole-w{index}",
                daemon=False,
            )
            proc.start()
            child_end.close()
            self.procs.append(proc)

    def wait_ready(self) -> None:
        """Return once every worker listens; raise with the first one's error."""
        for pipe in self.pipes:
            try:
                status, detail = pipe.recv()
            except EOFError:
                status, detail = "error", "a worker exited while starting"
            if status != "ready":
                raise ServeError(str(detail))

    def alive(self) -> bool:
        """Whether every worker still runs."""
        return all(proc.is_alive() for proc in self.procs)

    def hand_over(self, reload: _Reload) -> None:
        """Tell every worker to take in the reload's tables."""
        self.reload = reload
        self.awaiting = set(range(len(self.pipes)))
        self.longest_pause = 0.0
        self.failed = 0
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("reload", reload.generation, str(reload.path)))

    def read_replies(self, say: Callable[[str], None], warn: Callable[[str], None]) -> None:
        """Collect what the workers said; once all took in a reload, say so and drop its file."""
        for index, pipe in enumerate(self.pipes):
            try:
                while pipe.poll():
                    message = pipe.recv()
                    if message[0] == "reloaded":
                        self.awaiting.discard(index)
                        self.longest_pause = max(self.longest_pause, float(message[4]))
                    elif message[0] == "reload-failed":
                        self.awaiting.discard(index)
                        self.failed += 1
                        warn(f"worker {index} could not take in the new plan: {message[2]}")
            except (EOFError, OSError):
                continue  # a worker died: the liveness check stops the sinkhole
        reload = self.reload
        if reload is not None and not self.awaiting:
            with contextlib.suppress(OSError):
                reload.path.unlink()
            if self.failed:
                warn(f"reload incomplete: {self.failed} worker(s) kept the old plan")
            else:
                say(
                    f"reloaded: planned names: {reload.names:,}; longest pause of a worker's "
                    f"loop: {self.longest_pause * 1000:.0f} ms"
                )
            self.reload = None

    def stop(self) -> None:
        """SIGTERM every worker and wait for it to flush (killed after 15 s)."""
        for proc in self.procs:
            if proc.is_alive() and proc.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        joined_by = time.monotonic() + 15  # one budget for all: the workers stop together
        for proc in self.procs:
            proc.join(timeout=max(0.1, joined_by - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        for pipe in self.pipes:
            pipe.close()


def serve(
    config: ServeConfig,
    say: Callable[[str], None] = print,
    stop_after: float | None = None,
    warn: Callable[[str], None] = _to_stderr,
) -> Recovery:
    """Run the sinkhole until SIGTERM/SIGINT (or `stop_after` seconds); returns the recovery."""
    # `stop_after` counts from now: start-up (plan, fork, listeners) is part of the run
    deadline = None if stop_after is None else time.monotonic() + stop_after
    _exit_with_starter()
    op = operation.load(config.operation_path)
    _private_data_folder(config.data_dir)
    lock = claims.DataLock(config.data_dir).acquire()
    try:
        return _serve(config, op, say, warn, deadline)
    finally:
        lock.release()


def _exit_with_starter() -> None:
    """Started by `background.in_background`: SIGTERM (a flushing stop) when that program dies."""
    from sinkhole.servers.background import EXIT_WITH
    from sinkhole.servers.worker import die_with_parent

    starter = os.environ.pop(EXIT_WITH, "")
    if starter.isdigit() and not die_with_parent(int(starter)):
        raise ServeError(f"the program that started this sinkhole (PID {starter}) is gone")


#: What a store folder holds; a folder with anything else is not the store's to tighten.
_STORE_ENTRIES = {"wal", "events", "stats", "quarantine", "serve.lock", "dashboard.token", "ship",
                  "blocklist.sqlite", "blocklist.sqlite-wal", "blocklist.sqlite-shm"}  # fmt: skip


def _private_data_folder(folder: Path) -> None:
    """Make the store folder (0700, missing parents too) or tighten one that is a store.

    An existing folder that holds other things (a home, /etc, a checkout) is refused
    rather than made 0700 under its owner's feet.
    """
    try:
        if folder.exists():
            if not folder.is_dir():
                raise ServeError(f"the data folder {folder} is not a folder")
            if stat.S_IMODE(folder.stat().st_mode) & 0o077:
                others = {p.name for p in folder.iterdir() if not p.name.startswith(".reload-")}
                if others - _STORE_ENTRIES:
                    raise ServeError(
                        f"the data folder {folder} holds other files and others can read it: "
                        "give sinkhole a folder of its own (it makes it 0700)"
                    )
                os.chmod(folder, 0o700)
        else:
            private.folder(folder)
    except OSError as exc:
        raise ServeError(f"cannot use the data folder {folder}: {exc.strerror}") from None


def _serve(
    config: ServeConfig,
    op: operation.Operation,
    say: Callable[[str], None],
    warn: Callable[[str], None],
    deadline: float | None,
) -> Recovery:
    try:
        recovered = recover(config.data_dir)
    except OSError as exc:
        raise ServeError(f"cannot use the data folder {config.data_dir}: {exc.strerror}") from None
    _remove_tables(config.data_dir)  # left by a crash during a reload
    if recovered.segments:
        say(
            f"recovered {recovered.events:,} events from {recovered.segments} WAL segment(s)"
            + (f", {recovered.truncated} cut short by a crash" if recovered.truncated else "")
        )
    if config.tls:
        # made (or checked) once here, so a bad certificate is one clear error, not N workers'
        tls_context(config.data_dir, config.tls_cert, config.tls_key)
    current = tables.compute(op)
    planned = len(current.table.names)
    held = claim_addresses(config)
    warm_up()  # loaded once here, shared by the forked workers
    flags = {"stop": False, "reload": False}

    def on_signal(signum: int, _frame: Any) -> None:
        flags["reload" if signum == signal.SIGHUP else "stop"] = True

    # set before the fork, so no signal finds a worker or the parent without a handler
    previous = {
        s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    workers = _Workers()
    dashboard: Any = None
    generation = 0
    died: list[str] = []
    shipping = None
    try:
        workers.start(config, current, held)
        del current  # the workers have it; the parent needs only new ones
        workers.wait_ready()
        claims.release(held)  # the workers hold the ports now
        if config.dashboard is not None:
            from sinkhole.web.server import start as start_dashboard

            dashboard = start_dashboard(
                config.operation_path,
                config.data_dir,
                config.dashboard,
                extra=config.dashboard_args,
            )
            say(f"dashboard {dashboard.url}")
        if config.ship is not None:
            from sinkhole import ship

            # a thread of the parent, started after the fork: never in a worker's loop
            shipping = ship.Background(
                config.data_dir, config.ship, delete_local=config.ship_delete
            ).start()
            say(f"shipping closed segments to {config.ship}")
        say(f"planned names: {planned:,}; workers: {config.workers}; events: {config.data_dir}")
        for line in listener_lines(config):
            say(f"listening {line}")
        say("ready")
        with contextlib.suppress(AttributeError):
            sys.stdout.flush()
        computing: _Reload | None = None
        while not flags["stop"] and workers.alive():
            if deadline is not None and time.monotonic() >= deadline:
                break
            if flags["reload"] and computing is None and workers.reload is None:
                flags["reload"] = False
                generation += 1
                computing = _Reload(config, generation, op)
            if computing is not None and not computing.thread.is_alive():
                if computing.error is not None:
                    warn(f"reload failed, keeping the old plan: {computing.error}")
                else:
                    workers.hand_over(computing)
                    if computing.needs_restart:
                        changed = " and ".join(computing.needs_restart)
                        warn(f"{changed} changed in the operation file: applied on restart only")
                computing = None
            workers.read_replies(say, warn)
            time.sleep(0.05)
        if not flags["stop"] and not workers.alive():
            died = [
                f"worker {i} (exit code {proc.exitcode})"
                for i, proc in enumerate(workers.procs)
                if not proc.is_alive()
            ]
    finally:
        if dashboard is not None:
            dashboard.stop()
        if shipping is not None:
            shipping.stop()
        workers.stop()
        claims.release(held)
        _remove_tables(config.data_dir)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if shipping is not None:
            # the workers closed their last segments: ship them before saying stopped
            final = shipping.final()
            if final.pending:
                warn(
                    f"{final.pending} segment(s) not shipped yet ({final.error}): run sinkhole ship"
                )
    if died:
        raise ServeError(
            f"{', '.join(died)} stopped unexpectedly; the other workers were stopped and flushed"
        )
    return recovered
