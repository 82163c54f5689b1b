"""Notification benchmark: a week of 264k machines into per-contact reports, then SMTP.

The offline emulator writes a week of the lab botnet (264,000 machines) into a
store. `sinkhole notify --dry-run` then builds every report end to end in a
child process (attribution, Shadowserver CSVs, XARF per address, the e-mail),
twice: against the lab table (12 abuse contacts) and against the same address
space cut into /20s, one contact each (528 contacts, closer to the fan-out of
a real botnet). The 528 messages are then sent into an aiosmtpd sink in
another process, through `notify`'s delivery (ledger marks, one connection,
no pacing), beside a bare `smtplib` loop that sends the same bytes; and the
lab table's 12 reports with the default pace, as a user sends them.
"""

from __future__ import annotations

import ipaddress
import json
import os
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import scratch
from sinkhole import emulate, operation, plan
from sinkhole.attribution import lab_path
from sinkhole.events.writer import EventWriter
from sinkhole.notify import delivery
from sinkhole.notify.ledger import Ledger
from sinkhole.testing import dying_with_us

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
MACHINES = int(os.environ.get("BENCH_NOTIFY_MACHINES", "264000"))
DAYS = float(os.environ.get("BENCH_NOTIFY_DAYS", "7"))
SPLIT = 20  # prefix length of the many-contact table


def _split_table(path: Path) -> int:
    """The lab table's prefixes cut into /SPLIT networks, each with its own contact."""
    rows = ["prefix,asn,as_name,country,abuse_contact"]
    for line in lab_path().read_text().splitlines():
        if line.startswith(("#", "prefix")) or not line.strip():
            continue
        prefix, asn, name, country, _contact = line.split(",")
        for number, part in enumerate(ipaddress.ip_network(prefix).subnets(new_prefix=SPLIT)):
            rows.append(f"{part},{asn},{name},{country},abuse-{number}@as{asn}.example")
    path.write_text("\n".join(rows) + "\n")
    return len(rows) - 1


#: runs the CLI in this process and reports the process's own peak RSS on stderr's last line
CHILD = """
import resource, runpy, sys
sys.argv = ["sinkhole", *sys.argv[1:]]
try:
    runpy.run_module("sinkhole", run_name="__main__")
finally:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\\npeak-mb {peak:.0f}", file=sys.stderr)
"""


def _timed(arguments: list[str]) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Run `sinkhole ARGUMENTS` in a child; (wall seconds, its peak RSS in MB, the result)."""
    began = time.perf_counter()
    run = subprocess.run(
        dying_with_us([sys.executable, "-c", CHILD, *arguments]),
        capture_output=True,
        timeout=3600,
        check=False,
    )
    took = time.perf_counter() - began
    last = run.stderr.decode(errors="replace").strip().splitlines()[-1:]
    peak = float(last[0].split()[1]) if last and last[0].startswith("peak-mb ") else float("nan")
    return took, peak, run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sink(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd in its own process, discarding every message it accepts."""
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    sink = subprocess.Popen(
        dying_with_us([*command, "-c", "aiosmtpd.handlers.Sink"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return sink
        except OSError:
            time.sleep(0.1)
    sink.kill()
    raise RuntimeError("aiosmtpd did not start")


def _bare(port: int, messages: list[tuple[str, bytes]]) -> float:
    """The floor: one smtplib connection, sendmail per message, nothing recorded."""
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as conn:
        for recipient, data in messages:
            conn.sendmail("cert@sinkhole.example", [recipient], data)
    return time.perf_counter() - began


def bench_notify() -> None:
    """Dry-run build time and peak memory, 12 and 528 contacts; SMTP messages/s."""
    print(f"\n== notify: {MACHINES:,} machines x {DAYS:g} days, dry run; SMTP into aiosmtpd")
    op = operation.load(EXAMPLE)
    with scratch() as tmp:
        folder = Path(tmp)
        root = folder / "data"
        writer = EventWriter(root, "emulator")
        began = time.perf_counter()
        settings = emulate.Settings(machines=MACHINES, days=DAYS)
        truth = emulate.offline(op, plan.compute(op), settings, writer)
        writer.close()
        print(f"store: {truth.events:,} events in {time.perf_counter() - began:.0f} s")
        split = folder / "split.csv"
        networks = _split_table(split)
        outs = {}
        for label, dataset in (("lab table, 12 contacts", "lab"), (f"{networks} /20s", str(split))):
            out = folder / f"out-{len(outs)}"
            arguments = ["notify", str(EXAMPLE), "--data", str(root), "--dataset", dataset]
            took, peak, run = _timed([*arguments, "--out", str(out), "--dry-run", "--json"])
            if run.returncode != 0:
                print(f"notify ({label}): exit {run.returncode}: {run.stderr.decode()[-500:]}")
                continue
            try:
                built = json.loads(run.stdout)["built"]
            except ValueError:
                print(f"notify ({label}): unreadable --json: {run.stdout[:200]!r}")
                print(run.stderr.decode(errors="replace")[-1000:])
                continue
            size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
            print(
                f"notify --dry-run ({label}): {built['addresses']:,} addresses, "
                f"{built['reports']:,} reports in {took:.1f} s, peak {peak:,.0f} MB, "
                f"{size / 1e6:,.0f} MB written"
            )
            outs[label] = out
        if len(outs) < 2:
            return
        out = list(outs.values())[-1]
        with Ledger(out) as book:
            entries = [e for e in book.entries() if e.recipient]
            messages = [
                (e.recipient, (Path(e.folder) / "message.eml").read_bytes()) for e in entries
            ]
        volume = sum(len(data) for _, data in messages)
        port = _free_port()
        sink = _sink(port)
        try:
            bare = _bare(port, messages)
            server = delivery.Server("127.0.0.1", port, "cert@sinkhole.example", timeout=60)
            pace = delivery.Pace(rate=0, contact_gap=0, retries=0)
            with Ledger(out) as book:
                began = time.perf_counter()
                outcome = delivery.deliver(book, server, pace)
                ours = time.perf_counter() - began
            # what a user gets: the default pace (5 messages/s), the lab table's 12 reports
            first = next(iter(outs.values()))
            with Ledger(first) as book:
                began = time.perf_counter()
                defaults = delivery.deliver(book, server, delivery.Pace())
                paced = time.perf_counter() - began
        finally:
            sink.terminate()
            sink.wait(timeout=10)
        count = len(messages)
        print(
            f"smtp: {count:,} messages ({volume / count / 1e3:,.0f} kB each on average) "
            f"into aiosmtpd: notify {count / ours:,.1f} msgs/s ({volume / ours / 1e6:,.1f} MB/s, "
            f"{outcome}) vs bare smtplib {count / bare:,.1f} msgs/s = {bare / ours:.2f}x"
        )
        sent = sum(defaults.values())
        print(
            f"smtp, default pace (--rate 5): the lab table's {sent} reports in {paced:.1f} s "
            f"({defaults})"
        )
