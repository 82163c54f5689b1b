"""The `sinkhole impact` command (part of the command tree in cli.py)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sinkhole.cli import _attributor, _data_dir, _when, app, err, out
from sinkhole.exceptions import SinkholeError


@app.command("impact")
def impact_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    more: Annotated[
        list[Path] | None,
        typer.Argument(
            help="More mail inputs: `--mail FILE…` takes a shell glob (mail.log*).",
            show_default=False,
        ),
    ] = None,
    mail: Annotated[
        list[Path] | None,
        typer.Option(
            "--mail",
            help="Postfix/Exim/Sendmail log (rotated, gzipped), mbox or Maildir trap, or CSV "
            "(repeatable; the format is told from the content).",
        ),
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    takedown: Annotated[
        str | None,
        typer.Option(
            "--takedown",
            help="When the takedown took effect (ISO, UTC unless it says). "
            "Default: the start of the operation's window, 00:00 UTC.",
        ),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option(
            "--tolerance",
            min=0,
            max=720,
            help="Hours either side of a sinkhole sighting in which mail from the address "
            "counts as a bot's.",
        ),
    ] = 12.0,
    timezone: Annotated[
        str,
        typer.Option("--timezone", help="Zone of log times that carry none (syslog)."),
    ] = "UTC",
    trusted: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted",
            help="Network (CIDR) of the trap's own relays, skipped in Received headers "
            "(repeatable).",
        ),
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="Attribution dataset (repeatable; `lab`). Default: the operation's datasets.",
        ),
    ] = None,
    charts: Annotated[
        Path | None, typer.Option("--charts", help="Write the chart (PNG and SVG) here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Did the spam stop? Mail from bot addresses per hour, before and after the takedown.

    Reads mail logs and spam traps as a stream, joins each message with the
    addresses seen at the sinkhole (within --tolerance hours), per family and
    network, and compares the bots' messages per hour before and after.

    Example: sinkhole impact examples/megad-sim.toml --mail /var/log/mail.log* --json
    """
    from sinkhole import impact
    from sinkhole import operation as operation_mod

    inputs = [*(mail or []), *(more or [])]
    if not inputs:
        raise SinkholeError("impact: give the mail to read with --mail FILE…")
    op = operation_mod.load(operation)
    when = _when(takedown, "--takedown")
    if when is None:
        when = dt.datetime.combine(op.operation.start, dt.time(), dt.UTC)
    networks = []
    for text in trusted or []:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise SinkholeError(
                f"--trusted {text!r}: expected a network such as 10.0.0.0/8"
            ) from None
    root = _data_dir(operation, data)
    found = impact.read(inputs, when, timezone, networks)
    report = impact.analyse(
        found,
        root,
        when,
        [t.family for t in op.targets],
        _attributor(dataset or [], operation, "impact"),
        tolerance,
    ).as_dict()
    written: list[Path] = []
    if charts is not None:
        from sinkhole.impact.chart import impact_chart

        written = impact_chart(report, charts)
    if as_json:
        out.print(json.dumps(report, indent=2, default=str), markup=False)
    else:
        _print_report(report)
        for path in written:
            out.print(f"wrote: {path}", markup=False)
    for warning in report["warnings"]:
        err.print(f"impact: warning: {warning}", markup=False)


def _rate(side: dict[str, Any], key: str) -> str:
    rates = side["per_hour"]
    return "-" if rates is None else f"{rates[key]:,.1f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _print_report(report: dict[str, Any]) -> None:
    unit = report["unit"]
    table = Table(title=f"{unit} per hour around the takedown ({report['takedown']})")
    for column in ("", "hours", "all", "from bots", "target family", "bots' share"):
        table.add_column(column, justify="left" if not column else "right")
    for name in ("before", "after"):
        side = report[name]
        table.add_row(
            name,
            f"{side['hours']:,.1f}",
            _rate(side, "all"),
            _rate(side, "bot"),
            _rate(side, "family"),
            _share(side["bot_share"]),
        )
    out.print(table)
    drop = report["drop"]
    out.print(
        f"{report['messages']:,} {unit}, {report['bot_messages']:,} from addresses seen at the "
        f"sinkhole (within {report['tolerance_hours']:g} h); the bots' {unit} per hour "
        + ("cannot be compared" if drop is None else f"fell by [bold]{drop:.1%}[/]")
        + ("" if report["all_drop"] is None else f", all {unit} by {report['all_drop']:.1%}")
    )
    nets = Table(title="bot messages per network")
    for column in ("ASN", "network", "addresses", "before", "after"):
        nets.add_column(column)
    for n in report["per_network"][:10]:
        nets.add_row(
            "-" if n["asn"] is None else str(n["asn"]),
            n["network"],
            f"{n['addresses']:,}",
            f"{n['before']:,}",
            f"{n['after']:,}",
        )
    if report["per_network"]:
        out.print(nets)
    for f in report["files"]:
        line = f"{f['path']}: {f['format']}, {f['lines']:,} lines, {f['malformed']:,} malformed"
        if f["note"]:
            line += f" ({f['note']})"
        out.print(line, markup=False)
        for example in f["examples"]:
            out.print(f"  e.g. {example}", markup=False)
    out.print(f"blocklist: {report['blocklist']}", markup=False)
