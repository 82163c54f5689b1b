"""The `sinkhole notify` command (part of the command tree in cli.py)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sinkhole.cli import _attributor, _count, _data_dir, _when, app, err, out
from sinkhole.exceptions import SinkholeError


@app.command("notify")
def notify_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the reports, messages and the ledger.")
    ],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="Attribution dataset (repeatable; `lab`). Default: the operation's datasets.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build everything, write .eml files, send nothing.")
    ] = False,
    smtp: Annotated[
        str | None, typer.Option("--smtp", help="HOST:PORT of the SMTP server to send through.")
    ] = None,
    sender: Annotated[
        str | None,
        typer.Option("--from", help="Sender address (default: the operation's from_address)."),
    ] = None,
    starttls: Annotated[bool, typer.Option("--starttls", help="Upgrade with STARTTLS.")] = False,
    cafile: Annotated[
        Path | None, typer.Option("--cafile", help="CA certificates to trust for STARTTLS.")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="SMTP login name.")] = None,
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="File holding the SMTP password.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Events from: ISO (UTC), today, 2h, 7d …")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Events before.")] = None,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="Folder with subject.txt / body.txt.")
    ] = None,
    rate: Annotated[
        float, typer.Option("--rate", min=0.01, max=1000, help="Messages per second, at most.")
    ] = 5.0,
    contact_gap: Annotated[
        float | None,
        typer.Option(
            "--contact-gap",
            min=0,
            max=24 * 366,
            help="Hours between two messages to one contact (default: contact_gap_hours, or 20).",
        ),
    ] = None,
    retries: Annotated[
        int, typer.Option("--retries", min=0, max=20, help="Tries after a temporary failure.")
    ] = 3,
    backoff: Annotated[
        float, typer.Option("--backoff", min=0, max=3600, help="Seconds before the first retry.")
    ] = 2.0,
    resend_uncertain: Annotated[
        bool,
        typer.Option("--resend-uncertain", help="Send again what may have gone out already."),
    ] = False,
    xarf_check: Annotated[
        str,
        typer.Option("--xarf-check", help="Validate XARF reports: first (per contact), all, none."),
    ] = "first",
    status: Annotated[
        bool, typer.Option("--status", help="Show what the ledger says was sent, and stop.")
    ] = False,
    bounces: Annotated[
        list[Path] | None,
        typer.Option("--bounces", help="Read bounces (mbox, .eml or Maildir) into the ledger."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Hand every infected address to its network: per-contact reports, e-mailed once.

    Per abuse contact: Shadowserver-format CSVs, a XARF v4 report per address and an
    e-mail from editable templates, under --out; sent over SMTP with a ledger, so a
    re-run or a crash never sends a report twice.

    Example: sinkhole notify examples/megad-sim.toml --out reports/ --dry-run
    """
    from sinkhole import notify
    from sinkhole import operation as operation_mod
    from sinkhole.notify import xarf_reports

    if status:
        _print_status(notify.status(out_dir), as_json)
        return
    if bounces:
        counts = notify.read_bounces(out_dir, bounces)
        _print(counts, as_json, lambda: _say_counts("bounces read", counts))
        return
    if dry_run == (smtp is not None):
        raise SinkholeError("notify: give --dry-run or --smtp HOST:PORT (one of them)")
    if xarf_check not in xarf_reports.CHECKS:
        raise SinkholeError(f"--xarf-check {xarf_check!r}: expected first, all or none")
    if (user is None) != (password_file is None):
        raise SinkholeError("--user and --password-file go together")
    op = operation_mod.load(operation)
    address = sender or op.notify.from_address
    if address is None:
        raise SinkholeError("notify: give --from ADDR (or [notify] from_address in the operation)")
    address = _mailbox(address, "--from")
    server = None
    if smtp is not None:
        try:
            host, port = operation_mod.parse_address(smtp)
        except ValueError as exc:
            raise SinkholeError(f"--smtp {smtp!r}: {exc}") from None
        if port == 0:
            raise SinkholeError(f"--smtp {smtp!r}: expected HOST:PORT with a port")
        server = notify.Server(
            host, port, address, starttls, user, _password(password_file), cafile
        ).check()
    if templates is None and op.notify.templates:
        templates = op.resolve(op.notify.templates)
    root = _data_dir(operation, data)
    networks = _attributor(dataset or [], operation, "notify")
    reporter = notify.Reporter(op.notify.org, address, op.operation.name, op.notify.reply_to or "")
    gap = op.notify.contact_gap_hours if contact_gap is None else contact_gap
    pace = notify.Pace(rate, gap * 3600.0, retries, backoff)
    outcome = notify.run(
        root,
        out_dir,
        networks,
        reporter,
        server,
        pace,
        _when(since, "--since"),
        _when(until, "--until"),
        templates,
        xarf_check,
        resend_uncertain,
        say=None if as_json else (lambda line: err.print(f"  {line}", markup=False)),
    )
    result = outcome.as_dict()
    _print(result, as_json, lambda: _print_outcome(result, dry_run))
    if outcome.sent.get("refused") or outcome.sent.get("uncertain"):
        raise typer.Exit(1)


def _mailbox(value: str, flag: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise SinkholeError(f"{flag} {value!r}: not an e-mail address: {exc}") from None


def _password(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SinkholeError(f"--password-file {path}: cannot read: {exc}") from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        err.print(f"notify: warning: {path} can be read by others (chmod 600 it)", markup=False)
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise SinkholeError(f"--password-file {path}: empty")
    return lines[0]


def _print(result: Any, as_json: bool, human: Any) -> None:
    if as_json:
        out.print(json.dumps(result, indent=2, default=str), markup=False)
    else:
        human()


def _say_counts(title: str, counts: dict[str, int]) -> None:
    out.print(f"{title}: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items()))


def _print_outcome(result: dict[str, Any], dry_run: bool) -> None:
    built = result["built"]
    table = Table(title=f"notifications ({'dry run' if dry_run else 'sent over SMTP'})")
    for column in ("contact", "addresses", "networks", "state", "files"):
        table.add_column(column, justify="right" if column in ("addresses", "files") else "left")
    for report in result["reports"]:
        nets = ", ".join(f"AS{n['asn']}" for n in report["networks"][:3] if n["asn"])
        table.add_row(
            report["contact"],
            f"{report['addresses']:,}",
            nets or "-",
            report["state"] + (f" ({report['problem']})" if report["problem"] else ""),
            str(len(report["files"])),
        )
    wide = out if out.is_terminal else type(out)(highlight=False, width=max(out.width, 140))
    wide.print(table)
    out.print(
        f"{_count(built['addresses'], 'infected address', 'infected addresses')} from "
        f"{built['events']:,} events; {_count(built['reports'], 'report')} built in "
        f"{built['seconds']:.1f} s; unattributed addresses: {built['unattributed_addresses']:,}; "
        f"already sent earlier: {built['already_sent']:,}"
    )
    if result["delivery"]:
        _say_counts("delivery", result["delivery"])
    _say_counts("ledger", result["ledger"])
    out.print(f"under {result['out']} (ledger: {result['out']}/ledger.sqlite)")


def _print_status(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print(json.dumps(report, indent=2), markup=False)
        return
    table = Table(title=f"notification ledger ({report['out']})")
    for column in ("report", "contact", "addresses", "days", "state", "tries", "updated", "reply"):
        table.add_column(column)
    for r in report["reports"]:
        table.add_row(
            r["report_id"][:12],
            r["contact"],
            f"{r['addresses']:,}",
            f"{r['first_day']}..{r['last_day']}",
            r["state"],
            str(r["attempts"]),
            r["sent_at"] or r["updated"],
            r["reply"][:60],
        )
    wide = out if out.is_terminal else type(out)(highlight=False, width=max(out.width, 160))
    wide.print(table)
    _say_counts("reports", report["totals"] or {"none": 0})
