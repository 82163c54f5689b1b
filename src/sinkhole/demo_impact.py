"""The demo's spam act: did the spam stop? (called by `sinkhole demo` on its week's store)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sinkhole import emulate, emulate_mail, impact
from sinkhole.operation import Operation

#: One receiving server sees a small part of a large botnet's spam: about 60,000 messages
#: from 264,000 machines in a week keeps the act within its ten seconds.
SPAM_PER_HOUR = 0.0012
LEGIT_PER_HOUR = 120.0
#: Bots that keep spamming after the takedown (work from elsewhere): Mega-D's share of the
#: world's spam fell from about 12% to under 0.1%, not to nothing.
SURVIVORS = 0.01


def act(
    console: Console,
    op: Operation,
    root: Path,
    truth: emulate.Truth,
    folder: Path,
    spam_per_hour: float = SPAM_PER_HOUR,
    survivors: float = SURVIVORS,
) -> dict[str, Any]:
    """Emulate the week's mail at one server (takedown mid-window), run impact, print the drop."""
    began = time.monotonic()
    settings = emulate_mail.settings_from_truth(truth.settings)
    start = dt.datetime.fromisoformat(str(truth.settings["start"]))
    takedown = start + dt.timedelta(days=settings.days / 2)
    mail = emulate_mail.MailSettings(
        spam_per_hour=spam_per_hour, legit_per_hour=LEGIT_PER_HOUR, survivors=survivors
    )
    log = folder / "mail.log"
    known = emulate_mail.postfix_log(log, settings, mail, takedown, start)
    found = impact.read([log], takedown)
    report = impact.analyse(found, root, takedown, [t.family for t in op.targets])
    table = Table(title=f"messages per hour at one mail server, takedown {takedown:%Y-%m-%d %H:%M}")
    for column in ("", "all", "from bot addresses", "bots' share"):
        table.add_column(column, justify="right" if column else "left")
    for name in ("before", "after"):
        side = report.before if name == "before" else report.after
        rates = side["per_hour"] or {"all": 0.0, "bot": 0.0}
        share = side["bot_share"]
        table.add_row(
            name,
            f"{rates['all']:,.1f}",
            f"{rates['bot']:,.1f}",
            "-" if share is None else f"{share:.1%}",
        )
    console.print(table)
    drop = report.drop
    console.print(
        f"{known.lines:,} Postfix log lines, {report.messages:,} messages; the bots' messages "
        f"per hour fell by [bold]{'-' if drop is None else f'{drop:.1%}'}[/] "
        f"(true: {known.drop:.1%}), in {time.monotonic() - began:.1f} s"
    )
    return {
        "lines": known.lines,
        "messages": report.messages,
        "bot_messages": report.bot_messages,
        "drop": drop,
        "true_drop": known.drop,
        "before": report.before,
        "after": report.after,
        "takedown": takedown.isoformat(),
        "log": str(log),
    }
