"""Shadowserver report rows: exact columns, our events mapped onto them, and IntelMQ's parser."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pytest

from sinkhole import attribution
from sinkhole.events import shadowserver
from sinkhole.events.schema import SCHEMA
from sinkhole.exceptions import SinkholeError

DATA = Path(__file__).parent.parent / "data" / "shadowserver"
START = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)


def events(rows: list[dict[str, Any]]) -> pa.Table:
    """An event table in the store's schema from partial rows."""
    full = [{name: row.get(name) for name in SCHEMA.names} for row in rows]
    return pa.Table.from_pylist(full, schema=SCHEMA)


def http_event(i: int, ip: str) -> dict[str, Any]:
    return {
        "timestamp": START + dt.timedelta(seconds=7 * i),
        "protocol": "tcp",
        "application": "http",
        "src_ip": ip,
        "src_port": 40000 + i % 20000,
        "dst_ip": "127.0.0.1",
        "dst_port": 80,
        "family": "megad-sim",
        "infection": "megad-sim",
        "channel": "dga",
        "http_method": "GET",
        "http_url": f"/cfg/{i:016x}?v=3",
        "http_host": "update-megad-sim.example",
        "http_agent": "megad-sim/3",
        "machine_name": f"pc-{i:06x}",
        "version": "3",
        "bot_id": f"{i:016x}",
    }


def dns_event(i: int, ip: str) -> dict[str, Any]:
    return {
        "timestamp": START + dt.timedelta(seconds=11 * i),
        "protocol": "udp",
        "application": "dns",
        "src_ip": ip,
        "src_port": 30000 + i,
        "dst_ip": "127.0.0.1",
        "dst_port": 53,
        "family": "megad-sim",
        "channel": "dga",
        "dns_qname": f"n{i % 7}.megad-sim.example",
        "dns_qtype": (1, 28, 16, 65280)[i % 4],
        "dns_rcode": 0,
    }


def raw_event(i: int, ip: str) -> dict[str, Any]:
    return {
        "timestamp": START + dt.timedelta(seconds=5 * i),
        "protocol": "tcp",
        "application": "tls" if i % 2 else "raw",
        "src_ip": ip,
        "src_port": 50000 + i % 10000,
        "dst_ip": "127.0.0.1",
        "dst_port": 443 if i % 2 else 4444,
        "family": "megad-sim",
        "ssl_servername": "update-megad-sim.example" if i % 2 else None,
    }


def v4(i: int) -> str:
    return f"127.{16 + i % 48}.{(i // 48) % 256}.{1 + i % 250}"


def v6(i: int) -> str:
    return f"2001:db8:{i % 5:x}::{i + 1:x}"


def test_columns_are_the_published_ones_in_order() -> None:
    published = json.loads((DATA / "reports.json").read_text())
    assert set(shadowserver.REPORTS) == set(published)
    for name, columns in shadowserver.REPORTS.items():
        assert list(columns) == published[name]["fields"], name


def test_each_event_goes_to_the_report_of_its_listener_and_family() -> None:
    table = events(
        [
            http_event(0, "127.16.0.1"),
            http_event(1, "2001:db8::1"),
            http_event(2, "::ffff:127.16.0.9"),
            dns_event(3, "2001:db8::53"),
            raw_event(4, "127.16.0.2"),
            raw_event(5, "2001:db8::7"),
        ]
    )
    assert shadowserver.reports_for(table) == list(shadowserver.REPORTS)
    http4 = shadowserver.build(table, "event4_sinkhole_http").to_pylist()
    # the dual-stack client is the IPv4 address it is
    assert [r["src_ip"] for r in http4] == ["127.16.0.1", "127.16.0.9"]
    assert [r["src_ip"] for r in shadowserver.build(table, "event6_sinkhole_http").to_pylist()] == [
        "2001:db8::1"
    ]
    assert [r["src_ip"] for r in shadowserver.build(table, "event4_sinkhole_dns").to_pylist()] == [
        "2001:db8::53"
    ]
    assert len(shadowserver.build(table, "event4_sinkhole")) == 1
    assert len(shadowserver.build(table, "event6_sinkhole")) == 1


def test_rows_carry_attribution_family_and_shadowserver_formats() -> None:
    table = events([http_event(0, "127.21.3.4"), http_event(1, "127.99.0.1")])
    rows = shadowserver.build(table, "event4_sinkhole_http", attribution.lab()).to_pylist()
    first, second = rows
    assert first["timestamp"] == "2026-11-28 10:00:00"
    assert (first["src_asn"], first["src_geo"]) == ("64497", "DE")  # lab-networks.csv 127.20/14
    assert (second["src_asn"], second["src_geo"]) == (None, None)  # no dataset covers it
    assert first["infection"] == first["family"] == "megad-sim"
    assert first["severity"] == "critical"
    assert first["http_url"] == "/cfg/0000000000000000?v=3"
    assert first["machine_name"] == "pc-000000"
    assert first["src_region"] is None and first["forwarded_by"] is None


def test_dns_rows_count_queries_per_resolver_name_type_and_hour() -> None:
    base = dns_event(0, "127.21.0.53")
    later = {**base, "timestamp": START + dt.timedelta(minutes=30), "src_port": 1}
    next_hour = {**base, "timestamp": START + dt.timedelta(minutes=61), "src_port": 2}
    other_type = {**base, "dns_qtype": 16}
    rows = shadowserver.build(
        events([later, base, next_hour, other_type]), "event4_sinkhole_dns", attribution.lab()
    ).to_pylist()
    by = {(r["timestamp"], r["query_type"]): r for r in rows}
    assert len(rows) == 3
    first = by[("2026-11-28 10:00:00", "A")]
    assert (first["count"], first["src_port"], first["query"]) == (
        "2",
        "30000",
        "n0.megad-sim.example",
    )
    assert by[("2026-11-28 11:01:00", "A")]["count"] == "1"
    assert by[("2026-11-28 10:00:00", "TXT")]["count"] == "1"
    assert first["severity"] == "info" and first["src_asn"] == "64497"


def test_unknown_query_types_are_named_as_rfc_3597_says() -> None:
    rows = shadowserver.build(events([dns_event(3, "127.16.0.53")]), "event4_sinkhole_dns")
    assert rows.column("query_type").to_pylist() == ["TYPE65280"]


def test_file_names_parse_as_shadowserver_names() -> None:
    name = shadowserver.file_name("2026-11-28", "event4_sinkhole_http", "abuse@lab-fiber.example")
    assert name == "2026-11-28-event4_sinkhole_http-abuse_lab_fiber_example-report.csv"
    assert shadowserver.file_name("2026-11-28", "event4_sinkhole", "AS64501") == (
        "2026-11-28-event4_sinkhole-as64501-report.csv"
    )
    with pytest.raises(SinkholeError, match="report 'event4_scan'"):
        shadowserver.file_name("2026-11-28", "event4_scan", "x")


def test_csv_has_every_column_and_empty_fields_for_unknowns() -> None:
    table = shadowserver.build(events([raw_event(1, "127.16.0.2")]), "event4_sinkhole")
    buffer = io.BytesIO()
    shadowserver.write(table, buffer)
    reader = csv.DictReader(io.StringIO(buffer.getvalue().decode()))
    assert reader.fieldnames == list(shadowserver.REPORTS["event4_sinkhole"])
    (row,) = list(reader)
    assert row["ssl_servername"] == "update-megad-sim.example"
    assert row["application"] == "tls" and row["src_hostname"] == ""


# --- IntelMQ's own parser, run in its own test harness --------------------------------------

intelmq_test = pytest.importorskip("intelmq.lib.test")
from intelmq.bots.parsers.shadowserver import _config as intelmq_config  # noqa: E402
from intelmq.bots.parsers.shadowserver.parser import ShadowserverParserBot  # noqa: E402

MAKERS = {
    "event4_sinkhole": lambda i: raw_event(i, v4(i)),
    "event6_sinkhole": lambda i: raw_event(i, v6(i)),
    "event4_sinkhole_http": lambda i: http_event(i, v4(i)),
    "event6_sinkhole_http": lambda i: http_event(i, v6(i)),
    "event4_sinkhole_dns": lambda i: dns_event(i, v4(i)),
}


def report_csv(report: str, rows: int = 1000) -> bytes:
    """A report of exactly `rows` rows (DNS events are all distinct, so none are merged)."""
    table = shadowserver.build(events([MAKERS[report](i) for i in range(rows)]), report,
                               attribution.lab())  # fmt: skip
    assert table.num_rows == rows
    buffer = io.BytesIO()
    shadowserver.write(table, buffer)
    return buffer.getvalue()


class TestIntelMQParser(intelmq_test.BotTestCase, unittest.TestCase):  # type: ignore[misc]
    """IntelMQ 3.5's Shadowserver parser reads every row of each report with no warning."""

    @classmethod
    def setUpClass(cls) -> None:
        # the harness refuses root, which this parser test does not need (it only parses CSV)
        with mock.patch("intelmq.lib.utils.drop_privileges", return_value=True):
            super().setUpClass()

    @classmethod
    def set_bot(cls) -> None:
        cls.bot_reference = ShadowserverParserBot
        cls.sysconfig = {"test_mode": True, "logging_level": "INFO"}

    def run_report(self, report: str) -> list[dict[str, Any]]:
        state = vars(intelmq_config)["__config"]
        raw = report_csv(report)
        with (
            mock.patch.object(state, "schema_base", str(DATA / "intelmq.json")),
            mock.patch("intelmq.lib.utils.drop_privileges", return_value=True),
        ):
            self.input_message = {
                "__type": "Report",
                "feed.name": "Shadowserver",
                "raw": base64.b64encode(raw).decode(),
                "extra.file_name": shadowserver.file_name("2026-11-28", report, "AS64497"),
                "time.observation": "2026-11-29T00:00:00+00:00",
            }
            self.run_bot(allowed_warning_count=0, allowed_error_count=0)
        out = [json.loads(self.get_output_queue()[k]) for k in range(len(self.get_output_queue()))]
        return out

    def check(self, report: str, classification: str) -> None:
        out = self.run_report(report)
        assert len(out) == 1000
        assert not any("Optional key" in line for line in self.loglines)
        for event in out:
            assert event["classification.type"] == classification
            assert event["source.ip"]
            assert event.get("malware.name") == "megad-sim"
        attributed = [e for e in out if "source.asn" in e]
        assert len(attributed) > 500 or report.startswith("event6")
        assert all(64496 <= e["source.asn"] <= 65534 for e in attributed)
        assert all(len(e["source.geolocation.cc"]) == 2 for e in attributed)

    def test_event4_sinkhole(self) -> None:
        self.check("event4_sinkhole", "infected-system")

    def test_event6_sinkhole(self) -> None:
        self.check("event6_sinkhole", "infected-system")

    def test_event4_sinkhole_http(self) -> None:
        self.check("event4_sinkhole_http", "infected-system")
        out = self.run_report("event4_sinkhole_http")
        assert out[0]["destination.url"].startswith("http://update-megad-sim.example/cfg/")

    def test_event6_sinkhole_http(self) -> None:
        self.check("event6_sinkhole_http", "infected-system")

    def test_event4_sinkhole_dns(self) -> None:
        out = self.run_report("event4_sinkhole_dns")
        assert len(out) == 1000
        assert {e["extra.dns_query_type"] for e in out} == {"A", "AAAA", "TXT", "TYPE65280"}
        assert all(e["extra.count"] == 1 for e in out)
        assert all(e["malware.name"] == "megad-sim" for e in out)
