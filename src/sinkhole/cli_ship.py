"""The `sinkhole ship` command (part of the command tree in cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sinkhole.cli import _data_dir, app, err, out
from sinkhole.exceptions import SinkholeError


@app.command("ship")
def ship_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    to: Annotated[
        str, typer.Option("--to", help="The shared store: s3://bucket/prefix or a folder.")
    ],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    delete_local: Annotated[
        bool,
        typer.Option(
            "--delete-local", help="Remove each local segment once its upload is confirmed."
        ),
    ] = False,
    attempts: Annotated[
        int,
        typer.Option("--attempts", min=1, max=100, help="Passes before giving up (back-off)."),
    ] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Copy the store's closed Parquet segments to a shared store, each exactly once.

    Names are the segments' own (day and segment name), confirmed uploads are kept in
    ship/manifest.jsonl, and a run that was stopped resumes where it was. S3 endpoint,
    region and credentials come from the AWS environment variables and config files.

    Example: sinkhole ship examples/megad-sim.toml --to s3://sinkhole-events/op1
    """
    from sinkhole import ship

    root = _data_dir(operation, data)
    if not root.is_dir():
        raise SinkholeError(f"no event store at {root}")
    shipper = ship.Shipper(root, to, delete_local=delete_local)

    def report(result: ship.Pass) -> None:
        if result.error and not as_json:
            # one line per failed pass, however long the error (err wraps at its width)
            err.print(
                f"ship: {result.error}; {result.pending:,} pending", markup=False, soft_wrap=True
            )

    total = shipper.until_done(attempts, report=report)
    if as_json:
        out.print(json.dumps(vars(total), indent=2), markup=False)
    else:
        out.print(
            f"shipped {total.shipped:,} segments ({total.bytes / 1e6:,.1f} MB) to {to}; "
            f"already there: {total.recorded:,}; pending: {total.pending:,}"
            + (f"; local copies removed: {total.deleted:,}" if delete_local else ""),
            markup=False,
        )
    if total.conflicts:
        raise SinkholeError(
            f"{len(total.conflicts)} segment(s) exist in {to} with other bytes and were not "
            f"overwritten (kept locally): {', '.join(total.conflicts[:3])}"
        )
    if total.error:
        raise SinkholeError(f"ship: gave up after {attempts} attempts: {total.error}")
