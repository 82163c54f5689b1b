"""The emulator's mail side: bots spam until the takedown, the log says what the truth says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sinkhole import emulate, emulate_mail

START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
SETTINGS = emulate.Settings(machines=2000, days=2.0, seed=4)


def test_bots_stop_at_the_takedown_and_survivors_do_not() -> None:
    takedown = START + dt.timedelta(days=1)
    cut = emulate_mail.traffic(
        SETTINGS, emulate_mail.MailSettings(spam_per_hour=0.3), START, takedown
    )
    assert cut.bot.sum() > 1000
    assert not (cut.bot & (cut.when >= 86400)).any()
    assert (~cut.bot & (cut.when >= 86400)).sum() > 0  # other senders go on
    assert np.all(np.diff(cut.when) >= 0)
    some = emulate_mail.MailSettings(spam_per_hour=0.3, survivors=0.2)
    kept = emulate_mail.traffic(SETTINGS, some, START, takedown)
    after = (kept.bot & (kept.when >= 86400)).sum()
    before = (kept.bot & (kept.when < 86400)).sum()
    assert 0.1 < after / before < 0.3
    # the bots' addresses are the population's: inside the lab ISPs' customer ranges
    pop = emulate.Population.build(SETTINGS)
    inside = np.zeros(len(kept.address), bool)
    for base, size in zip(pop.base, pop.size, strict=True):
        inside |= (kept.address >= base + emulate.RESERVED) & (kept.address < base + size)
    assert np.array_equal(inside, kept.bot)


def test_log_and_truth_agree_and_are_deterministic(tmp_path: Path) -> None:
    takedown = START + dt.timedelta(hours=30)
    mail = emulate_mail.MailSettings(spam_per_hour=0.1, reject_share=0.5)
    a = emulate_mail.postfix_log(tmp_path / "a.log", SETTINGS, mail, takedown, START)
    b = emulate_mail.postfix_log(tmp_path / "b.log", SETTINGS, mail, takedown, START)
    assert (tmp_path / "a.log").read_bytes() == (tmp_path / "b.log").read_bytes()
    assert (tmp_path / "a.log").stat().st_mode & 0o777 == 0o600
    text = (tmp_path / "a.log").read_text()
    assert text.count("\n") == a.lines == b.lines
    accepted, refused = text.count(": client="), text.count("NOQUEUE: reject:")
    assert accepted + refused == a.messages
    assert text.count(": connect from ") == a.messages
    assert a.before["bot_messages"] + a.after["bot_messages"] == a.bot_messages
    assert a.drop == 1.0
    assert sum(h["messages"] for h in a.per_hour) == a.messages


def test_settings_are_checked() -> None:
    with pytest.raises(emulate_mail.EmulateMailError, match="survivors"):
        emulate_mail.MailSettings(survivors=2).check()
    with pytest.raises(emulate_mail.EmulateMailError, match="inside the emulated window"):
        emulate_mail.postfix_log(
            Path("unused.log"),
            SETTINGS,
            emulate_mail.MailSettings(),
            START - dt.timedelta(1),
            START,
        )


def test_settings_from_a_store_truth() -> None:
    document = {"machines": 10, "days": 1.0, "seed": 3, "start": "x", "contacts": []}
    assert emulate_mail.settings_from_truth(document) == emulate.Settings(
        machines=10, days=1.0, seed=3
    )
