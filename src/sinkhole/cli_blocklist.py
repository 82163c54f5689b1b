"""The `sinkhole blocklist` and `sinkhole dnsbl` commands (part of the command tree in cli.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sinkhole.cli import _attributor, _check_seconds, _data_dir, _when, app, out
from sinkhole.exceptions import SinkholeError

blocklist_app = typer.Typer(
    help="The listing of bot addresses: build it from the store, check, export.\n\n"
    "Example: sinkhole blocklist build examples/megad-sim.toml --data DIR",
    no_args_is_help=True,
)
dnsbl_app = typer.Typer(
    help="Serve the listing as a DNSBL (RFC 5782) for mail servers.\n\n"
    "Example: sinkhole dnsbl serve examples/megad-sim.toml --data DIR "
    "--listen 127.0.0.1:5353 --zone dnsbl.sinkhole.example",
    no_args_is_help=True,
)
app.add_typer(blocklist_app, name="blocklist")
app.add_typer(dnsbl_app, name="dnsbl")

_DATASET_HELP = "Attribution dataset (repeatable; `lab`). Default: the operation's datasets."


def _store(data: Path) -> Path:
    if not data.is_dir():
        raise SinkholeError(f"--data {data}: no event store there")
    return data


def _given(data: Path | None, operation: Path | None) -> Path:
    """The store named by --data, else the one of --operation's file."""
    if data is None and operation is None:
        raise SinkholeError("give --data DIR (the event store) or --operation FILE")
    if data is not None:
        return _store(data)
    assert operation is not None
    return _store(_data_dir(operation, None))


def _removal(op: Any) -> str:
    """How to get off the list: write to the operation's sender, else to its hostmaster."""
    address = op.notify.from_address
    if not address:
        local, _, domain = op.sinkhole.hostmaster.partition(".")
        address = f"{local}@{domain}"
    return f"write to {address}"


def _zone(op: Any) -> Any:
    from sinkhole.blocklist import exports

    sink = op.sinkhole
    return exports.Zone(sink.nameservers, sink.hostmaster, sink.ttl, op.notify.org,
                        op.operation.name)  # fmt: skip


@blocklist_app.command("build")
def build_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    grace_days: Annotated[
        float | None,
        typer.Option(
            "--grace-days",
            help="Days an address stays listed after its last contact (default: as before, or 7).",
        ),
    ] = None,
    dataset: Annotated[list[str] | None, typer.Option("--dataset", help=_DATASET_HELP)] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge expiry at this time (default: now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Rebuild the listing from the whole store: listed, delisted, excluded.

    Listed: every bot address seen within the grace period, not excluded; kept in
    blocklist.sqlite in the store folder (0600). Exclusions and hand additions stay.

    Example: sinkhole blocklist build examples/megad-sim.toml --grace-days 7
    """
    from sinkhole import blocklist
    from sinkhole import operation as operation_mod

    root = _store(_data_dir(operation, data))
    op = operation_mod.load(operation)
    networks = _attributor(dataset or [], operation, "blocklist")
    if grace_days is not None and not 0 <= grace_days <= 3660:  # nan fails too
        raise SinkholeError(f"--grace-days {grace_days:g}: expected 0 to 3660")
    counts = blocklist.build(root, networks, grace_days, _when(as_of, "--as-of"), _removal(op))
    if as_json:
        out.print_json(json.dumps(counts.as_dict()))
        return
    out.print(
        f"listed: {counts.listed:,}; delisted: {counts.delisted:,}; excluded: "
        f"{counts.excluded:,}; added by hand: {counts.added:,} "
        f"({counts.seen:,} addresses seen, {counts.seconds:.1f} s)",
        markup=False,
    )
    for family, n in sorted(counts.per_family.items()):
        out.print(f"  {family or 'unknown'}: {n:,}", markup=False)


@blocklist_app.command("export")
def export_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    fmt: Annotated[str, typer.Option("--format", help="rbldnsd, text, csv, stix or misp.")],
    out_file: Annotated[Path, typer.Option("--out", help="File to write (replaced whole).")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
) -> None:
    """Write the listing for other tools: rbldnsd, plain text, CSV, STIX 2.1, MISP.

    Example: sinkhole blocklist export examples/megad-sim.toml --format rbldnsd --out bl.rbldnsd
    """
    from sinkhole import operation as operation_mod
    from sinkhole.blocklist import exports

    root = _store(_data_dir(operation, data))
    op = operation_mod.load(operation)
    count = exports.export(root, fmt, out_file, _zone(op))
    out.print(f"wrote {count:,} entries to {out_file} ({fmt})", markup=False)


@blocklist_app.command("check")
def check_cmd(
    addresses: Annotated[list[str], typer.Argument(help="Addresses to look up.")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    operation: Annotated[
        Path | None, typer.Option("--operation", help="Or the store of this operation.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """Is it listed, why, since when, until when.

    Example: sinkhole blocklist check 127.16.0.5 --operation examples/megad-sim.toml
    """
    from sinkhole import blocklist

    for verdict in blocklist.check(_given(data, operation), addresses):
        if as_json:
            sys.stdout.write(json.dumps(verdict.as_dict()) + "\n")
            continue
        if verdict.listed:
            line = f"{verdict.ip}: listed (127.0.0.{verdict.code}): {verdict.why}"
            if verdict.first_seen:
                line += f"; first seen {verdict.first_seen}, last seen {verdict.last_seen}"
            if verdict.expires:
                line += f"; listed until {verdict.expires}"
        else:
            line = f"{verdict.ip}: not listed: {verdict.why}"
            if verdict.last_seen:
                line += f" (last seen {verdict.last_seen})"
        out.print(line, markup=False)


@blocklist_app.command("exclude")
def exclude_cmd(
    what: Annotated[str, typer.Argument(help="Prefix, address or AS number (AS64500).")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    operation: Annotated[
        Path | None, typer.Option("--operation", help="Or the store of this operation.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Why (shown by check).")] = "",
    remove: Annotated[bool, typer.Option("--remove", help="Stop excluding it.")] = False,
) -> None:
    """Never list a network (a network that asked to be delisted, a shared range).

    Example: sinkhole blocklist exclude AS64505 --operation examples/megad-sim.toml --note "NAT"
    """
    from sinkhole import blocklist

    kind, value = blocklist.exclude(_given(data, operation), what, note, remove)
    shown = f"AS{value}" if kind == "asn" else value
    out.print(f"{'no longer excluded' if remove else 'excluded'}: {shown}", markup=False)


@blocklist_app.command("add")
def add_cmd(
    address: Annotated[str, typer.Argument(help="The address to list by hand.")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    operation: Annotated[
        Path | None, typer.Option("--operation", help="Or the store of this operation.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (in the TXT answer).")] = "",
    days: Annotated[
        float | None, typer.Option("--days", help="Listed this long (default: until removed).")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Take a hand addition off.")] = False,
) -> None:
    """List an address by hand (seen elsewhere, reported by a partner).

    Example: sinkhole blocklist add 192.0.2.7 --operation examples/megad-sim.toml --days 30
    """
    from sinkhole import blocklist

    key = blocklist.add(_given(data, operation), address, reason, days, remove)
    out.print(f"{'removed' if remove else 'added'}: {key}", markup=False)


@dnsbl_app.command("serve")
def dnsbl_serve_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    listen: Annotated[str, typer.Option("--listen", help="HOST:PORT (port 0: a free one).")],
    zone: Annotated[str, typer.Option("--zone", help="The DNSBL zone, e.g. dnsbl.example.")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    dataset: Annotated[list[str] | None, typer.Option("--dataset", help=_DATASET_HELP)] = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (1-64).")] = 1,
    rate_limit: Annotated[
        int,
        typer.Option("--rate-limit", help="UDP answers a second per /24 (/56) and rcode; 0: off."),
    ] = 1000,
    refresh: Annotated[
        float,
        typer.Option("--refresh", help="Seconds between folds of new events into the listing."),
    ] = 60.0,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop after this many seconds.")
    ] = None,
) -> None:
    """Answer DNSBL queries (RFC 5782) from the listing, over UDP and TCP.

    Listed addresses get A 127.0.0.x (x: the family's code, see docs/blocklist.md) and a
    TXT reason; others NXDOMAIN. The listing is brought up to date from the store every
    --refresh seconds while `sinkhole serve` writes it, and swapped in without dropping
    a query. Builds the listing first if there is none.

    Example: sinkhole dnsbl serve examples/megad-sim.toml --listen 127.0.0.1:5354 --zone bl.example
    """
    from sinkhole import blocklist
    from sinkhole import operation as operation_mod
    from sinkhole.blocklist import state
    from sinkhole.servers import dnsbl

    _check_seconds("--duration", duration, 3660 * 86400.0)
    _check_seconds("--refresh", refresh, 86400.0)
    if not 0 <= rate_limit <= 10_000_000:
        raise SinkholeError(f"--rate-limit {rate_limit}: expected 0 to 10000000")
    dnsbl.check_zone(zone)
    op = operation_mod.load(operation)
    root = _store(_data_dir(operation, data))
    try:
        host, port = operation_mod.parse_address(listen)
    except ValueError as exc:
        raise SinkholeError(f"--listen: {exc}") from None
    networks = _attributor(dataset or [], operation, "dnsbl")
    if not state.db_path(root).exists():
        counts = blocklist.build(root, networks, removal=_removal(op))
        out.print(f"built the listing: {counts.listed:,} listed", markup=False)
    sink = op.sinkhole
    config = dnsbl.DnsblConfig(
        zone=zone, host=host, port=port, nameservers=sink.nameservers,
        hostmaster=sink.hostmaster, ttl=sink.ttl, workers=workers, rate_limit=rate_limit,
        refresh=refresh,
    )  # fmt: skip

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    dnsbl.serve(config, _source(root, networks), say, stop_after=duration)
    say("stopped")


def _source(root: Path, networks: Any) -> Any:
    """The DNSBL's view of the listing at `root`, and how the parent folds new events in."""
    from sinkhole.blocklist import policy, state
    from sinkhole.servers.dnsbl import Source

    def refresh() -> str | None:
        before = state.serial(root)
        counts = policy.update(root, networks)
        if counts.serial == before:
            return None
        return (
            f"listing updated: {counts.listed:,} listed, {counts.delisted:,} delisted "
            f"({counts.folded_files} new segment file(s), {counts.seconds:.1f} s)"
        )

    return Source(
        serial=lambda: state.serial(root),
        entries=lambda: policy.entries(root),
        refresh=refresh,
    )
