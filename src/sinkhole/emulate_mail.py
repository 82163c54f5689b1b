"""The emulator's mail side: the spam emulated bots send until the takedown cuts them off.

The same population as :mod:`sinkhole.emulate` (same settings, same seed: the
same machines behind the same addresses at the same times) sends spam to one
receiving mail server while its C&C still gives it work: each bot on line
sends messages as a Poisson process at ``spam_per_hour``, until the takedown.
After it, only ``survivors`` keep sending (bots that found work another way),
and with ``recover_after_hours`` a share of the bots comes back (the botnet
recovered, as Mega-D's did within weeks in 2009). Legitimate senders (the ISPs'
own mail relays, addresses a bot never holds) send all along.

Nothing is sent anywhere: the receiving server's Postfix log is written as
Postfix would write it (classic syslog lines, UTC), with the truth beside it:
which messages came from bots, per hour, before and after the takedown.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from sinkhole import emulate
from sinkhole.events import private
from sinkhole.exceptions import SinkholeError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

#: Legitimate senders sit at these offsets into each lab ISP's reserved block (its relays).
LEGIT_OFFSET = 100
LEGIT_PER_ISP = 100
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class EmulateMailError(SinkholeError):
    """The mail emulator was asked for something it will not do."""


@dataclass(frozen=True)
class MailSettings:
    """How the bots and the other senders use the receiving server."""

    spam_per_hour: float = 0.005  # messages one on-line bot sends this server per hour
    legit_per_hour: float = 300.0  # messages from legitimate senders per hour
    reject_share: float = 0.3  # share of the bots' messages the server refuses
    survivors: float = 0.0  # share of bots that keep spamming after the takedown
    recover_after_hours: float | None = None  # when some bots come back after the takedown
    recover_share: float = 0.0  # the share of bots that come back
    host: str = "mx1"
    seed: int = 1

    def check(self) -> MailSettings:
        """These settings, or one clear error for the first value out of range."""
        for name, high in (("spam_per_hour", 100.0), ("legit_per_hour", 1e6)):
            value = getattr(self, name)
            if not 0 <= value <= high:
                raise EmulateMailError(f"{name} = {value!r}: expected 0 to {high:g}")
        for name in ("reject_share", "survivors", "recover_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise EmulateMailError(f"{name} = {value!r}: expected 0 to 1")
        return self


@dataclass
class MailTruth:
    """What the emulated server really received."""

    messages: int = 0
    bot_messages: int = 0
    lines: int = 0
    start: str = ""
    takedown: str = ""
    end: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    drop: float | None = None
    per_hour: list[dict[str, Any]] = field(default_factory=list)

    def write(self, path: Path) -> None:
        """Save as JSON, 0600 (it counts bot messages per hour, no addresses)."""
        private.folder(path.parent)
        private.write_text(path, json.dumps(vars(self), indent=2) + "\n")


@dataclass
class Traffic:
    """Every message, in time order: seconds since the start, client address, bot or not."""

    when: F64
    address: U64
    bot: Bools
    rejected: Bools


def traffic(
    settings: emulate.Settings,
    mail: MailSettings,
    start: dt.datetime,
    takedown: dt.datetime,
    chunk: int = 32_000,
) -> Traffic:
    """Draw the messages of the population and the legitimate senders."""
    mail.check()
    pop = emulate.Population.build(settings)
    rng = np.random.default_rng([mail.seed, settings.seed, 25])
    duration = settings.days * 86400.0
    cut = (takedown - start).total_seconds()
    survivor = rng.random(pop.machines) < mail.survivors
    returning = rng.random(pop.machines) < mail.recover_share
    back = cut + (mail.recover_after_hours or 0.0) * 3600.0
    whens, addresses = [], []
    for first in range(0, pop.machines, chunk):
        machines = np.arange(first, min(first + chunk, pop.machines), dtype=np.int64)
        counts = rng.poisson(mail.spam_per_hour * duration / 3600.0, size=len(machines))
        who = np.repeat(machines, counts)
        when = rng.uniform(0.0, duration, size=len(who))
        sending = pop.online(who, when, start) & (
            (when < cut)
            | survivor[who]
            | (returning[who] & (mail.recover_after_hours is not None) & (when >= back))
        )
        who, when = who[sending], when[sending]
        whens.append(when)
        addresses.append(pop.addresses(pop.holder[who], when))
    bot_when = np.concatenate(whens) if whens else np.zeros(0)
    bot_addr = np.concatenate(addresses) if addresses else np.zeros(0, np.uint64)
    legit = rng.poisson(mail.legit_per_hour * duration / 3600.0)
    legit_when = rng.uniform(0.0, duration, size=legit)
    isp = rng.integers(0, len(pop.base), size=legit)
    legit_addr = (pop.base[isp] + LEGIT_OFFSET + rng.integers(0, LEGIT_PER_ISP, size=legit)).astype(
        np.uint64
    )
    when = np.concatenate([bot_when, legit_when])
    order = np.argsort(when, kind="stable")
    bot = np.concatenate([np.ones(len(bot_when), bool), np.zeros(legit, bool)])[order]
    rejected = np.where(
        bot, rng.random(len(order)) < mail.reject_share, rng.random(len(order)) < 0.01
    )
    return Traffic(when[order], np.concatenate([bot_addr, legit_addr])[order], bot, rejected)


def truth(found: Traffic, start: dt.datetime, takedown: dt.datetime, days: float) -> MailTruth:
    """The truth of the traffic: bot messages per hour before and after the takedown."""
    cut = (takedown - start).total_seconds()
    duration = days * 86400.0
    out = MailTruth(
        messages=len(found.when),
        bot_messages=int(found.bot.sum()),
        start=start.isoformat(),
        takedown=takedown.isoformat(),
        end=(start + dt.timedelta(seconds=duration)).isoformat(),
    )
    for name, inside, hours in (
        ("before", found.when < cut, cut / 3600.0),
        ("after", found.when >= cut, (duration - cut) / 3600.0),
    ):
        bots = int((found.bot & inside).sum())
        total = int(inside.sum())
        setattr(
            out,
            name,
            {
                "hours": hours,
                "messages": total,
                "bot_messages": bots,
                "per_hour": {
                    "all": total / hours if hours else None,
                    "bot": bots / hours if hours else None,
                },
                "bot_share": bots / total if total else None,
            },
        )
    if out.before["per_hour"]["bot"]:
        out.drop = 1.0 - out.after["per_hour"]["bot"] / out.before["per_hour"]["bot"]
    hour_of = (found.when // 3600).astype(np.int64)
    every = np.bincount(hour_of)
    bot_count = np.bincount(hour_of[found.bot], minlength=len(every))
    out.per_hour = [
        {
            "hour": (start + dt.timedelta(hours=h)).isoformat(),
            "messages": int(every[h]),
            "bot_messages": int(bot_count[h]),
        }
        for h in range(len(every))
    ]
    return out


def _ip(value: int) -> str:
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


def write_postfix(handle: IO[str], found: Traffic, start: dt.datetime, host: str = "mx1") -> int:
    """Write the traffic as the receiving server's Postfix log (classic syslog, UTC);
    returns the lines written."""
    base = start.astimezone(dt.UTC)
    lines = 0
    batch: list[str] = []
    stamp_cache: dict[int, str] = {}
    for index, (offset, address, refused) in enumerate(
        zip(found.when.tolist(), found.address.tolist(), found.rejected.tolist(), strict=True)
    ):
        second = int(offset)
        stamp = stamp_cache.get(second)
        if stamp is None:
            moment = base + dt.timedelta(seconds=second)
            stamp = (
                f"{_MONTHS[moment.month - 1]} {moment.day:2d} "
                f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {host}"
            )
            stamp_cache = {second: stamp}
        ip = _ip(address)
        pid = 2000 + index % 3000
        head = f"{stamp} postfix/smtpd[{pid}]: "
        batch.append(f"{head}connect from unknown[{ip}]\n")
        if refused:
            batch.append(
                f"{head}NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service "
                f"unavailable; Client host [{ip}] blocked using bl.sinkhole.example; "
                f"from=<offer{index}@bulk.example> to=<trap@{host}.example> proto=ESMTP "
                "helo=<pc>\n"
            )
            batch.append(f"{head}disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1\n")
            lines += 3
        else:
            queue = f"{(index * 2654435761) & 0xFFFFFFFFFF:010X}"
            batch += [
                f"{head}{queue}: client=unknown[{ip}]\n",
                f"{stamp} postfix/cleanup[{pid + 1}]: {queue}: message-id=<{queue}@bulk.example>\n",
                f"{stamp} postfix/qmgr[900]: {queue}: from=<offer{index}@bulk.example>, "
                "size=2301, nrcpt=1 (queue active)\n",
                f"{stamp} postfix/discard[{pid + 2}]: {queue}: to=<trap@{host}.example>, "
                "relay=none, delay=0.01, delays=0/0/0/0, dsn=2.0.0, status=sent (discarded)\n",
                f"{stamp} postfix/qmgr[900]: {queue}: removed\n",
                f"{head}disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1\n",
            ]
            lines += 7
        if len(batch) > 50_000:
            handle.write("".join(batch))
            batch = []
    handle.write("".join(batch))
    return lines


def postfix_log(
    path: Path,
    settings: emulate.Settings,
    mail: MailSettings,
    takedown: dt.datetime,
    start: dt.datetime,
) -> MailTruth:
    """Emulate the receiving server's week and write its Postfix log (0600) at `path`."""
    if not start <= takedown <= start + dt.timedelta(days=settings.days):
        raise EmulateMailError(
            f"takedown {takedown.isoformat()}: expected a time inside the emulated window "
            f"({start.isoformat()} for {settings.days:g} days)"
        )
    found = traffic(settings, mail, start, takedown)
    out = truth(found, start, takedown, settings.days)
    private.folder(path.parent)
    with private.open_file(path, "w", encoding="utf-8") as handle:
        out.lines = write_postfix(handle, found, start, mail.host)
    return out


def settings_from_truth(document: dict[str, Any]) -> emulate.Settings:
    """The emulator settings a store's ground truth (``truth.json`` settings) was made with."""
    known = {f for f in emulate.Settings.__dataclass_fields__ if f != "profiles"}
    values = {k: v for k, v in document.items() if k in known}
    return emulate.Settings(**values).check()
