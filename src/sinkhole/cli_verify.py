"""The `sinkhole verify` command (part of the command tree in cli.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sinkhole.cli import _progress, app, err, out
from sinkhole.dga import parse_date


@app.command("verify")
def verify_cmd(
    operation: Annotated[Path, typer.Argument(help="The operation file (TOML).")],
    plan_dir: Annotated[Path, typer.Option("--plan", help="The plan folder (domains.csv).")],
    resolver: Annotated[
        list[str],
        typer.Option("--resolver", help="HOST[:PORT] to ask (repeatable); nothing else is asked."),
    ],
    day: Annotated[
        str | None, typer.Option("--day", help="Only the names held on this day (YYYY-MM-DD).")
    ] = None,
    rate: Annotated[
        float, typer.Option("--rate", min=0.1, max=100_000, help="Queries per second, at most.")
    ] = 200.0,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=10_000, help="Queries in flight, at most.")
    ] = 64,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.05, max=60, help="Seconds to wait per try.")
    ] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Resolve every planned name through the given resolvers: does each land on the sinkhole?

    Prints `name<TAB>status<TAB>answer` for every name that does not (with ` @HOST:PORT`
    after the answer when several resolvers are asked), grouped by who must act; the
    groups go to stderr. Exits 1 when any name is open, 0 when every one lands.

    Example: sinkhole verify examples/megad-sim.toml --plan plan/ --resolver 127.0.0.1:5353
    """
    from sinkhole import operation as operation_mod
    from sinkhole import verify
    from sinkhole.simulate import Seized

    op = operation_mod.load(operation)
    resolvers = [verify.Resolver.parse(r) for r in resolver]
    when = parse_date(day) if day is not None else None
    names = verify.chosen_names(op, Seized.from_files(plan_dir).domains, resolvers, when)
    err.print(
        f"asking {', '.join(map(str, resolvers))} about {len(names)} planned names "
        f"({'held on ' + str(when) if when else 'the whole window'}), at most {rate:g} a second",
        markup=False,
    )
    with _progress() as bar:
        task = bar.add_task("names checked", total=len(names) * len(resolvers))
        document = verify.run(
            op,
            names,
            resolvers,
            when,
            rate,
            concurrency,
            timeout,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        out.print(json.dumps(document, indent=2), markup=False)
    else:
        several = len(resolvers) > 1
        for row in document["open"]:
            answer = row["answer"] + (f" @{row['resolver']}" if several else "")
            # written as is: the console would turn the tabs into spaces
            sys.stdout.write(f"{row['name']}\t{row['status']}\t{answer}\n")
        for group in document["groups"]:
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(group["statuses"].items()))
            line = f".{group['tld']}: {group['open']} open ({statuses}) — {group['act']}"
            err.print(line, markup=False)
        landed, queries = document["landed"], document["queries"]
        names = document["names"]
        err.print(
            f"{landed} of {queries} answers land on the sinkhole "
            f"({names} names, {len(resolvers)} resolvers)",
            markup=False,
        )
    if document["open"]:
        raise typer.Exit(1)
