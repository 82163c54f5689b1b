"""Blocklist: the listing policy, its SQLite state, the exports and the CLI's errors."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import stix2
from pymisp import MISPEvent
from typer.testing import CliRunner

from sinkhole import attribution, blocklist
from sinkhole.blocklist import exports, policy, state
from sinkhole.cli import app
from sinkhole.events.schema import SCHEMA
from sinkhole.events.writer import EventWriter

NOW = dt.datetime(2026, 12, 20, 12, 0, tzinfo=dt.UTC)
OPERATION = Path(__file__).parent.parent / "examples" / "megad-sim.toml"
ZONE = exports.Zone(("ns1.sinkhole.example",), "hostmaster.sinkhole.example", 300, "Lab CERT")


def event(ip: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
    """One HTTP check-in (unless fields say otherwise)."""
    row: dict[str, Any] = {name: None for name in SCHEMA.names}
    row.update(timestamp=when, src_ip=ip, application="http", protocol="tcp",
               family="megad-sim", http_host="mailer-megad-sim.example")  # fmt: skip
    row.update(fields)
    return row


def write(root: Path, rows: list[dict[str, Any]], sensor: str = "test") -> None:
    writer = EventWriter(root, sensor)
    writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
    writer.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    days = lambda n: NOW - dt.timedelta(days=n)  # noqa: E731
    write(
        root,
        [
            event("127.16.0.5", days(1)),  # LAB-CABLE-NORTH, AS64496
            event("127.16.0.5", days(9)),
            event(
                "127.20.0.9",
                days(3),
                application="tls",
                http_host=None,
                ssl_servername="mailer-megad-sim.example",
            ),
            event("127.20.0.10", days(10)),  # last seen 10 days ago
            event("::ffff:127.24.0.7", days(2)),  # a dual-stack listener's IPv4 client
            event("2001:db8::77", days(2), family="necurs"),
            event("100.64.3.4", days(1)),  # carrier-grade NAT: never listed
            event(
                "127.52.0.1",
                days(1),
                application="dns",
                channel="dga",
                dns_qname="abc.example",
                http_host=None,
            ),  # a resolver, not a bot
            event(
                "127.53.0.1",
                days(1),
                application="dns",
                channel="dns-servers",
                dns_qname="abc.example",
                http_host=None,
            ),  # the bot itself
            event("127.56.0.1", days(1), family=None),  # no family: not a bot contact
            event("127.57.0.1", days(1), http_host="Relay-Megad-Sim.TEST.:8080"),
        ],
    )
    return root


def built(root: Path, **kw: Any) -> blocklist.Counts:
    kw.setdefault("as_of", NOW)
    return blocklist.build(root, attribution.lab(), removal="write to cert@x.example", **kw)


def listed(root: Path) -> dict[str, tuple[Any, ...]]:
    with state.connect(root) as con:
        rows = con.execute("SELECT ip, code, family, reason FROM listing").fetchall()
    return {row[0]: row[1:] for row in rows}


def test_build_lists_bots_within_the_grace_period(store: Path) -> None:
    counts = built(store)
    got = listed(store)
    assert set(got) == {
        "127.16.0.5",
        "127.20.0.9",
        "127.24.0.7",
        "2001:db8::77",
        "127.53.0.1",
        "127.57.0.1",
    }
    assert counts.listed == 6
    assert counts.delisted == 1  # 127.20.0.10, last seen 10 days ago
    assert counts.excluded == 1  # 100.64.3.4
    assert got["127.16.0.5"][0] == policy.FAMILY_CODES["megad-sim"] == 14
    assert got["2001:db8::77"][0] == policy.FAMILY_CODES["necurs"]
    assert "AS64496" in got["127.16.0.5"][2]
    [verdict] = blocklist.check(store, ["127.16.0.5"])
    assert verdict.listed and verdict.first_seen.startswith("2026-12-11")
    assert verdict.last_seen.startswith("2026-12-19") and verdict.expires.startswith("2026-12-26")


def test_expiry_after_the_grace_period(store: Path) -> None:
    built(store, grace_days=14)
    assert "127.20.0.10" in listed(store)
    built(store, grace_days=7)
    assert "127.20.0.10" not in listed(store)
    [verdict] = blocklist.check(store, ["127.20.0.10"])
    assert not verdict.listed and "grace period" in verdict.why
    # the grace period is remembered; time passing delists the rest
    counts = built(store, as_of=NOW + dt.timedelta(days=30))
    assert counts.listed == 0 and counts.delisted == 7


def test_excluded_prefix_and_asn_never_listed(store: Path) -> None:
    built(store)
    blocklist.exclude(store, "127.20.0.0/16", "asked to be delisted")
    blocklist.exclude(store, "AS64496")
    counts = built(store)
    got = listed(store)
    assert "127.20.0.9" not in got and "127.16.0.5" not in got
    assert counts.excluded == 4  # 127.20.0.9, 127.20.0.10, 127.16.0.5, 100.64.3.4
    verdicts = {v.ip: v for v in blocklist.check(store, ["127.20.0.9", "127.16.0.5", "100.64.3.4"])}
    assert verdicts["127.20.0.9"].why == "asked to be delisted"
    assert "AS64496" in verdicts["127.16.0.5"].why
    assert "RFC 6598" in verdicts["100.64.3.4"].why
    # new events from an excluded network stay unlisted after an incremental update
    write(store, [event("127.20.7.7", NOW)], sensor="later")
    blocklist.update(store, attribution.lab(), as_of=NOW)
    assert "127.20.7.7" not in listed(store)
    blocklist.exclude(store, "127.20.0.0/16", remove=True)
    assert "127.20.7.7" in listed(store)


def test_update_folds_new_segments_only(store: Path) -> None:
    first = built(store)
    assert first.folded_files >= 1
    write(store, [event("127.28.1.1", NOW - dt.timedelta(hours=1), family="torpig")], "later")
    counts = blocklist.update(store, attribution.lab(), as_of=NOW)
    assert counts.folded_files == 1  # only the new file
    assert listed(store)["127.28.1.1"][0] == policy.FAMILY_CODES["torpig"]
    assert counts.serial == first.serial + 1
    again = blocklist.update(store, attribution.lab(), as_of=NOW)
    assert again.folded_files == 0 and again.listed == counts.listed
    assert again.serial == counts.serial  # nothing changed: the DNSBL need not reload


def test_update_delists_what_expired_since(store: Path) -> None:
    """An update with nothing new still takes off what passed its grace period."""
    first = built(store)
    later = blocklist.update(store, attribution.lab(), as_of=NOW + dt.timedelta(days=5, hours=12))
    # last contacts 1, 1, 1, 2, 2, 3 days before NOW, 7 days of grace: the first three remain
    assert later.delisted == 3 and later.listed == 3
    assert later.serial == first.serial + 1
    assert set(listed(store)) == {"127.16.0.5", "127.53.0.1", "127.57.0.1"}
    [verdict] = blocklist.check(store, ["127.20.0.9"])
    assert not verdict.listed and "grace period" in verdict.why


def test_manual_additions(store: Path) -> None:
    built(store)
    blocklist.add(store, "192.0.2.7", "C&C proxy reported by a partner")
    [verdict] = blocklist.check(store, ["192.0.2.7"])
    assert verdict.listed and verdict.code == 2 and "partner" in verdict.why
    blocklist.add(store, "192.0.2.7", "", remove=True)
    assert "192.0.2.7" not in listed(store)
    with pytest.raises(blocklist.BlocklistError, match="not added by hand"):
        blocklist.add(store, "192.0.2.7", "", remove=True)


def test_test_points(store: Path) -> None:
    built(store)
    entries = {ip: code for ip, code, _ in policy.entries(store)}
    assert entries["127.0.0.2"] == 2 and entries["::ffff:7f00:2"] == 2
    assert "127.0.0.1" not in entries and "::ffff:7f00:1" not in entries
    verdicts = blocklist.check(store, ["127.0.0.2", "::FFFF:7F00:1"])
    assert [v.listed for v in verdicts] == [True, False]


def test_state_is_private(store: Path) -> None:
    built(store)
    for path in store.glob("blocklist.sqlite*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_state_copied_in_is_made_private(store: Path) -> None:
    built(store)
    os.chmod(state.db_path(store), 0o644)  # a listing copied in under a loose umask
    built(store)
    assert stat.S_IMODE(state.db_path(store).stat().st_mode) == 0o600


def test_exports(store: Path, tmp_path: Path) -> None:
    built(store)
    outs = {}
    for fmt in exports.FORMATS:
        outs[fmt] = tmp_path / f"out.{fmt}"
        exports.export(store, fmt, outs[fmt], ZONE)
        assert stat.S_IMODE(outs[fmt].stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".out.*"))  # no temporary file left behind
    lines = outs["text"].read_text().split()
    assert sorted(lines) == sorted(listed(store))
    with outs["csv"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["ip"] for r in rows} == set(listed(store))
    assert next(r for r in rows if r["ip"] == "127.16.0.5")["asn"] == "64496"
    rbl = outs["rbldnsd"].read_text()
    assert "$SOA 300 ns1.sinkhole.example" in rbl and "\n127.16.0.5\n" in rbl
    assert "\n2001:db8::77 :17:2001:db8::77 listed: necurs" in rbl


def test_stix_bundle_parses_and_validates(store: Path, tmp_path: Path) -> None:
    built(store)
    out = tmp_path / "bundle.json"
    exports.export(store, "stix", out, ZONE)
    # stix2's own classes, with every pattern run through its validator
    bundle = stix2.parse(out.read_text(), allow_custom=False)
    kinds: dict[str, list[Any]] = {}
    for obj in bundle.objects:
        kinds.setdefault(obj.type, []).append(obj)
    assert {m.name for m in kinds["malware"]} == {"megad-sim", "necurs"}
    patterns = {i.pattern for i in kinds["indicator"]}
    assert "[ipv4-addr:value = '127.16.0.5']" in patterns
    assert "[ipv6-addr:value = '2001:db8::77']" in patterns
    assert "[domain-name:value = 'mailer-megad-sim.example']" in patterns
    assert "[domain-name:value = 'relay-megad-sim.test']" in patterns  # Host: port, case, dot
    malware_ids = {m.id for m in kinds["malware"]}
    assert len(kinds["relationship"]) == len(kinds["indicator"])
    assert all(r.relationship_type == "indicates" for r in kinds["relationship"])
    assert {r.target_ref for r in kinds["relationship"]} <= malware_ids
    with pytest.raises(stix2.exceptions.InvalidValueError):  # the validator does run
        stix2.parse(out.read_text().replace("127.16.0.5']", "127.16.0.5'"))


def test_misp_event_loads(store: Path, tmp_path: Path) -> None:
    built(store)
    out = tmp_path / "event.json"
    exports.export(store, "misp", out, ZONE)
    event = MISPEvent()
    event.load(out.read_text())
    values = {(a.type, a.value) for a in event.attributes}
    assert ("ip-src", "127.16.0.5") in values and ("ip-src", "2001:db8::77") in values
    assert ("domain", "mailer-megad-sim.example") in values
    assert len([v for v in values if v[0] == "ip-src"]) == len(listed(store))
    tags = {t.name for t in event.tags}
    assert 'sinkhole:family="necurs"' in tags


def test_export_replaces_atomically(store: Path, tmp_path: Path) -> None:
    built(store)
    out = tmp_path / "bl.rbl"
    out.write_text("old\n")
    inode = out.stat().st_ino
    exports.export(store, "rbldnsd", out, ZONE)
    assert out.stat().st_ino != inode  # a new file renamed over the old one
    assert out.read_text().startswith("# rbldnsd combined dataset")


# -- the command line: results and one-line errors --------------------------------------


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Ran:
    """The command tree in this process (the console entry point is tested below)."""
    result = CliRunner().invoke(app, list(args))
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_the_real_entry_point_prints_one_line(store: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "sinkhole", "blocklist", "check", "1.2.3",
                           "--data", str(store)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "sinkhole: error: '1.2.3' is not an IPv4 or IPv6 address\n"


def test_cli_build_check_export(store: Path, tmp_path: Path) -> None:
    done = cli("blocklist", "build", str(OPERATION), "--data", str(store), "--dataset", "lab",
               "--as-of", NOW.isoformat())  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "listed: 6; delisted: 1; excluded: 1" in done.stdout
    done = cli("blocklist", "check", "127.16.0.5", "10.1.1.1", "--data", str(store), "--json")
    assert done.returncode == 0, done.stderr
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [v["listed"] for v in verdicts] == [True, False]
    out = tmp_path / "feed.txt"
    done = cli("blocklist", "export", str(OPERATION), "--data", str(store), "--format", "text",
               "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().split()) == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["blocklist", "check", "999.1.1.1"], "'999.1.1.1' is not an IPv4 or IPv6 address"),
        (["blocklist", "exclude", "AS-x"], "expected a prefix"),
        (["blocklist", "add", "not-ip"], "'not-ip' is not an IPv4 or IPv6 address"),
    ],
)
def test_cli_bad_input(store: Path, args: list[str], message: str) -> None:
    built(store)
    done = cli(*args, "--data", str(store))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_cli_bad_format_and_zone(store: Path, tmp_path: Path) -> None:
    built(store)
    done = cli("blocklist", "export", str(OPERATION), "--data", str(store), "--format", "bind",
               "--out", str(tmp_path / "x"))  # fmt: skip
    assert done.returncode == 2 and "--format 'bind'" in done.stderr
    assert done.stderr.count("\n") == 1
    for zone in ("bad zone!", "single", "a..b"):
        done = cli("dnsbl", "serve", str(OPERATION), "--data", str(store), "--listen",
                   "127.0.0.1:0", "--zone", zone)  # fmt: skip
        assert done.returncode == 2 and "--zone" in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1


def test_corrupt_state_is_one_line(store: Path) -> None:
    built(store)
    path = state.db_path(store)
    for extra in store.glob("blocklist.sqlite-*"):
        extra.unlink()
    path.write_bytes(b"this is not a database" * 100)
    done = cli("blocklist", "check", "127.16.0.5", "--data", str(store))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "cannot read the listing" in done.stderr and "blocklist build" in done.stderr
    with pytest.raises(blocklist.BlocklistError, match="cannot read the listing"):
        built(store)


def test_missing_listing_and_store(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = cli("blocklist", "check", "127.0.0.2", "--data", str(tmp_path / "empty"))
    assert done.returncode == 2 and "no listing at" in done.stderr
    done = cli("blocklist", "check", "127.0.0.2", "--data", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "no event store" in done.stderr


def test_sqlite_is_transactional(store: Path) -> None:
    """A build that fails halfway leaves the previous listing whole."""
    built(store)
    before = listed(store)
    bad = store / "events" / "day=2026-12-19" / "zz-bad.parquet"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"PAR1 not really")
    # unreadable segments are set aside by the store; the build still succeeds
    built(store)
    assert listed(store) == before
    with sqlite3.connect(state.db_path(store)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert os.path.exists(store / "quarantine")
