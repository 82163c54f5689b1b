"""The join with the sinkhole's sightings, and the before/after figures against known truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sinkhole import attribution, blocklist, emulate, emulate_mail, operation, plan
from sinkhole.events.writer import EventWriter
from sinkhole.impact import analysis, ingest
from sinkhole.impact.errors import ImpactError

EXAMPLE = Path(__file__).parents[2] / "examples" / "megad-sim.toml"
TAKEDOWN = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)


def _us(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1_000_000)


def _store(root: Path) -> Path:
    w = EventWriter(root, "test")
    bots = w.buffer(("timestamp", "src_ip"), application="http", family="megad-sim")
    bots.append((_us("2026-12-07T10:30:00"), "192.0.2.10"))
    other = w.buffer(("timestamp", "src_ip"), application="http", family="other-family")
    other.append((_us("2026-12-07T10:30:00"), "192.0.2.20"))
    # a lookup relayed by an ISP resolver: the resolver is no bot
    relayed = w.buffer(
        ("timestamp", "src_ip"), application="dns", channel="static-domains", family="megad-sim"
    )
    relayed.append((_us("2026-12-07T10:30:00"), "192.0.2.53"))
    w.close()
    return root


def _csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("time,client_ip\n" + "".join(f"{t}Z,{ip}\n" for t, ip in rows))
    return path


def test_tolerance_families_and_before_after(tmp_path: Path) -> None:
    root = _store(tmp_path / "store")
    rows = [
        ("2026-12-06T23:00:00", "192.0.2.10"),  # 11 h before its sighting's hour: a bot's
        ("2026-12-06T21:30:00", "192.0.2.10"),  # 12.5 h before: not
        ("2026-12-07T10:45:00", "192.0.2.10"),  # the same hour
        ("2026-12-07T21:59:00", "192.0.2.10"),  # 11 h after the hour ended: a bot's
        ("2026-12-07T23:30:00", "192.0.2.10"),  # 12.5 h after: not
        ("2026-12-07T10:40:00", "192.0.2.20"),  # another family's bot
        ("2026-12-07T10:40:00", "192.0.2.53"),  # the resolver
        ("2026-12-06T20:00:00", "198.51.100.1"),
        ("2026-12-08T00:00:00", "198.51.100.1"),
    ]
    mail = ingest.read([_csv(tmp_path / "mail.csv", rows)], TAKEDOWN)
    report = analysis.analyse(mail, root, TAKEDOWN, ["megad-sim"])
    assert (report.messages, report.bot_messages, report.family_messages) == (9, 4, 3)
    assert report.per_family == {"megad-sim": 3, "other-family": 1}
    # before: 20:00 to 12:00 (16 h), 6 messages, 3 of them bots' (2 of megad-sim)
    assert report.before["hours"] == 16.0
    assert (report.before["messages"], report.before["bot_messages"]) == (6, 3)
    assert report.before["family_messages"] == 2
    assert report.before["bot_share"] == 0.5
    # after: 12:00 to the end of 00:00:00 (12 h 1 s), 3 messages, 1 a bot's
    assert (report.after["messages"], report.after["bot_messages"]) == (3, 1)
    expected = 1 - (1 / (12 + 1 / 3600)) / (3 / 16)
    assert report.drop == pytest.approx(expected, abs=1e-4)
    # nothing is within zero hours but the sighting's own hour
    strict = analysis.analyse(mail, root, TAKEDOWN, ["megad-sim"], tolerance_hours=0)
    assert strict.bot_messages == 2
    wide = analysis.analyse(mail, root, TAKEDOWN, ["megad-sim"], tolerance_hours=13)
    assert wide.bot_messages == 6
    assert [n["addresses"] for n in report.per_network] == [2]  # one unattributed group
    assert report.blocklist.startswith("not joined: no listing at")
    assert report.listed_messages == 0


def test_blocklist_listing_joined(tmp_path: Path) -> None:
    root = _store(tmp_path / "store")
    blocklist.build(root, attribution.lab(), as_of=dt.datetime(2026, 12, 8, tzinfo=dt.UTC))
    blocklist.add(root, "198.51.100.1", "seen spamming our trap")
    listed = {
        v.ip
        for v in blocklist.check(root, ["192.0.2.10", "192.0.2.20", "198.51.100.1"])
        if v.listed
    }
    rows = [
        ("2026-12-07T10:45:00", "192.0.2.10"),
        ("2026-12-07T10:46:00", "192.0.2.20"),
        ("2026-12-08T00:00:00", "198.51.100.1"),
        ("2026-12-08T00:00:00", "203.0.113.1"),
    ]
    mail = ingest.read([_csv(tmp_path / "mail.csv", rows)], TAKEDOWN)
    report = analysis.analyse(mail, root, TAKEDOWN, ["megad-sim"])
    assert report.blocklist.startswith("joined:")
    assert report.listed_messages == len(listed) and "198.51.100.1" in listed
    assert report.after["listed_messages"] == 1


def test_mail_from_no_address_the_sinkhole_saw(tmp_path: Path) -> None:
    root = _store(tmp_path / "store")
    rows = [("2026-12-07T10:00:00", "203.0.113.1"), ("2026-12-07T13:00:00", "203.0.113.2")]
    report = analysis.analyse(
        ingest.read([_csv(tmp_path / "m.csv", rows)], TAKEDOWN), root, TAKEDOWN, ["megad-sim"]
    )
    assert (report.messages, report.bot_messages) == (2, 0)
    assert report.drop is None  # no bot mail before: nothing to fall
    # all mail: one message in the 2 h before, one in the 1 h 1 s after
    assert report.all_drop == pytest.approx(1 - (1 / (1 + 1 / 3600)) / (1 / 2), abs=1e-4)


def test_recovery_rule() -> None:
    days = [
        {"day": 1, "bot_messages": 100, "bot_share": 0.05},
        {"day": 2, "bot_messages": 30, "bot_share": 0.02},
        {"day": 3, "bot_messages": 25, "bot_share": 0.021},
    ]
    assert analysis.recovery(days, 0.7)["warning"] is None
    days.append({"day": 4, "bot_messages": 400, "bot_share": 0.3})
    warning = analysis.recovery(days, 0.7)["warning"]
    assert warning is not None and "day 4" in warning and "2.0%" in warning
    # a rise on a day with too few bot messages is noise
    days[-1]["bot_messages"] = 5
    assert analysis.recovery(days, 0.7)["warning"] is None


def test_errors(tmp_path: Path) -> None:
    mail = ingest.read([_csv(tmp_path / "m.csv", [("2026-12-07T10:00:00", "192.0.2.1")])], TAKEDOWN)
    with pytest.raises(ImpactError, match="no events under"):
        analysis.analyse(mail, tmp_path / "nothing", TAKEDOWN, ["megad-sim"])
    empty = ingest.Mail(ingest.mta.SCHEMA.empty_table(), [])
    with pytest.raises(ImpactError, match="no messages or connections"):
        analysis.analyse(empty, _store(tmp_path / "s"), TAKEDOWN, ["megad-sim"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, emulate.Settings, dt.datetime]:
    """An emulated store: 6,000 machines over four days."""
    root = tmp_path_factory.mktemp("world") / "store"
    op = operation.load(EXAMPLE)
    settings = emulate.Settings(machines=6000, days=4.0, seed=5)
    writer = EventWriter(root, "emulator")
    emulate.offline(op, plan.compute(op), settings, writer)
    writer.close()
    return root, settings, dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_drop_matches_the_emulated_truth(
    world: tuple[Path, emulate.Settings, dt.datetime], tmp_path: Path
) -> None:
    root, settings, start = world
    takedown = start + dt.timedelta(days=2, hours=5)
    mail_settings = emulate_mail.MailSettings(spam_per_hour=0.15, survivors=0.05)
    truth = emulate_mail.postfix_log(
        tmp_path / "mail.log", settings, mail_settings, takedown, start
    )
    mail = ingest.read([tmp_path / "mail.log"], takedown)
    assert mail.files[0].lines == truth.lines
    report = analysis.analyse(mail, root, takedown, ["megad-sim"])
    assert report.messages == truth.messages
    # the join can only miss a bot (an address never seen at the sinkhole), never invent one
    assert 0.995 * truth.bot_messages <= report.bot_messages <= truth.bot_messages
    assert truth.drop is not None and report.drop is not None
    before, after = truth.before["bot_messages"], truth.after["bot_messages"]
    ratio = after / before
    sampling = ratio * (1 / after + 1 / before) ** 0.5  # Poisson error of the after/before ratio
    assert abs(report.drop - truth.drop) <= 2 * sampling
    assert report.before["bot_share"] == pytest.approx(truth.before["bot_share"], abs=0.01)
    assert report.after["bot_share"] == pytest.approx(truth.after["bot_share"], abs=0.01)
    assert report.recovery["warning"] is None


def test_recovering_botnet_warns(
    world: tuple[Path, emulate.Settings, dt.datetime], tmp_path: Path
) -> None:
    root, settings, start = world
    takedown = start + dt.timedelta(days=1)
    mail_settings = emulate_mail.MailSettings(
        spam_per_hour=0.05, recover_after_hours=48, recover_share=0.5
    )
    emulate_mail.postfix_log(tmp_path / "mail.log", settings, mail_settings, takedown, start)
    report = analysis.analyse(
        ingest.read([tmp_path / "mail.log"], takedown), root, takedown, ["megad-sim"]
    )
    assert report.recovery["warning"] is not None
    assert "day 3" in report.recovery["warning"]
    assert report.recovery["warning"] in report.warnings


def test_a_damaged_segment_is_set_aside(tmp_path: Path) -> None:
    root = _store(tmp_path / "store")
    junk = root / "events" / "day=2026-12-07" / "junk.parquet"
    junk.write_bytes(b"PAR1 not really")
    rows = [("2026-12-07T10:45:00", "192.0.2.10")]
    report = analysis.analyse(
        ingest.read([_csv(tmp_path / "m.csv", rows)], TAKEDOWN), root, TAKEDOWN, ["megad-sim"]
    )
    assert report.bot_messages == 1
    assert not junk.exists() and any((root / "quarantine").rglob("junk*"))
