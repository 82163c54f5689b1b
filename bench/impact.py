"""Impact benchmark: a day of a large provider's Postfix log (10M lines) against `grep -c`.

The mail emulator writes one day of the receiving server's Postfix log for an
emulated botnet (takedown at midday) into a private scratch folder, with the
sinkhole's store for the same day beside it. `sinkhole impact --json` then
reads the whole log, joins it with the store and reports, in a child process
(wall time and peak memory); `grep -c` counts the accepted-message lines of
the same file, the floor of any tool that reads the file once. Both read a
file that is in the page cache (each is run once before it is timed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

from bench import scratch
from bench.notify import _timed
from sinkhole import emulate, emulate_mail, operation, plan
from sinkhole.events import private
from sinkhole.events.writer import EventWriter

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
LINES = int(os.environ.get("BENCH_IMPACT_LINES", "10000000"))
MACHINES = int(os.environ.get("BENCH_IMPACT_MACHINES", "100000"))


def _lines(found: emulate_mail.Traffic) -> int:
    """The lines the Postfix writer makes of `found` (7 an accepted message, 3 a refused one)."""
    refused = int(found.rejected.sum())
    return 7 * (len(found.when) - refused) + 3 * refused


def bench_impact() -> None:
    """Seconds for `sinkhole impact` on a 10M-line Postfix log, beside `grep -c`."""
    print(
        f"\n== impact: a {LINES:,}-line Postfix log of {MACHINES:,} machines' day, beside grep -c"
    )
    op = operation.load(EXAMPLE)
    start = dt.datetime.combine(op.operation.start, dt.time(), dt.UTC)
    takedown = start + dt.timedelta(hours=12)
    settings = emulate.Settings(machines=MACHINES, days=1.0)
    with scratch() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        writer = EventWriter(folder / "data", "emulator")
        emulate.offline(op, plan.compute(op), settings, writer)
        writer.close()
        # a fifth of the lines from other senders; the bots' rate that gives the rest,
        # measured on a first draw and scaled
        legit = LINES / 5 / 24 / 6.96  # 6.96 lines a legitimate message (1% refused)
        probe = emulate_mail.MailSettings(spam_per_hour=1.0, survivors=0.02, legit_per_hour=0)
        drawn = _lines(emulate_mail.traffic(settings, probe, start, takedown))
        rate = LINES * 4 / 5 / max(drawn, 1)
        mail = emulate_mail.MailSettings(spam_per_hour=rate, survivors=0.02, legit_per_hour=legit)
        found = emulate_mail.traffic(settings, mail, start, takedown)
        log = folder / "mail.log"
        with private.open_file(log, "w", encoding="utf-8") as handle:
            lines = emulate_mail.write_postfix(handle, found, start)
        truth = emulate_mail.truth(found, start, takedown, settings.days)
        size = log.stat().st_size
        print(
            f"log: {lines:,} lines, {size / 1e9:.2f} GB, {len(found.when):,} messages "
            f"({int(np.sum(found.bot)):,} from bots; true drop {truth.drop:.4f}), "
            f"made in {time.perf_counter() - began:.0f} s (store and log)"
        )
        grep = ["grep", "-c", ": client=", str(log)]
        subprocess.run(grep, capture_output=True, check=False)  # into the page cache
        began = time.perf_counter()
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        counted = subprocess.run(grep, capture_output=True, check=False)
        grep_seconds = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        grep_cpu = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        arguments = ["impact", str(EXAMPLE), "--data", str(folder / "data"), "--mail", str(log)]
        arguments += ["--takedown", takedown.isoformat(), "--json"]
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        took, peak, run = _timed(arguments)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_seconds = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        if run.returncode != 0:
            print(f"impact: exit {run.returncode}: {run.stderr.decode(errors='replace')[-500:]}")
            return
        report = json.loads(run.stdout)
        print(
            f"grep -c ': client=': {grep_seconds:.2f} s wall, {grep_cpu:.2f} s CPU "
            f"({counted.stdout.decode().strip()} lines)"
        )
        print(
            f"sinkhole impact:     {took:.2f} s wall, {cpu_seconds:.2f} s CPU, peak {peak:.0f} MB, "
            f"{lines / took / 1e6:.2f} M lines/s; {report['messages']:,} messages, "
            f"{report['bot_messages']:,} from bots, drop {report['drop']}"
        )
        print(
            f"ratio impact / grep -c: {took / grep_seconds:.1f}x wall, "
            f"{cpu_seconds / max(grep_cpu, 1e-9):.1f}x CPU (impact uses both cores, grep one; "
            "the machine may be shared: CPU seconds are steadier than wall seconds)"
        )
