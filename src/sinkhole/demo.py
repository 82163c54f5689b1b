"""`sinkhole demo`: the whole takedown story on one machine, on loopback, in a few minutes.

1. Write the lab operation against the SYNTHETIC megad-sim family.
2. Plan it: every reserved domain, hard-coded resolver and DGA name, at once;
   and name a few domains from a feed (which family, which day) from the index.
3. Walk simulated bots through the plan, through half a takedown, and through a
   staggered rollout day by day (a registry late, a hold that ends).
4. Start the sinkhole on free loopback ports and let a few thousand emulated
   machines report in, live, on a compressed clock; ship its store to a shared one.
5. Attribute their addresses and build one report per abuse contact (a dry run:
   e-mails written as .eml files, nothing sent).
6. Emulate the full population for a week offline, straight into a store.
7. Tell the story: machines per channel, unique addresses against the true
   number of machines, the networks they sit in.
8. Estimate the machines without bot ids, and set it against the truth.
9. List the bots and answer a mail server's DNSBL lookups.
10. The spam: a mail server's log over the week, before and after the takedown.
11. The dashboard, behind its token (kept up until Ctrl-C on a terminal).
"""

from __future__ import annotations

import shutil
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from sinkhole import (
    attribution,
    demo_blocklist,
    demo_impact,
    emulate,
    emulate_live,
    families,
    feed_lookup,
    operation,
    plan,
    population,
    ship,
    simulate,
    timeline_view,
)
from sinkhole.events import store
from sinkhole.events.writer import EventWriter
from sinkhole.exceptions import SinkholeError
from sinkhole.progress import progress_bar
from sinkhole.servers.background import in_background

LIVE_MACHINES = 3000
LIVE_DAYS = 1.0
LIVE_SECONDS = 25.0
OFFLINE_MACHINES = 264_000
#: The event stores the demo writes under its folder (emptied when it runs again).
DEMO_STORES = ("offline-data", "live-data", "shared-store")
#: The file that marks a folder as the demo's own.
DEMO_MARK = ".sinkhole-demo"
OFFLINE_DAYS = 7.0


def clear_previous(folder: Path) -> None:
    """Empty the event stores of a demo that ran in `folder` before: they are written
    anew, not added to (a second week beside the first doubled the events and the demo's
    time). Only a folder the demo marked as its own, or one whose offline store holds the
    emulator's truth (demo folders from before the mark), is touched: a store of a real
    sinkhole is never removed."""
    if (
        not (folder / DEMO_MARK).is_file()
        and not (folder / "offline-data" / "truth.json").is_file()
    ):
        return
    for name in DEMO_STORES:
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)


def _progress(console: Console) -> Progress:
    return progress_bar(console)


def run(
    folder: Path,
    console: Console,
    machines: int = OFFLINE_MACHINES,
    live_machines: int = LIVE_MACHINES,
    live_seconds: float = LIVE_SECONDS,
    dashboard: bool = True,
) -> dict[str, Any]:
    """Run the demo under `folder`; returns the figures it printed."""
    began = time.monotonic()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        op_path = folder / "megad-sim.toml"
        clear_previous(folder)
        (folder / DEMO_MARK).touch()
        op_path.write_text(files("sinkhole").joinpath("data/megad-sim.toml").read_text())
    except OSError as exc:
        raise SinkholeError(f"cannot write the demo to {folder}: {exc.strerror}") from None
    op = operation.load(op_path)
    figures: dict[str, Any] = {}

    console.rule("[bold]1. the operation")
    console.print(
        f"{op_path}: megad-sim, a SYNTHETIC Mega-D-shaped family; lab names and addresses only"
    )

    console.rule("[bold]2. the plan: every way the bots reach their C&C, seized at once")
    full = plan.compute(op)
    plan.write(full, folder / "plan")
    channels = full.per_channel()
    table = Table(title=f"seized for {op.operation.hold_days} days from {op.operation.start}")
    table.add_column("channel")
    table.add_column("seized", justify="right")
    for name, count in sorted(channels.items()):
        table.add_row(name, f"{count:,}")
    console.print(table)
    figures["plan"] = dict(channels)
    began_lookup = time.monotonic()
    rows = feed_lookup.show(console, folder / "dga-index")
    found = sum(1 for row in rows if row[1] != "no DGA")
    console.print(
        f"{len(rows)} names, {found} made by a DGA, in {time.monotonic() - began_lookup:.1f} s; "
        f"{len(families.all_families())} families known (`sinkhole families`)"
    )
    figures["lookup"] = {"names": len(rows), "found": found}

    console.rule("[bold]3. simulated bots against the plan, and against half a takedown")
    whole = simulate.run(op, simulate.Seized.from_plan(full))
    partial = simulate.Seized.from_plan(full)
    partial.domains = {
        d: s for d, s in partial.domains.items() if full.domains[d].channels == {"static-domains"}
    }
    partial.addresses = set()
    half = simulate.run(op, partial)
    console.print(
        f"everything seized: every route closed on {whole[0].closed_days} of {whole[0].days} days"
    )
    opened = ", ".join(f"{k} ({len(v)} days)" for k, v in half[0].open_days.items())
    console.print(f"reserved domains only: bots escape through {opened}")
    console.print("a staggered rollout, day by day (herders take every name left to them):")
    figures["rollout"] = timeline_view.demo_act(folder / "rollout", console, machines=machines)

    console.rule("[bold]4. the sinkhole, live on loopback, with emulated bots reporting in")
    live_data = folder / "live-data"
    loopback = ["--dns", "127.0.0.1:0", "--http", "127.0.0.1:0", "--resolver", "127.0.0.1:0"]
    with in_background(op_path, live_data, ["--workers", "2", *loopback]) as sink:
        for line in sink.lines:
            if line.startswith("listening"):
                console.print(f"  {line}")
        targets = emulate_live.Targets(
            sink.address("dns"), sink.address("http"), sink.address("resolver")
        )
        settings = emulate.Settings(machines=live_machines, days=LIVE_DAYS, seed=7)
        with _progress(console) as bar:
            task = bar.add_task(
                f"{live_machines:,} machines, {LIVE_DAYS:g} day in {live_seconds:g} s", total=None
            )
            live = emulate_live.run_live(
                op,
                full,
                settings,
                targets,
                live_seconds,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    stored = store.summary(live_data)
    console.print(
        f"{live.checkins:,} check-ins from {live.machines:,} machines; the sinkhole stored "
        f"{stored['events']:,} events ({live.failed} failed contacts)"
    )
    figures["live"] = {
        "checkins": live.checkins,
        "machines": live.machines,
        "events": stored["events"],
    }

    shipped = ship.demo(live_data, folder / "shared-store", say=console.print)
    figures["ship"] = {"segments": shipped.shipped, "pending": shipped.pending}

    console.rule("[bold]5. attribution and notification of the live sinkhole's victims (dry run)")
    figures["notify"] = _notify(console, op, live_data, folder / "notify")

    console.rule(f"[bold]6. a week of the full population ({machines:,} machines), offline")
    offline_data = folder / "offline-data"
    writer = EventWriter(offline_data, "emulator")
    settings = emulate.Settings(machines=machines, days=OFFLINE_DAYS, seed=1)
    with _progress(console) as bar:
        task = bar.add_task("emulating", total=machines)
        truth = emulate.offline(
            op,
            full,
            settings,
            writer,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            addresses_file=offline_data / "truth-addresses.parquet",
        )
    writer.close()
    truth.write(offline_data / "truth.json")
    console.print(f"{truth.events:,} events written to {offline_data}")

    console.rule("[bold]7. what the sinkhole saw")
    figures["offline"] = _story(console, offline_data, truth)
    console.rule("[bold]8. how many machines, without bot ids")
    with _progress(console) as bar:
        bar.add_task("counting (events / events per machine on steady lines)", total=None)
        estimate = population.report(offline_data)
    m = estimate.machines
    if m.estimate is not None:
        head = f"distinct machines: [bold]{m.estimate:,.0f}[/] (95%: {m.low:,.0f}-{m.high:,.0f})"
    else:
        head = f"distinct machines: between {m.low:,.0f} and {m.high:,.0f} ({m.reason})"
    peak = estimate.online_at_peak
    console.print(
        f"{head}; true: [bold]{truth.machines:,}[/]; on line together at the peak: "
        f"{peak.estimate:,.0f}; unique IPs: {estimate.unique_ips:,}; "
        f"fixed ratio IPs/2: {estimate.fixed_ratio:,.0f}"
    )
    figures["estimate"] = m.as_dict()
    figures["online_at_peak"] = peak.as_dict()

    console.rule("[bold]9. the blocklist, and a mail server asking the DNSBL")
    figures["blocklist"] = _blocklist(console, op, offline_data)

    console.rule("[bold]10. did the spam stop? one mail server's log over the week")
    figures["impact"] = demo_impact.act(console, op, offline_data, truth, folder / "impact")

    console.print(
        f"\nEverything the demo wrote is under [bold]{folder}[/] "
        f"({time.monotonic() - began:.0f} s)."
    )
    if dashboard:
        console.rule("[bold]11. the dashboard")
        mail = ["--mail", figures["impact"]["log"], "--takedown", figures["impact"]["takedown"]]
        figures["dashboard"] = _dashboard(console, op_path, offline_data, mail)
    return figures


def _blocklist(console: Console, op: operation.Operation, root: Path) -> dict[str, Any]:
    """The listing built from the week's store, and real DNSBL lookups over loopback."""
    result = demo_blocklist.run(op, root, attribution.lab())
    console.print(
        f"listed {result['listed']:,} addresses ({result['excluded']:,} excluded, "
        f"{result['delisted']:,} delisted after the grace period) in {result['build_seconds']} s"
    )
    table = Table(title=f"DNSBL lookups under {demo_blocklist.ZONE} (RFC 5782), as a mail server")
    for column in ("address", "type", "over", "rcode", "answer"):
        table.add_column(column)
    for row in result["lookups"]:
        answer = " ".join(row["answer"])
        table.add_row(row["ip"], row["type"], row["transport"], row["rcode"], answer[:60])
    console.print(table)
    console.print(
        "`sinkhole dnsbl serve` answers the same; `sinkhole blocklist export --format "
        "rbldnsd|text|csv|stix|misp` feeds other tools"
    )
    return {k: result[k] for k in ("listed", "excluded", "delisted", "seconds")}


def _dashboard(console: Console, op_path: Path, root: Path, extra: list[str]) -> dict[str, Any]:
    """Start the dashboard on the week's store; keep it up until Ctrl-C on a terminal."""
    from sinkhole.web import server

    board = server.start(op_path, root, extra=extra)
    try:
        base, token = board.url.split("?token=", 1)
        refused = _status(base + "api/live", None)
        allowed = _status(base + "api/live", token)
        console.print(f"dashboard: [bold]{board.url}[/] (the spam drop on its Impact page)")
        console.print(
            f"(its API: {allowed} with the token, {refused} without; the token is kept 0600 in "
            f"{root / 'dashboard.token'}; the week's analyses fill the pages in the background)"
        )
        if sys.stdin.isatty() and sys.stdout.isatty():
            console.print("Ctrl-C stops it.")
            try:
                while board.process.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        else:
            console.print("not a terminal, so stopped now (`sinkhole dashboard` keeps one up)")
    finally:
        board.stop()
    return {"url": base, "with_token": allowed, "without_token": refused}


def _status(url: str, token: str | None) -> int:
    """The HTTP status of a GET to the dashboard (loopback), with or without the token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30):
            return 200
    except urllib.error.HTTPError as error:
        return error.code


def _notify(console: Console, op: operation.Operation, root: Path, out: Path) -> dict[str, Any]:
    """Reports per abuse contact from the live store, written as .eml files (nothing sent)."""
    from sinkhole import notify

    sender = op.notify.from_address or "cert@sinkhole.example"
    reporter = notify.Reporter(op.notify.org, sender, op.operation.name)
    outcome = notify.run(root, out, attribution.lab(), reporter, None)
    table = Table(title="one report per abuse contact (Shadowserver CSVs, XARF, e-mail)")
    table.add_column("abuse contact")
    table.add_column("network")
    table.add_column("infected addresses", justify="right")
    for report in outcome.batch.reports[:8]:
        net = report.networks[0] if report.networks else {"asn": 0, "as_name": ""}
        table.add_row(report.contact, f"AS{net['asn']} {net['as_name']}", f"{report.addresses:,}")
    console.print(table)
    console.print(
        f"{len(outcome.batch.reports)} messages written as .eml under {out} in "
        f"{outcome.batch.seconds:.1f} s; `sinkhole notify ... --smtp HOST:PORT` sends them, "
        "each once (ledger: notify/ledger.sqlite)"
    )
    return outcome.batch.summary()


def _story(console: Console, root: Path, truth: emulate.Truth) -> dict[str, Any]:
    con = store.connect(root)
    try:
        per_channel = dict(
            con.execute(
                "SELECT channel, count(DISTINCT bot_id) FROM events WHERE application = 'http' "
                "GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        ips = con.execute(
            "SELECT src_ip, count(*) FROM events WHERE application = 'http' GROUP BY 1"
        ).fetchall()
        bots = con.execute(
            "SELECT count(DISTINCT bot_id) FROM events WHERE application = 'http'"
        ).fetchone()
    finally:
        con.close()
    table = Table(title="machines reaching the sinkhole, by channel (HTTP check-ins)")
    table.add_column("channel")
    table.add_column("machines", justify="right")
    for name, count in per_channel.items():
        table.add_row(str(name), f"{count:,}")
    console.print(table)
    unique_ips = len(ips)
    seen_bots = int(bots[0]) if bots else 0
    console.print(
        f"unique source IPs: [bold]{unique_ips:,}[/]   bot ids seen: [bold]{seen_bots:,}[/]   "
        f"true machines: [bold]{truth.machines:,}[/]   "
        f"(IPs / machines = {unique_ips / max(truth.machines, 1):.2f})"
    )
    lab = attribution.lab()
    networks: Counter[int] = Counter()
    names: dict[int, str] = {}
    for ip, _count in ips:
        net = lab.lookup(str(ip))
        if net is not None:
            networks[net.asn] += 1
            names[net.asn] = f"{net.as_name} ({net.country})"
    top = Table(title="top lab networks by unique IPs")
    top.add_column("ASN")
    top.add_column("network")
    top.add_column("unique IPs", justify="right")
    top.add_column("true machines", justify="right")
    for asn, count in networks.most_common(8):
        top.add_row(
            f"AS{asn}", names[asn], f"{count:,}", f"{truth.per_isp[str(asn)]['machines']:,}"
        )
    console.print(top)
    return {
        "unique_ips": unique_ips,
        "bot_ids": seen_bots,
        "machines": truth.machines,
        "per_channel": per_channel,
        "events": truth.events,
    }
