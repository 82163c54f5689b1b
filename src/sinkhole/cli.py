"""The command tree: parse, call one function, print."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

# typer vendors click; these are the exceptions its parser raises for bad usage
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from sinkhole import __version__, families
from sinkhole.dga import date_span, days, parse_date, parse_params
from sinkhole.exceptions import SinkholeError
from sinkhole.progress import progress_bar

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


class _Root(TyperGroup):
    """Turns any SinkholeError or usage error into one line on stderr and exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SinkholeError as exc:
            sys.stderr.write(f"sinkhole: error: {exc.message}\n")
            raise typer.Exit(2) from None

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; a usage error is one line, like every other error."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )
        except NoArgsIsHelpError as exc:
            exc.show()  # a bare `sinkhole` or `sinkhole dga`: the help is the answer
            sys.exit(2)
        except ClickException as exc:
            sys.stderr.write(f"sinkhole: error: {_usage_message(exc)}\n")
            sys.exit(2)
        except typer.Abort:
            sys.stderr.write("sinkhole: error: aborted\n")
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def _usage_message(exc: ClickException) -> str:
    """A click error as one line that names the command and where to read more."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, UsageError) and ctx is not None:
        path = ctx.command_path
        root = ctx.find_root().info_name or ""
        command = path.removeprefix(root).strip() or root
        return f"{command}: {message} (see {path} --help)"
    return message


class _DgaGroup(_Root):
    """`sinkhole dga FAMILY …` generates; `sinkhole dga lookup …` looks up."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["generate", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_Root,
    help="Defensive botnet takedown toolkit: plan the seizure of every C&C channel, "
    "sinkhole it, count and notify.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
dga_app = typer.Typer(
    cls=_DgaGroup,
    help="Generate DGA domains (`sinkhole dga FAMILY --date D`) or look domains up.\n\n"
    "Example: sinkhole dga necurs --date 2015-08-28",
    no_args_is_help=True,
)
app.add_typer(dga_app, name="dga")


def _progress() -> Progress:
    return progress_bar(err)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"sinkhole {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Defensive botnet takedown toolkit: plan, sinkhole, count and notify."""


@app.command("families")
def families_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List known families, their channels in fallback order and DGA parameters.

    Example: sinkhole families --json
    """
    rows: list[dict[str, Any]] = []
    for family in families.all_families():
        dga = family.dga
        rows.append(
            {
                "name": family.name,
                "summary": family.summary,
                "synthetic": family.synthetic,
                "channels": [c.kind for c in family.channels],
                "dga": None
                if dga is None
                else {
                    "period": dga.info.period,
                    "per_period": dga.info.per_period,
                    "per_day": dga.info.per_day,
                    "tlds": list(dga.info.tlds),
                    "seeding": dga.info.seeding,
                    "params": {p.name: p.default for p in dga.info.params},
                },
            }
        )
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    table = Table(title="sinkhole families")
    for column in ("family", "channels (fallback order)", "DGA", "TLDs", "params"):
        # fold, never cut: a parameter's default (a seed) is only useful whole
        table.add_column(column, overflow="fold")
    for row in rows:
        info = row["dga"]
        dga_text = tlds = params = "-"
        if info:
            dga_text = f"{info['per_period']}/{info['period']} ({info['seeding']})"
            tlds = " ".join(info["tlds"][:8]) + (" …" if len(info["tlds"]) > 8 else "")
            params = "\n".join(f"{k}={_param_text(v)}" for k, v in info["params"].items()) or "-"
        name = row["name"] + (" [yellow](synthetic)[/]" if row["synthetic"] else "")
        table.add_row(name, " → ".join(row["channels"]), dga_text, tlds, params)
    out.print(table)


def _param_text(value: Any) -> str:
    """A parameter value as `--param KEY=VALUE` takes it (booleans as true/false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dga_app.command("generate")
def dga_generate(
    family: Annotated[str, typer.Argument(help="Family name, e.g. necurs.")],
    date: Annotated[str, typer.Option("--date", "-d", help="First day, YYYY-MM-DD (UTC).")],
    ndays: Annotated[int, typer.Option("--days", "-n", min=1, max=3660, help="Days.")] = 1,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="DGA parameter KEY=VALUE.")
    ] = None,
    unique: Annotated[bool, typer.Option("--unique", help="Print each domain once.")] = False,
) -> None:
    """Print the domains FAMILY's bots try, one per line, in the bot's order.

    Example: sinkhole dga qakbot --date 2016-02-21 --days 2 --param seed=0
    """
    fam = families.get(family)
    dga = fam.dga
    if dga is None:
        raise SinkholeError(f"family {fam.name!r} has no DGA")
    start = parse_date(date)
    params = dga.params(parse_params(param or []))
    # the whole range is checked before the first name is printed: a half-written
    # list followed by an error is worse than an error
    first, last = date_span(start, ndays)
    dga.check_dates(first, last)
    seen: set[str] = set()
    write = sys.stdout.write
    try:
        for day in days(start, ndays):
            for name in dga.generate(day, **params):
                if unique:
                    if name in seen:
                        continue
                    seen.add(name)
                write(name + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()


@dga_app.command("lookup")
def dga_lookup(
    domains: Annotated[
        list[str] | None, typer.Argument(help="Domains to look up; '-' reads stdin.")
    ] = None,
    file: Annotated[
        list[Path] | None, typer.Option("--file", "-f", help="File of domains (or rank,domain).")
    ] = None,
    around: Annotated[
        str | None,
        typer.Option("--around", help="Centre of a window (default: each family's active years)."),
    ] = None,
    years: Annotated[
        float | None, typer.Option("--years", help="Years either side of --around (default 2).")
    ] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="First bot date of a window, YYYY-MM-DD.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last bot date of a window, YYYY-MM-DD.")
    ] = None,
    family: Annotated[
        list[str] | None, typer.Option("--family", help="Only these families (repeatable).")
    ] = None,
    operation: Annotated[
        Path | None, typer.Option("--operation", help="Use this operation's DGA parameters.")
    ] = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Index cache folder.")] = None,
    matched_only: Annotated[
        bool, typer.Option("--matched-only", help="Print only generated domains.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines output.")] = False,
) -> None:
    """Say which families, on which dates, generate each domain (or a parent of it).

    Prints `domain<TAB>family<TAB>dates<TAB>how` per match and `domain<TAB>-` for none.
    By default each family's active years are searched; --around/--years or
    --from/--to search a window instead. The index is built once per family and
    year (progress on stderr), cached, and reused by every later window.

    Example: sinkhole dga lookup 1du8u2eq5y1iyt43878a8awbt.com --family newgoz
    """
    from sinkhole import dga_index
    from sinkhole import operation as operation_mod

    queries = dga_index.Queries()
    for item in domains or []:
        if item == "-":
            for number, line in enumerate(sys.stdin, 1):
                queries.add(line, f"stdin line {number}")
        else:
            queries.add(item, "argument")
    for path in file or []:
        dga_index.read_queries(path, queries)
    if not queries.names:
        if queries.invalid:
            raise SinkholeError(
                f"no domain names to look up: none of the {queries.invalid:,} given is one, "
                f"e.g. {queries.example}"
            )
        raise SinkholeError("no domains to look up: give DOMAIN arguments, '-' or --file")
    if queries.invalid:
        what = "name that is not" if queries.invalid == 1 else "names that are not"
        sys.stderr.write(
            f"sinkhole: skipped {queries.invalid:,} {what} a domain name, e.g. {queries.example}\n"
        )
    params: dict[str, dict[str, Any]] = {}
    if operation is not None:
        op = operation_mod.load(operation)
        params = {t.family: dict(t.dga_params) for t in op.targets if t.dga_params}
    spec = _lookup_spec(around, years, first, last, family, params)
    with _IndexProgress() as progress:
        try:
            index = dga_index.ensure(spec, cache, progress)
        except KeyboardInterrupt:
            sys.stderr.write(
                "sinkhole: interrupted; the index years built so far are kept, "
                "the next lookup builds only the rest\n"
            )
            raise typer.Exit(130) from None
    found = dga_index.lookup(index, queries.names)
    lines: list[str] = []
    for name, matches in found.items():
        if as_json:
            if matches or not matched_only:
                lines.append(
                    json.dumps({"domain": name, "matches": [_match_json(m) for m in matches]})
                )
            continue
        for match in matches:
            lines.append(f"{name}\t{match.family}\t{match.describe()}\t{match.via}")
        if not matches and not matched_only:
            lines.append(f"{name}\t-")
    try:
        sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()
    hits = sum(1 for m in found.values() if m)
    sys.stderr.write(f"{hits:,} of {len(found):,} domains generated by a DGA {spec.label}\n")


def _lookup_spec(
    around: str | None,
    years: float | None,
    first: str | None,
    last: str | None,
    names: list[str] | None,
    params: dict[str, dict[str, Any]],
) -> Any:
    """The index coverage the lookup options ask for."""
    from sinkhole import dga_index

    ranged = first is not None or last is not None
    if ranged and (around is not None or years is not None):
        raise SinkholeError("give either --from/--to or --around/--years, not both")
    if first is not None or last is not None:
        if first is None or last is None:
            raise SinkholeError("--from and --to go together")
        return dga_index.IndexSpec.between(parse_date(first), parse_date(last), names, params)
    if around is None and years is None:
        return dga_index.IndexSpec.active(names, params, _today())
    center = parse_date(around) if around is not None else _today()
    return dga_index.IndexSpec.around(center, 2.0 if years is None else years, names, params)


class _IndexProgress:
    """Index build progress on stderr: a Rich bar on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> _IndexProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, unit: str, done: int, total: int) -> None:
        if not unit:
            if done < total:
                self._start(done, total)
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=done, description=f"DGA index: {unit}")
        else:
            sys.stderr.write(f"sinkhole: DGA index: {unit} built ({done}/{total})\n")
            sys.stderr.flush()

    def _start(self, done: int, total: int) -> None:
        if err.is_terminal:
            self.bar = _progress()
            self.bar.start()
            self.task = self.bar.add_task("DGA index (built once, cached)", total=total)
            self.bar.update(self.task, completed=done)
        else:
            sys.stderr.write(
                f"sinkhole: building the DGA index: {total - done} of {total} (family, year) "
                "files to build, cached for later lookups\n"
            )
            sys.stderr.flush()


def _match_json(match: Any) -> dict[str, Any]:
    return {
        "family": match.family,
        "any_date": match.any_date,
        "dates": [[a.isoformat(), b.isoformat()] for a, b in match.dates],
        "via": match.via,
    }


@app.command("plan")
def plan_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Where to write the plan.")] = Path(
        "plan"
    ),
    benign: Annotated[
        list[Path] | None,
        typer.Option("--benign", help="Benign domain list (one a line or rank,domain CSV)."),
    ] = None,
    layout: Annotated[
        str, typer.Option("--zone-layout", help="shared (one zone file) or per-domain.")
    ] = "shared",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Compute every seizure the operation needs and write CSV, JSON, zones and RPZ.

    Example: sinkhole plan examples/megad-sim.toml --out plan/
    """
    from sinkhole import operation as operation_mod
    from sinkhole import plan as plan_mod

    if layout not in ("shared", "per-domain"):
        raise SinkholeError(f"--zone-layout {layout!r}: expected shared or per-domain")
    op = operation_mod.load(operation)
    plan_mod.check_out(out_dir)  # before the work, which can take minutes
    with _progress() as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage} DGA periods", total=total)
            bar.update(tasks[stage], completed=done)

        plan = plan_mod.compute(op, progress)
        for path in benign or []:
            plan.collisions.extend(
                plan_mod.benign_collisions(plan.domains, plan_mod.read_domain_list(path))
            )
        task = bar.add_task("writing files", total=None)
        written = plan_mod.write(
            plan, out_dir, "per-domain" if layout == "per-domain" else "shared"
        )
        bar.update(task, completed=1, total=1)
    summary = plan_mod.summary(plan)
    if as_json:
        out.print(json.dumps(summary, indent=2), markup=False)
    else:
        _print_plan(plan, summary, out_dir, len(written))


def _print_plan(plan: Any, summary: dict[str, Any], out_dir: Path, files: int) -> None:
    window = summary["window"]
    out.print(
        f"[bold]{summary['operation']}[/]: {window['start']} → {window['end']} "
        f"({_count(window['days'], 'day')}) — {_count(summary['domains'], 'domain')}, "
        f"{_count(summary['addresses'], 'address', 'addresses')}"
    )
    table = Table(title="per channel")
    table.add_column("channel")
    table.add_column("count", justify="right")
    for channel, count in summary["per_channel"].items():
        table.add_row(channel, f"{count:,}")
    tlds = Table(title="per TLD (registry)")
    tlds.add_column("tld")
    tlds.add_column("domains", justify="right")
    per_tld = list(summary["per_tld"].items())
    for tld, count in per_tld[:12]:
        tlds.add_row(tld, f"{count:,}")
    if len(per_tld) > 12:
        tlds.add_row(f"… {len(per_tld) - 12} more", f"{sum(c for _, c in per_tld[12:]):,}")
    out.print(table)
    out.print(tlds)
    per_day = plan.per_day()
    day_table = Table(title="domains held per day")
    day_table.add_column("day")
    day_table.add_column("held", justify="right")
    shown = per_day if len(per_day) <= 14 else per_day[:7] + per_day[-7:]
    for index, (day, count) in enumerate(shown):
        if len(per_day) > 14 and index == 7:
            day_table.add_row("…", "…")
        day_table.add_row(day.isoformat(), f"{count:,}")
    out.print(day_table)
    for finding in plan.unseizable:
        out.print(
            f"[bold red]UNSEIZABLE[/] {finding.family}: {finding.subject} — {finding.detail}; "
            "seizing names will not close this channel"
        )
    for finding in plan.gaps:
        out.print(f"[yellow]GAP[/] {finding.family}: {finding.subject} — {finding.detail}")
    if plan.collisions:
        out.print(f"[bold red]COLLISIONS[/] {len(plan.collisions):,} (see findings.csv):")
        for finding in plan.collisions[:10]:
            out.print(f"  {finding.subject} ({finding.family}): {finding.detail}")
    out.print(f"wrote {_count(files, 'file')} under {out_dir}", markup=False)


@app.command("simulate")
def simulate_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    plan_dir: Annotated[
        Path | None,
        typer.Option("--plan", help="A plan folder (domains.csv, addresses.csv) as really seized."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    timeline: Annotated[
        Path | None,
        typer.Option("--timeline", help="When each action takes effect (TOML): simulate the days."),
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="With --timeline: write PNG/SVG charts here.")
    ] = None,
) -> None:
    """Walk each family's fallback chain every day: which channels stay open?

    Without --plan, checks the plan computed from the operation; with --plan,
    checks what was really seized (e.g. a domains.csv with refused rows removed).
    Exits 1 when any seizable channel stays open on any day. With --timeline, the
    emulated population lives through the rollout day by day (docs/timeline.md);
    exits 1 when any route is still open on its last day.

    Example: sinkhole simulate examples/megad-sim.toml --plan plan/
    """
    from sinkhole import operation as operation_mod
    from sinkhole import plan as plan_mod
    from sinkhole import simulate

    if chart is not None and timeline is None:
        raise SinkholeError("--chart draws a timeline: give --timeline FILE too")
    if timeline is not None:
        from sinkhole import timeline_view

        if timeline_view.simulate(operation, plan_dir, timeline, out, as_json, chart):
            raise typer.Exit(1)
        return

    op = operation_mod.load(operation)
    seized = (
        simulate.Seized.from_files(plan_dir)
        if plan_dir is not None
        else simulate.Seized.from_plan(plan_mod.compute(op))
    )
    outcomes = simulate.run(op, seized)
    leaks = _print_outcomes(outcomes, as_json)
    if leaks:
        raise typer.Exit(1)


def _print_outcomes(outcomes: list[Any], as_json: bool) -> bool:
    leaks = False
    rows = []
    for o in outcomes:
        seizable_open = {k: v for k, v in o.open_days.items() if k != "p2p"}
        leaks = leaks or bool(seizable_open)
        rows.append(
            {
                "family": o.family,
                "days": o.days,
                "closed_days": o.closed_days,
                "open": {k: [d.isoformat() for d in v] for k, v in o.open_days.items()},
                "missed": {k: sorted(v)[:20] for k, v in o.missed.items()},
            }
        )
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return leaks
    table = Table(title="simulated bots against the seizures")
    for column in ("family", "days closed", "open channels"):
        table.add_column(column)
    for row in rows:
        opened = ", ".join(
            f"{k} ({_count(len(v), 'day')})" if k != "p2p" else "[red]p2p (unseizable)[/]"
            for k, v in row["open"].items()
        )
        closed = f"{row['closed_days']}/{row['days']}"
        table.add_row(row["family"], closed, opened or "[green]none: every route closed[/]")
    out.print(table)
    return leaks


@app.command("demo")
def demo_cmd(
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo writes everything.")] = Path(
        "demo-out"
    ),
    machines: Annotated[
        int, typer.Option("--machines", min=100, max=2_000_000, help="Offline population.")
    ] = 264_000,
    live_machines: Annotated[int, typer.Option("--live-machines", min=10, max=20_000)] = 3000,
    live_seconds: Annotated[float, typer.Option("--live-seconds", min=2, max=300)] = 25.0,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="End without starting the dashboard.")
    ] = False,
) -> None:
    """Run the whole takedown story on the bundled megad-sim lab operation, on loopback.

    Plans the seizure, simulates the bots' fallback and a staggered rollout, starts the
    sinkhole, lets a few thousand emulated machines report in live, notifies (dry run),
    emulates the full population for a week offline, estimates the machines, answers DNSBL
    lookups, shows the spam drop, and ends with the dashboard's URL (kept up until Ctrl-C
    on a terminal).

    Example: sinkhole demo --dir demo-out --machines 3000 --live-machines 200 --live-seconds 4
    """
    from sinkhole import demo

    demo.run(
        folder,
        out,
        machines=machines,
        live_machines=live_machines,
        live_seconds=live_seconds,
        dashboard=not no_dashboard,
    )


@app.command("serve")
def serve_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    data: Annotated[Path | None, typer.Option("--data", help="Event store folder.")] = None,
    dns: Annotated[
        list[str] | None, typer.Option("--dns", help="DNS HOST:PORT (repeatable; port 0 = free).")
    ] = None,
    http: Annotated[list[str] | None, typer.Option("--http", help="HTTP HOST:PORT.")] = None,
    tls: Annotated[list[str] | None, typer.Option("--tls", help="TLS HOST:PORT.")] = None,
    resolver: Annotated[
        list[str] | None,
        typer.Option("--resolver", help="Resolver-emulation DNS HOST:PORT (hard-coded resolvers)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (0 = one per core).")
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option("--duration", help="Stop this many seconds after starting (default: never)."),
    ] = None,
    dashboard: Annotated[
        str | None,
        typer.Option("--dashboard", help="Also serve the dashboard on HOST:PORT (loopback!)."),
    ] = None,
    mail: Annotated[
        list[Path] | None,
        typer.Option("--mail", help="With --dashboard: mail log for its Impact page (repeatable)."),
    ] = None,
    takedown: Annotated[
        str | None, typer.Option("--takedown", help="With --mail: when the takedown took effect.")
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", min=0, max=720, help="With --mail: hours of churn.")
    ] = 12.0,
    sensor: Annotated[
        str | None, typer.Option("--sensor", help="This sensor's name (default: [data] sensor).")
    ] = None,
    ship: Annotated[
        str | None,
        typer.Option("--ship", help="Ship closed segments to s3://bucket/prefix or a folder."),
    ] = None,
    delete_shipped: Annotated[
        bool,
        typer.Option(
            "--delete-shipped", help="With --ship: remove local segments once confirmed shipped."
        ),
    ] = False,
) -> None:
    """Run the sinkhole listeners for the operation's planned names; record every contact.

    Listens where the operation's [listeners] say (flags override) and keeps events in the
    operation's store (default: a folder per operation under $XDG_DATA_HOME/sinkhole, else
    ~/.local/share/sinkhole). Prints the store and one line per listener when ready.
    SIGTERM/Ctrl-C flush and stop; SIGHUP re-reads the operation file without closing sockets.

    Example: sinkhole serve examples/megad-sim.toml --workers 2 --duration 12
    """
    from sinkhole import operation as operation_mod
    from sinkhole.servers import run

    _check_seconds("--duration", duration, MAX_SERVE_SECONDS)
    op = operation_mod.load(operation)
    if delete_shipped and ship is None:
        raise SinkholeError("--delete-shipped goes with --ship URL")
    config = run.config_from(op, data, dns, http, tls, workers, resolver, sensor, ship)
    config.ship_delete = delete_shipped
    if dashboard is not None:
        try:
            operation_mod.parse_address(dashboard)
        except ValueError as exc:
            raise SinkholeError(f"--dashboard {dashboard!r}: {exc}") from None
        config.dashboard = dashboard
    if mail or takedown is not None or tolerance != 12.0:
        from sinkhole.cli_dashboard import mail_args

        if dashboard is None:
            raise SinkholeError("--mail, --takedown and --tolerance go with --dashboard HOST:PORT")
        config.dashboard_args = mail_args(mail or [], takedown, tolerance, "UTC")

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    run.serve(config, say, stop_after=duration)
    say("stopped")


#: Longest `serve --duration`: ten years; beyond that, leave --duration out.
MAX_SERVE_SECONDS = 3660 * 86400.0


def _check_seconds(flag: str, value: float | None, most: float) -> None:
    """A duration is a finite number of seconds above 0 (click's ranges let nan through)."""
    if value is not None and not 0 < value <= most:
        raise SinkholeError(f"{flag} {value:g}: expected seconds above 0, at most {most:,.0f}")


@app.command("emulate")
def emulate_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    machines: Annotated[int, typer.Option("--machines", min=1, max=5_000_000)] = 264_000,
    days: Annotated[float, typer.Option("--days", min=0.01, max=60)] = 7.0,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same run.")] = 1,
    interval: Annotated[
        float, typer.Option("--interval-minutes", min=1, max=1440, help="Check-in interval.")
    ] = 60.0,
    offline: Annotated[
        bool, typer.Option("--offline", help="Write events straight into the store.")
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Event store (offline; default: the operation's store)."),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="KIND=HOST:PORT with KIND dns, http or resolver (live; default: where "
            "`sinkhole serve` listens for the operation).",
        ),
    ] = None,
    duration: Annotated[
        float, typer.Option("--duration", min=1, max=600, help="Real seconds a live run takes.")
    ] = 60.0,
    truth: Annotated[Path | None, typer.Option("--truth", help="Ground-truth JSON file.")] = None,
    behaviours: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Behaviour KEY=VALUE (repeatable): tz_spread_hours, evening_share, always_on, "
            "day_off, new_share, cleanup_per_day, interval_spread, jitter, "
            "requests_per_checkin, outage_hours, lease_spread (docs/emulator.md).",
        ),
    ] = None,
) -> None:
    """Emulate infected machines: live packets on loopback, or events straight into the store.

    Live, the bots aim at the operation's listeners, where `sinkhole serve` listens for the
    same operation file (start it first); exits 1 when no check-in got through.

    Example: sinkhole emulate examples/megad-sim.toml --machines 500 --days 1 --duration 5
    """
    from sinkhole import emulate, emulate_live
    from sinkhole import operation as operation_mod
    from sinkhole import plan as plan_mod
    from sinkhole.events.writer import EventWriter

    op = operation_mod.load(operation)
    settings = emulate.Settings(machines=machines, days=days, seed=seed, interval_minutes=interval)
    settings = settings.with_behaviours(behaviours or [], live=not offline)
    if offline:
        if target:
            raise SinkholeError("--offline writes to the store; it takes no --target")
        root = data or op.data_dir
        truth_path = truth or root / "truth.json"
        addresses = truth_path.with_name(truth_path.stem + "-addresses.parquet")
        # checked before the work, so an hour of emulation is never lost to a bad path;
        # a truth file elsewhere first, so a bad one leaves no empty store behind
        paths = (truth_path, addresses)
        for path in paths if truth is not None else ():
            _check_writable(path, "the truth file")
        _check_folder(root, "the event store")
        for path in paths:
            _check_writable(path, "the truth file")
        plan = plan_mod.compute(op)
        writer = EventWriter(root, "emulator")
        with _progress() as bar:
            task = bar.add_task(f"emulating {machines:,} machines x {days:g} days", total=machines)
            result = emulate.offline(
                op,
                plan,
                settings,
                writer,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                addresses_file=addresses,
            )
        writer.close()
        result.write(truth_path)
        out.print(
            f"{_count(result.events, 'event')} from {_count(result.machines, 'machine')} "
            f"into {root}; truth: {truth_path}"
        )
        return
    if data is not None:
        raise SinkholeError(
            "--data is for --offline: live bots' events go to the store of the running sinkhole"
        )
    targets = _targets(op, target or [])
    truth_path = truth or Path("truth.json")
    _check_writable(truth_path, "the truth file")
    targets.probe()
    sys.stderr.write(f"aiming at {targets.describe()}\n")
    plan = plan_mod.compute(op)
    with _progress() as bar:
        task = bar.add_task("live bots", total=None)
        live = emulate_live.run_live(
            op,
            plan,
            settings,
            targets,
            duration,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    text = json.dumps(emulate_live.truth_json(live), indent=2) + "\n"
    _write_private(truth_path, text, "the truth file")
    late = (f"; {_count(live.skipped, 'check-in')} not sent in time" if live.skipped else "") + (
        f"; {_count(live.cut, 'check-in')} cut short" if live.cut else ""
    )
    out.print(
        f"{_count(live.checkins, 'check-in')} from {_count(live.machines, 'machine')} in "
        f"{live.seconds:.1f} s ({live.failed:,} failed{late}); truth: {truth_path}",
        markup=False,
    )
    if live.checkins == 0:
        why = f" (first failure: {live.error})" if live.error else ""
        # one line, never wrapped: scripts read it
        sys.stderr.write(
            f"sinkhole: nothing got through to {targets.describe()}{why}: is `sinkhole serve "
            f"{operation}` running, with the same planned names?\n"
        )
        raise typer.Exit(1)


def _count(number: int, word: str, plural: str | None = None) -> str:
    """`1 machine`, `2,000 machines`; `1 address`, `2 addresses` (given the plural)."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"


def _check_folder(folder: Path, what: str) -> None:
    """Fail before the work when `folder` cannot be made or written (private: 0700)."""
    from sinkhole.events import private

    try:
        private.folder(folder)
        probe = folder / ".sinkhole-write-probe"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise SinkholeError(f"cannot write {what} {folder}: {exc.strerror or exc}") from None


def _check_writable(path: Path, what: str) -> None:
    """Fail before the work when `path` cannot be created or replaced (folders made 0700)."""
    from sinkhole.events import private

    try:
        private.folder(path.parent)
        existed = path.exists()
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        if not existed:
            path.unlink()
    except OSError as exc:
        raise SinkholeError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def _write_private(path: Path, text: str, what: str) -> None:
    """Write a file that holds addresses: 0600 from the start."""
    from sinkhole.events import private

    try:
        private.write_text(path, text)
    except OSError as exc:
        raise SinkholeError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def _targets(op: Any, given: list[str]) -> Any:
    from sinkhole import emulate_live
    from sinkhole import operation as operation_mod

    chosen: dict[str, tuple[str, int]] = {}
    # the same defaults `sinkhole serve` listens on for this operation
    defaults = {
        "dns": (op.listeners.dns, 53),
        "http": (op.listeners.http, 80),
        "resolver": (op.listeners.resolver, 53),
    }
    for kind, (values, port) in defaults.items():
        if values:
            chosen[kind] = operation_mod.parse_address(values[0], port)
    given_kinds = {item.partition("=")[0] for item in given}
    for item in given:
        kind, sep, where = item.partition("=")
        if not sep or kind not in defaults:
            raise SinkholeError(
                f"--target {item!r}: expected KIND=HOST:PORT, KIND dns, http or resolver"
            )
        try:
            chosen[kind] = operation_mod.parse_address(where)
        except ValueError as exc:
            raise SinkholeError(f"--target {item!r}: {exc}") from None
    if "dns" not in chosen or "http" not in chosen:
        raise SinkholeError(
            "live emulation needs a dns and an http target (--target KIND=HOST:PORT)"
        )
    targets = emulate_live.Targets(chosen["dns"], chosen["http"], chosen.get("resolver"))
    targets.check()
    if targets.resolver is not None and targets.resolver[1] == 0 and "resolver" not in given_kinds:
        targets.resolver = None  # a free port serve picks: the bots ask the dns listener instead
    for kind, address in targets.named():
        if address[1] == 0:
            raise SinkholeError(
                f"the {kind} target has port 0 (serve picks a free port): give the port "
                f"`sinkhole serve` printed with --target {kind}=HOST:PORT"
            )
    return targets


#: --data on the commands that read events.
_DATA_HELP = "Event store: a folder or s3://bucket/prefix (repeatable: read together)."


@app.command("population")
def population_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    data: Annotated[list[str] | None, typer.Option("--data", help=_DATA_HELP)] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb or spark.")] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL (spark://HOST:PORT …); default $SPARK_MASTER, "
            "$SPARK_REMOTE (Spark Connect), else local[2].",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    charts: Annotated[
        Path | None, typer.Option("--charts", help="Write PNG and SVG charts here.")
    ] = None,
    ips: Annotated[
        Path | None, typer.Option("--ips", help="Write first/last seen per IP (Parquet) here.")
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="Attribution dataset file (repeatable; `lab`: the lab table). "
            "Default: the operation's [attribution] datasets.",
        ),
    ] = None,
) -> None:
    """How many machines are behind the addresses: counts, NAT, and a churn-proof estimate.

    Example: sinkhole population examples/megad-sim.toml --engine duckdb --json
    """
    from sinkhole import population

    if engine not in population.ENGINES:
        raise SinkholeError(f"--engine {engine!r}: expected duckdb or spark")
    # outputs are checked before the counting, which can take minutes
    if charts is not None:
        _check_folder(charts, "the charts folder")
    if ips is not None:
        _check_writable(ips, "the address table")
    if spark_master is not None and engine != "spark":
        raise SinkholeError("--spark-master goes with --engine spark")
    root = _data_sources(operation, data)
    networks = _attributor(dataset or [], operation, "population")
    with _progress() as bar:
        bar.add_task(f"counting on {engine}", total=None)
        report = population.report(root, engine, networks, spark_master).as_dict()
    written = []
    if ips is not None:
        population.address_table(root, ips, engine, spark_master)
        written.append(ips)
    if charts is not None:
        from sinkhole.charts import population_charts

        written = population_charts(report, charts)
    if as_json:
        out.print(json.dumps(report, indent=2, default=str), markup=False)
        return
    m = report["machines"]
    out.print(
        f"[bold]{root}[/]: {report['events']:,} bot contacts, {report['first']} → {report['last']}"
    )
    table = Table(title="machines behind the addresses")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("unique source IPs", f"{report['unique_ips']:,}")
    if report["bot_ids"]:
        table.add_row("bot ids (decoder)", f"{report['bot_ids']:,}")
    if m["estimate"] is not None:
        table.add_row(
            "distinct machines over the window (no ids)",
            f"{m['estimate']:,} [{m['low']:,} – {m['high']:,}]",
        )
    else:
        table.add_row("distinct machines: bounds only", f"{m['low']:,} – {m['high']:,}")
    days_figure = report["machine_days"]
    if days_figure["estimate"] is not None:
        table.add_row(
            "machine-days",
            f"{days_figure['estimate']:,} [{days_figure['low']:,} – {days_figure['high']:,}]",
        )
    else:
        table.add_row(
            "machine-days: bounds only", f"{days_figure['low']:,} – {days_figure['high']:,}"
        )
    peak = report["online_at_peak"]
    table.add_row(
        "on line together at the peak", f"{peak['estimate']:,} [{peak['low']:,} – {peak['high']:,}]"
    )
    table.add_row("fixed ratio IPs/2 (for comparison)", f"{report['fixed_ratio']:,.0f}")
    table.add_row("measured check-in interval", f"{report['interval_seconds'] / 60:.1f} min")
    table.add_row("addresses shared by several bots (NAT)", f"{report['nat']['addresses']:,}")
    out.print(table)
    if m["estimate"] is None:
        out.print(f"no point estimate of distinct machines: {m['reason']}")
    active = {d["day"]: d["estimate"] for d in report["active_per_day"]}
    days = Table(title="per day")
    for column in ("day", "unique IPs", "new", "returning", "bot ids", "machines active"):
        days.add_column(column, justify="right")
    for d in report["per_day"]:
        seen = active.get(d["day"])
        days.add_row(
            d["day"],
            f"{d['unique_ips']:,}",
            f"{d['new_ips']:,}",
            f"{d['returning_ips']:,}",
            f"{d['bot_ids']:,}",
            "-" if seen is None else f"{seen:,}",
        )
    out.print(days)
    nets = Table(title="per network")
    for column in ("ASN", "network", "unique IPs", "bot ids"):
        nets.add_column(column)
    for n in report["per_network"][:10]:
        nets.add_row(str(n["asn"]), n["network"], f"{n['unique_ips']:,}", f"{n['bot_ids']:,}")
    out.print(nets)
    for path in written:
        out.print(f"wrote: {path}")


def _data_sources(operation: Path, data: list[str] | None) -> Any:
    """One store folder (a Path, as before), or several folders and shared stores (Stores)."""
    from sinkhole.events import sources

    if not data:
        return _data_dir(operation, None)
    found = sources.stores(data)
    single = sources.single_folder(found)
    if single is not None:
        return _data_dir(operation, single)
    for folder in found.folders:
        _data_dir(operation, folder)  # a file given as a store: one clear error
    return found


def _data_dir(operation: Path, data: Path | None) -> Path:
    from sinkhole import operation as operation_mod

    if data is not None:
        if data.exists() and not data.is_dir():
            raise SinkholeError(f"--data {data}: an event store is a folder, this is a file")
        return data
    op = operation_mod.load(operation)
    return op.data_dir


_AGO = {"m": 60, "h": 3600, "d": 86400}


def _when(text: str | None, name: str) -> dt.datetime | None:
    """An ISO date or time (UTC unless it says), `today`, `yesterday`, or `30m`/`2h`/`7d` ago."""
    if text is None:
        return None
    word = text.strip().lower()
    now = dt.datetime.now(dt.UTC)
    if word in ("today", "yesterday"):
        day = now.date() - dt.timedelta(days=1 if word == "yesterday" else 0)
        return dt.datetime.combine(day, dt.time(), dt.UTC)
    if len(word) > 1 and word[-1] in _AGO and word[:-1].isascii() and word[:-1].isdigit():
        seconds = int(word[:-1]) * _AGO[word[-1]]
        if seconds > 100 * 366 * 86400:
            raise SinkholeError(f"{name} {text!r}: at most 100 years ago")
        return now - dt.timedelta(seconds=seconds)
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SinkholeError(
            f"{name} {text!r}: expected an ISO date or time (2026-12-01T10:00), "
            "today, yesterday, or an age such as 30m, 2h, 7d"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@app.command("events")
def events_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    data: Annotated[list[str] | None, typer.Option("--data", help=_DATA_HELP)] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="From: ISO (UTC), today, yesterday, or 30m/2h/7d ago."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Before: same forms as --since.")
    ] = None,
    family: Annotated[str | None, typer.Option("--family", help="Only this family.")] = None,
    application: Annotated[
        str | None, typer.Option("--application", help="Only dns, http, tls or raw.")
    ] = None,
    src_ip: Annotated[str | None, typer.Option("--src-ip", help="Only this source.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N events.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="csv, jsonl, parquet or shadowserver.")
    ] = "csv",
    report: Annotated[
        str | None,
        typer.Option("--report", help="With --format shadowserver: the report type to write."),
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="With --format shadowserver: attribution dataset (repeatable; `lab`). "
            "Default: the operation's [attribution] datasets.",
        ),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (parquet needs it).")
    ] = None,
) -> None:
    """Print or export events from the store, also while the sinkhole is writing.

    `--format shadowserver --report event4_sinkhole_http` writes that Shadowserver
    report's exact columns (event4_sinkhole, event4_sinkhole_http, event4_sinkhole_dns,
    event6_sinkhole, event6_sinkhole_http), attributed.

    Example: sinkhole events op.toml --since 1h --family megad-sim --format jsonl
    """
    from sinkhole.events import export, shadowserver, store

    formats = (*export.FORMATS, "shadowserver")
    if fmt not in formats:
        raise SinkholeError(f"--format {fmt!r}: expected one of {', '.join(formats)}")
    if fmt == "parquet" and out_file is None:
        raise SinkholeError("--format parquet needs --out FILE")
    if fmt == "shadowserver":
        if report is None:
            raise SinkholeError(
                f"--format shadowserver needs --report, one of {', '.join(shadowserver.REPORTS)}"
            )
        shadowserver.check(report)
    elif report is not None or dataset:
        raise SinkholeError("--report and --dataset go with --format shadowserver")
    if out_file is not None:
        _check_writable(out_file, "the export")
    flt = store.Filter(
        _when(since, "--since"), _when(until, "--until"), family, application, src_ip, limit
    ).check()
    root = _data_sources(operation, data)
    held: dict[str, Any] | None = None
    if family is not None and family not in families.names():
        held = store.summary(root)
        if family not in held["per_family"]:
            raise SinkholeError(
                f"--family {family!r}: unknown, and the store holds no event of it; "
                f"known: {', '.join(families.names())}"
            )
    if fmt == "shadowserver":
        assert report is not None
        networks = _attributor(dataset or [], operation, "events")
        # the limit counts report rows, not the events of other listeners read on the way
        rows = shadowserver.build(store.read(root, replace(flt, limit=None)), report, networks)
        count = _write_report(rows.slice(0, limit) if limit is not None else rows, out_file)
    else:
        count = export.write(store.read(root, flt), fmt, out_file)
    if not count:
        # an empty answer must not look like an empty store, nor the other way round
        sys.stderr.write(
            f"sinkhole: no events match; {store.holdings(held or store.summary(root))}\n"
        )
    if out_file is not None:
        what = "report rows" if fmt == "shadowserver" else "events"
        err.print(f"wrote {count:,} {what} to {out_file}")


def _write_report(table: Any, path: Path | None) -> int:
    """A Shadowserver report as CSV to `path` (0600) or stdout; returns its row count."""
    from sinkhole.events import private, shadowserver

    try:
        if path is None:
            shadowserver.write(table, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            with private.open_file(path) as handle:
                shadowserver.write(table, handle)
    except OSError as exc:
        where = path or "stdout"
        raise SinkholeError(f"cannot write the report to {where}: {exc.strerror}") from None
    rows: int = table.num_rows
    return rows


@app.command("stats")
def stats_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    data: Annotated[list[str] | None, typer.Option("--data", help=_DATA_HELP)] = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.2, max=60, help="Seconds between samples.")
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Live figures from the running sinkhole and the store: rates, unique IPs, drops.

    Example: sinkhole stats examples/megad-sim.toml --json
    """
    from sinkhole import stats

    root = _data_sources(operation, data)
    report = stats.sample(root, interval)
    if as_json:
        out.print(json.dumps(report, indent=2), markup=False)
        return
    table = Table(title=f"sinkhole stats ({root})")
    for column in ("sensor", "state", "events/s", "durable", "dropped", *stats.COUNTERS.values()):
        table.add_column(column, justify="left" if column in ("sensor", "state") else "right")
    table.add_column("listeners")
    for row in report["sensors"]:
        listeners = ", ".join(f"{k} {v:,.0f}/s" for k, v in row["listener_rates"].items())
        table.add_row(
            row["sensor"],
            row["state"],
            f"{row['events_per_s']:,.0f}",
            f"{row['durable']:,}",
            f"{row['dropped']:,}",
            *(f"{row['counters'][key]:,}" for key in stats.COUNTERS),
            listeners or "-",
        )
    # piped or redirected output is read later: never cut it to an 80-column guess
    wide = out if out.is_terminal else Console(highlight=False, width=max(out.width, 160))
    wide.print(table)
    totals = report["store"]
    out.print(
        f"stored events: {totals['events']:,}; unique source IPs: {totals['unique_src_ips']:,}; "
        f"dropped: {report['dropped']:,}; unreadable files in quarantine: "
        f"{totals['quarantined']:,}"
    )
    for shipping in report.get("shipping", []):
        out.print(
            f"shipping to {shipping['to']}: {shipping['shipped']:,} segments shipped, "
            f"{shipping['pending']:,} pending ({shipping['pending_bytes'] / 1e6:,.1f} MB)"
            + (f"; last error: {shipping['last_error']}" if shipping["last_error"] else ""),
            markup=False,
        )


def _attributor(given: list[str], operation: Path | None, command: str) -> Any:
    """The datasets named by --dataset, else by the operation (the lab table for a lab one)."""
    from sinkhole import attribution
    from sinkhole import operation as operation_mod

    paths: list[Path | str] = [Path(p) if p != "lab" else p for p in given]
    if not paths and operation is not None:
        paths = operation_mod.load(operation).attribution_datasets()
    if not paths:
        if command == "attribute":
            raise SinkholeError(
                "attribute: name a dataset with --dataset PATH (or --operation FILE "
                "with [attribution] datasets)"
            )
        err.print(
            f"{command}: no attribution dataset (--dataset PATH or [attribution] datasets): "
            "networks are not attributed",
            markup=False,
        )
    return attribution.open_datasets(paths)


@app.command("attribute")
def attribute_cmd(
    addresses: Annotated[
        list[str] | None,
        typer.Argument(help="Addresses; `-` or none: one per line (or word) from stdin."),
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="Dataset file, format read from its content (repeatable; `lab`: the lab table).",
        ),
    ] = None,
    operation: Annotated[
        Path | None,
        typer.Option("--operation", help="Take the datasets from this operation's file."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, not CSV.")] = False,
) -> None:
    """Attribute addresses to networks: ASN, AS name, prefix, country, abuse contact.

    Prints CSV (ip,asn,as_name,prefix,country,abuse_contact,source); an address no
    dataset covers keeps its row, with empty fields.

    Example: sinkhole attribute 127.21.3.4 127.44.0.9 --operation examples/megad-sim.toml
    """
    from sinkhole.attribution import output

    networks = _attributor(dataset or [], operation, "attribute")
    given = addresses or ["-"]
    if given == ["-"]:
        texts = sys.stdin.buffer.read().decode("utf-8", errors="replace").split()
    else:
        texts = [a for a in given if a != "-"]
    found = networks.attribute(texts)
    if found.invalid:
        examples = ", ".join(repr(e) for e in found.examples)
        sys.stderr.write(
            f"sinkhole: skipped {_count(found.invalid, 'text')} that "
            f"{'is' if found.invalid == 1 else 'are'} not an IP address (e.g. {examples})\n"
        )
    if not len(found):
        raise SinkholeError("attribute: no valid IP address given")
    if found.uncovered:
        sys.stderr.write(
            f"sinkhole: {_count(found.uncovered, 'address', 'addresses')} no dataset covers "
            "(rows kept, fields empty)\n"
        )
    output.write(found, sys.stdout.buffer, as_json)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# commands kept in modules of their own register on `app` when imported
from sinkhole import (  # noqa: E402
    cli_blocklist,
    cli_dashboard,
    cli_impact,
    cli_notify,
    cli_ship,
    cli_verify,
)

__all__ = [
    "app",
    "cli_blocklist",
    "cli_dashboard",
    "cli_impact",
    "cli_notify",
    "cli_ship",
    "cli_verify",
    "main",
]


def main() -> None:
    """Console-script entry point."""
    app(prog_name="sinkhole")
