"""The `sinkhole dashboard` command (part of the command tree in cli.py)."""

from __future__ import annotations

import os
import signal
import sys
import zoneinfo
from pathlib import Path
from typing import Annotated, Any

import typer

from sinkhole.cli import _data_dir, _when, app
from sinkhole.exceptions import SinkholeError


@app.command("dashboard")
def dashboard_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT (port 0: a free one). Loopback by default.")
    ] = "127.0.0.1:8787",
    notify: Annotated[
        Path | None,
        typer.Option("--notify", help="A `sinkhole notify --out` folder: show its ledger."),
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="Attribution dataset (repeatable; `lab`). Default: the operation's datasets.",
        ),
    ] = None,
    refresh: Annotated[
        float,
        typer.Option("--refresh", min=1, max=86400, help="Seconds between analysis refreshes."),
    ] = 30.0,
    mail: Annotated[
        list[Path] | None,
        typer.Option(
            "--mail",
            help="Mail log or spam trap for the Impact page, as `sinkhole impact` reads it "
            "(repeatable).",
        ),
    ] = None,
    takedown: Annotated[
        str | None,
        typer.Option(
            "--takedown",
            help="With --mail: when the takedown took effect (ISO, UTC unless it says). "
            "Default: the start of the operation's window.",
        ),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option(
            "--tolerance",
            min=0,
            max=720,
            help="With --mail: hours either side of a sinkhole sighting in which mail from the "
            "address counts as a bot's.",
        ),
    ] = 12.0,
    timezone: Annotated[
        str,
        typer.Option("--timezone", help="With --mail: zone of log times that carry none."),
    ] = "UTC",
) -> None:
    """Serve the operation dashboard (pages and JSON API) for a store, behind a token.

    Prints the URL with its token as the first line of stdout; the token is made on the
    first start and kept 0600 in the store folder. With --mail, the Impact page shows the
    spam before and after the takedown (read in the background, again when a file changes).
    Ctrl-C stops.

    Example: sinkhole dashboard examples/megad-sim.toml --data store/ --listen 127.0.0.1:8787
    """
    from sinkhole import operation as operation_mod
    from sinkhole.web import server
    from sinkhole.web.figures import Sources

    _exit_with_starter()
    try:
        host, port = operation_mod.parse_address(listen)
    except ValueError as exc:
        raise SinkholeError(f"--listen {listen!r}: {exc}") from None
    root = _data_dir(operation, data)
    if not root.is_dir():
        raise SinkholeError(f"no event store at {root}")
    op = operation_mod.load(operation)
    paths: list[Path | str] = [Path(p) if p != "lab" else p for p in dataset or []]
    for path in paths:
        if isinstance(path, Path) and not path.is_file():
            raise SinkholeError(f"--dataset {path}: no such file")
    mail_args(mail or [], takedown, tolerance, timezone)  # one clear error, before listening
    sources = Sources(
        data_dir=root,
        operation_path=operation,
        notify_dir=notify,
        datasets=paths or op.attribution_datasets(),
        mail=list(mail or []),
        takedown=_when(takedown, "--takedown"),
        tolerance_hours=tolerance,
        mail_timezone=timezone,
    )

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def warn(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    signal.signal(signal.SIGTERM, _stop_on_term)
    try:
        server.run(sources, host, port, say, warn, refresh_every=refresh)
    except KeyboardInterrupt:
        return  # Ctrl-C or SIGTERM (uvicorn raises the signal again once it has stopped)


def mail_args(mail: list[Path], takedown: str | None, tolerance: float, timezone: str) -> list[str]:
    """The Impact page's options, checked, as `sinkhole dashboard` takes them (for serve)."""
    if not mail:
        if takedown is not None or tolerance != 12.0 or timezone != "UTC":
            raise SinkholeError("--takedown, --tolerance and --timezone go with --mail FILE")
        return []
    args: list[str] = []
    for path in mail:
        if not path.exists():
            raise SinkholeError(f"--mail {path}: no such file or folder")
        args += ["--mail", str(path.resolve())]
    try:
        zoneinfo.ZoneInfo(timezone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise SinkholeError(f"--timezone {timezone!r}: not a time zone name") from None
    when = _when(takedown, "--takedown")
    if when is not None:
        args += ["--takedown", when.isoformat()]
    return [*args, "--tolerance", f"{tolerance:g}", "--timezone", timezone]


def _stop_on_term(_signum: int, _frame: Any) -> None:
    # uvicorn handles SIGINT and SIGTERM itself once it runs; this covers start-up
    raise KeyboardInterrupt


def _exit_with_starter() -> None:
    """Started by `serve --dashboard` or the demo: stop when that program dies."""
    from sinkhole.servers.background import EXIT_WITH
    from sinkhole.servers.worker import die_with_parent

    starter = os.environ.pop(EXIT_WITH, "")
    if starter.isdigit() and not die_with_parent(int(starter)):
        raise SinkholeError(f"the program that started this dashboard (PID {starter}) is gone")
