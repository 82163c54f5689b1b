"""An emulator store shared by the dashboard tests (made once, offline, small)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pytest

from sinkhole import emulate, emulate_mail, operation, plan
from sinkhole.events.writer import EventWriter

#: Three days: long enough for a point estimate of distinct machines (not only bounds).
MACHINES = 300
DAYS = 3.0


@dataclass(frozen=True)
class Store:
    """The lab operation file and an emulator store under a private tmp folder."""

    operation: Path
    data: Path
    truth: emulate.Truth


@pytest.fixture(scope="session")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The megad-sim lab operation and 300 emulated machines over three days, offline."""
    folder = tmp_path_factory.mktemp("dashboard")
    op_path = folder / "megad-sim.toml"
    op_path.write_text(files("sinkhole").joinpath("data/megad-sim.toml").read_text())
    op = operation.load(op_path)
    data = folder / "store"
    writer = EventWriter(data, "emulator")
    settings = emulate.Settings(machines=MACHINES, days=DAYS, seed=11)
    truth = emulate.offline(op, plan.compute(op), settings, writer)
    writer.close()
    return Store(op_path, data, truth)


@pytest.fixture
def store_copy(emulated: Store, tmp_path: Path) -> Store:
    """A copy of the emulator store the test may add events to."""
    data = tmp_path / "store"
    shutil.copytree(emulated.data, data)
    data.chmod(0o700)
    return Store(emulated.operation, data, emulated.truth)


#: Lines no Postfix wrote (a day that does not exist, an address that is not one), appended to
#: the emulated log: the Impact page must count them and show them as examples.
MALFORMED = (
    "Feb 30 10:00:00 mx1 postfix/smtpd[1]: 1C: client=unknown[192.0.2.50]\n"
    "Dec  2 10:20:00 mx1 postfix/smtpd[1]: 1D: client=unknown[300.1.2.3]\n"
)


@dataclass(frozen=True)
class MailLog:
    """The Postfix log of one mail server receiving the emulated bots' spam, and its truth."""

    path: Path
    takedown: dt.datetime
    truth: emulate_mail.MailTruth


@pytest.fixture(scope="session")
def mail_log(emulated: Store, tmp_path_factory: pytest.TempPathFactory) -> MailLog:
    """The store's population spamming one server until a takedown half-way, 3% survivors."""
    folder = tmp_path_factory.mktemp("mail")
    folder.chmod(0o700)
    start = dt.datetime.fromisoformat(str(emulated.truth.settings["start"]))
    takedown = start + dt.timedelta(days=DAYS / 2)
    settings = emulate_mail.settings_from_truth(emulated.truth.settings)
    mail = emulate_mail.MailSettings(spam_per_hour=0.5, legit_per_hour=60.0, survivors=0.03)
    path = folder / "mail.log"
    truth = emulate_mail.postfix_log(path, settings, mail, takedown, start)
    with path.open("a", encoding="utf-8") as log:
        log.write(MALFORMED)
    return MailLog(path, takedown, truth)
