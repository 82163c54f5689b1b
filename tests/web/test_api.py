"""The dashboard's JSON API and its guard, over an emulator store (Starlette's TestClient)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from sinkhole import attribution, impact, operation, plan
from sinkhole.web import access, figures, server
from sinkhole.web.app import PAGES, create_app, static_folder
from sinkhole.web.board import PAGE_MAX, Board
from sinkhole.web.figures import Sources

from .conftest import MailLog, Store


def sinkhole(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sinkhole", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "160"})  # fmt: skip


@pytest.fixture(scope="module")
def cli_figures(emulated: Store) -> dict[str, Any]:
    """What `sinkhole population --json` and `sinkhole stats --json` print for the store."""
    base = [str(emulated.operation), "--data", str(emulated.data), "--json"]
    population = sinkhole("population", *base)
    stats = sinkhole("stats", *base, "--interval", "0.2")
    out = {}
    for name, proc in (("population", population), ("stats", stats)):
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr
        out[name] = json.loads(stdout)
    return out


@pytest.fixture(scope="module")
def board(emulated: Store, mail_log: MailLog) -> Iterator[Board]:
    op = operation.load(emulated.operation)
    sources = Sources(emulated.data, emulated.operation, None, op.attribution_datasets(),
                      mail=[mail_log.path], takedown=mail_log.takedown)  # fmt: skip
    running = Board(sources, live_every=0.2, store_every=0.2)
    running.start()
    assert running.wait_ready(120), "the analyses did not finish"
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token(emulated: Store) -> str:
    return access.load_token(emulated.data)[0]


@pytest.fixture
def client(board: Board, token: str) -> Iterator[TestClient]:
    app = create_app(board, token, manage_board=False)
    with TestClient(app, base_url="http://127.0.0.1:8787") as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ROUTES = [*PAGES, "/api/summary", "/api/live", "/api/status", "/api/series", "/api/networks",
          "/api/countries", "/api/networks.csv", "/api/coverage", "/api/notifications",
          "/api/events?limit=5", "/api/impact", "/static/common.js", "/static/vendor/countries-110m.json"]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_needs_the_token(client: TestClient, token: str, route: str) -> None:
    assert client.get(route, headers=bearer(token)).status_code == 200
    for headers in ({}, bearer("x" * 43), {"Authorization": f"Basic {token}"}):
        refused = client.get(route, headers=headers, follow_redirects=False)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        # no data: no address, no figure, only the explanation
        assert "127." not in refused.text and "{" not in refused.text
        assert refused.headers["content-security-policy"] == access.CONTENT_SECURITY_POLICY
    client.cookies.set(access.COOKIE, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert client.get(route, follow_redirects=False).status_code == 401
    client.cookies.set(access.COOKIE, token)
    assert client.get(route, follow_redirects=False).status_code == 200


def test_token_in_the_url_becomes_a_cookie_and_leaves_the_url(
    client: TestClient, token: str
) -> None:
    assert client.get(f"/map?token={token[:-2]}", follow_redirects=False).status_code == 401
    answer = client.get(f"/networks?token={token}&x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/networks?x=1"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    # the client keeps the cookie: the page and the API now answer without a header
    assert client.get("/networks").status_code == 200
    assert client.get("/api/summary").json()["state"] == "ready"


def test_token_file_is_private_and_kept(tmp_path: Path) -> None:
    made, new = access.load_token(tmp_path / "store")
    assert new and len(made) >= 40
    path = tmp_path / "store" / access.TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    again, new = access.load_token(tmp_path / "store")
    assert again == made and not new
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short\n")
    with pytest.raises(access.AccessError, match="not a dashboard token"):
        access.load_token(tmp_path / "store")


def test_summary_equals_population_and_stats(
    client: TestClient, token: str, cli_figures: dict[str, Any]
) -> None:
    summary = client.get("/api/summary", headers=bearer(token)).json()
    population = cli_figures["population"]
    for key in ("events", "unique_ips", "checkins", "bot_ids", "interval_seconds"):
        assert summary[key] == population[key], key
    assert summary["first_seen"] == population["first"]
    assert summary["last_seen"] == population["last"]
    assert summary["machines"] == population["machines"]
    assert summary["machines"]["estimate"] is not None  # three days: a point estimate
    assert (
        summary["machines"]["low"] <= summary["machines"]["estimate"] <= summary["machines"]["high"]
    )
    stored = cli_figures["stats"]["store"]
    assert summary["store"] == stored
    # the resolvers' relayed lookups are stored events, not bot contacts
    assert summary["store"]["events"] > summary["events"]


def test_networks_and_countries_add_up(
    client: TestClient, token: str, cli_figures: dict[str, Any]
) -> None:
    nets = client.get("/api/networks", headers=bearer(token)).json()["data"]
    population = cli_figures["population"]
    assert {n["asn"]: n["unique_ips"] for n in nets["networks"]} == {
        n["asn"]: n["unique_ips"] for n in population["per_network"]
    }
    assert {n["asn"]: n["bot_ids"] for n in nets["networks"]} == {
        n["asn"]: n["bot_ids"] for n in population["per_network"]
    }
    assert sum(n["events"] for n in nets["networks"]) == population["events"]
    countries = client.get("/api/countries", headers=bearer(token)).json()["data"]["countries"]
    assert sum(c["unique_ips"] for c in countries) == population["unique_ips"]
    india = next(c for c in countries if c["country"] == "IN")
    assert india["numeric"] == "356" and india["name"] == "India"
    exported = client.get("/api/networks.csv", headers=bearer(token))
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == len(nets["networks"])
    assert int(rows[0]["unique_ips"]) == nets["networks"][0]["unique_ips"]


def test_coverage_follows_the_plan(client: TestClient, token: str, emulated: Store) -> None:
    data = client.get("/api/coverage", headers=bearer(token)).json()["data"]
    full = plan.compute(operation.load(emulated.operation))
    assert data["domains"] == len(full.domains)
    held = {d["day"]: d["held"] for d in data["per_day"]}
    assert held == {day.isoformat(): count for day, count in full.per_day()}
    seen = [d for d in data["per_day"] if d["events"]]
    assert len(seen) == 3 and all(d["names_answered"] > 0 and d["checkins"] > 0 for d in seen)


def test_impact_equals_the_analysis_of_the_same_store_and_log(
    client: TestClient, token: str, emulated: Store, mail_log: MailLog
) -> None:
    answer = client.get("/api/impact", headers=bearer(token)).json()
    assert answer["state"] == "ready", answer["error"]
    shown = answer["data"]
    op = operation.load(emulated.operation)
    expected = impact.analyse(
        impact.read([mail_log.path], mail_log.takedown),
        emulated.data,
        mail_log.takedown,
        [t.family for t in op.targets],
        attribution.open_datasets(op.attribution_datasets()),
    ).as_dict()
    assert shown["available"] and shown["targets"] == ["megad-sim"]
    assert {k: shown[k] for k in expected} == json.loads(json.dumps(expected))
    # and the analysis is right: the drop is the emulated truth's, within sampling error
    assert shown["drop"] == pytest.approx(mail_log.truth.drop, abs=0.03)
    assert shown["drop"] > 0.9 and shown["after"]["bot_messages"] > 0  # 3% kept spamming
    assert shown["per_family"] == {"megad-sim": shown["bot_messages"]}
    (read,) = shown["files"]
    assert read["malformed"] == 2 and any("300.1.2.3" in e for e in read["examples"])


def test_event_explorer_is_bounded_and_filtered(client: TestClient, token: str) -> None:
    page = client.get("/api/events?limit=5", headers=bearer(token)).json()
    assert len(page["rows"]) == 5 and page["more"]
    stamps = [row[page["columns"].index("timestamp")] for row in page["rows"]]
    assert stamps == sorted(stamps, reverse=True)
    nxt = client.get("/api/events?limit=5&offset=5", headers=bearer(token)).json()
    assert nxt["rows"][0][0] <= stamps[-1]
    dns = client.get("/api/events?limit=50&application=dns", headers=bearer(token)).json()
    assert {row[page["columns"].index("application")] for row in dns["rows"]} == {"dns"}
    for query, message in (
        (f"limit={PAGE_MAX + 1}", "limit"),
        ("offset=-1", "offset"),
        ("limit=ten", "whole number"),
        ("src_ip=not-an-ip", "src-ip"),
        ("application=smtp", "application"),
        ("since=yesterday", "ISO"),
    ):
        refused = client.get(f"/api/events?{query}", headers=bearer(token))
        assert refused.status_code == 400, query
        assert message in refused.json()["error"], query


def test_writes_need_the_csrf_token_from_the_page(client: TestClient, token: str) -> None:
    client.get(f"/?token={token}")
    page = client.get("/").text
    csrf = re.search(r'<meta name="csrf" content="([0-9a-f]{64})">', page)
    assert csrf is not None and csrf.group(1) == access.csrf_token(token)
    assert client.post("/api/refresh").status_code == 403
    assert client.post("/api/refresh", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    foreign = {"X-CSRF-Token": csrf.group(1), "Origin": "http://evil.example"}
    assert client.post("/api/refresh", headers=foreign).status_code == 403
    ok = client.post("/api/refresh", headers={"X-CSRF-Token": csrf.group(1)})
    assert ok.status_code == 202
    client.cookies.clear()
    assert client.post("/api/refresh", headers=bearer(token)).status_code == 202  # a script
    assert client.post("/api/refresh").status_code == 401


def test_pages_have_no_inline_script_or_style(client: TestClient, token: str) -> None:
    for path in PAGES:
        answer = client.get(path, headers=bearer(token))
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe" not in csp and "default-src 'none'" in csp
        assert answer.headers["x-frame-options"] == "DENY"
        html = answer.text
        scripts = re.findall(r"<script([^>]*)>", html)
        assert scripts and all('src="/static/' in attrs for attrs in scripts)
        assert " style=" not in html and "<style" not in html and "onclick" not in html.lower()
        # every asset from the dashboard itself: nothing loaded from elsewhere (works offline)
        links = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert links and all(link.startswith(("/", "data:")) for link in links), links
    bundled = {p.name for p in (static_folder() / "vendor").iterdir()}
    assert {"chart.umd.min.js", "chartjs-chart-geo.umd.min.js", "countries-110m.json"} <= bundled


def test_loopback_by_default_and_a_loud_warning_otherwise() -> None:
    assert server.is_loopback("127.0.0.1") and server.is_loopback("::1")
    assert server.is_loopback("localhost") and server.is_loopback("127.9.9.9")
    assert not server.is_loopback("0.0.0.0") and not server.is_loopback("192.0.2.1")
    lines = server.warning_lines("0.0.0.0")
    assert any("NOT on loopback" in line for line in lines)


def test_dashboard_command_prints_the_url_first(store_copy: Store) -> None:
    with server.start(store_copy.operation, store_copy.data, "127.0.0.1:0") as dashboard:
        token = (store_copy.data / access.TOKEN_FILE).read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=" + re.escape(token), dashboard.url)
        base = dashboard.url.split("/?")[0]
        assert httpx.get(f"{base}/api/summary", timeout=10).status_code == 401
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            live = httpx.get(f"{base}/api/live", headers=bearer(token), timeout=10).json()
            if live["state"] == "ready":
                break
            time.sleep(0.2)
        assert live["state"] == "ready"
        assert [s["sensor"] for s in live["sensors"]] == ["emulator"]
        # no --mail: the Impact page's analysis says so (a state, not an error)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            spam = httpx.get(f"{base}/api/impact", headers=bearer(token), timeout=10).json()
            if spam["state"] != "pending":
                break
            time.sleep(0.25)
        assert spam["state"] == "ready" and spam["error"] == ""
        assert spam["data"] == {"available": False, "reason": figures.NO_MAIL}
    assert dashboard.process.returncode == 0  # SIGTERM is a clean stop


def test_dashboard_command_refuses_bad_arguments(tmp_path: Path, emulated: Store) -> None:
    store, op = ["--data", str(emulated.data)], str(emulated.operation)
    cases = (
        (["--data", str(tmp_path / "none")], "no event store"),
        ([*store, "--listen", "127.0.0.1:99999"], "out of range"),
        ([*store, "--mail", str(tmp_path / "none.log")], "no such file"),
        ([*store, "--takedown", "2026-12-02"], "go with --mail"),
        ([*store, "--mail", op, "--timezone", "Mars/X"], "not a time zone"),
        ([*store, "--mail", op, "--takedown", "soon"], "--takedown 'soon'"),
        ([*store, "--dataset", str(tmp_path / "none.csv")], "no such file"),
    )
    started = [(sinkhole("dashboard", str(emulated.operation), *a), m) for a, m in cases]
    for proc, message in started:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 2 and message in stderr and stdout == ""
        assert stderr.count("\n") == 1


def test_networks_csv_keeps_outside_text_from_running_as_a_formula() -> None:
    row = {"asn": 64496, "as_name": '=HYPERLINK("http://x.example")', "abuse_contact": "@x"}
    rows = list(csv.DictReader(io.StringIO(figures.networks_csv({"networks": [row]}))))
    assert rows[0]["as_name"] == '\'=HYPERLINK("http://x.example")'
    assert rows[0]["abuse_contact"] == "'@x" and rows[0]["asn"] == "64496"
    assert rows[0]["country"] == ""


def test_a_missing_dataset_is_an_error_on_every_analysis_not_a_crash(
    tmp_path: Path, emulated: Store
) -> None:
    from sinkhole.web import analyst, figures

    sources = Sources(emulated.data, emulated.operation, None, [tmp_path / "none.csv"])
    found = analyst.run_round(sources, {})
    assert set(found) == set(figures.ANALYSES)
    assert all(r["state"] == "error" and "none.csv" in r["error"] for r in found.values())


def test_notification_status_comes_from_the_ledger(store_copy: Store, tmp_path: Path) -> None:
    from sinkhole import attribution, notify
    from sinkhole.notify.ledger import Ledger
    from sinkhole.web import figures

    out = tmp_path / "notify"
    sources = Sources(store_copy.data, store_copy.operation, out, ["lab"])
    context = figures.Context(sources, attribution.lab(), {})
    assert figures.notifications(context)["available"] is False  # no ledger yet: said, not failed
    reporter = notify.Reporter("Lab CERT", "cert@sinkhole.example", "lab takedown")
    notify.run(store_copy.data, out, attribution.lab(), reporter, None)
    status = figures.notifications(context)
    with Ledger(out, create=False) as ledger:
        entries = ledger.entries()
        assert status["per_state"] == ledger.totals()
    assert status["available"] and status["reports"] == len(entries) > 0
    assert status["addresses"] == sum(e.addresses for e in entries)
    assert {row["contact"] for row in status["latest"]} == {e.contact for e in entries}


def test_a_crash_in_a_loop_is_shown_and_the_loop_goes_on(
    emulated: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything a background loop did not expect is an error on the page, not figures
    left stale by a dead thread; the next turn works again."""
    from sinkhole.web import board as board_module

    real_report, real_marks = board_module.stats.report, board_module._fingerprint
    failures = {"live": 2, "analyses": 1}

    def report(*args: Any, **kwargs: Any) -> Any:
        if failures["live"]:
            failures["live"] -= 1
            raise KeyError("sensors")
        return real_report(*args, **kwargs)

    def marks(sources: Sources) -> Any:
        if failures["analyses"]:
            failures["analyses"] -= 1
            raise PermissionError("the store went away")
        return real_marks(sources)

    monkeypatch.setattr(board_module.stats, "report", report)
    monkeypatch.setattr(board_module, "_fingerprint", marks)
    seen: set[str] = set()
    running = Board(Sources(emulated.data, emulated.operation), live_every=0.05, store_every=60)
    running.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            live = running.live()
            seen.add(live.get("state", ""))
            if live.get("state") == "error":
                assert live["error"] == "'sensors'"
            if "error" in seen and live.get("state") == "ready" and running.generation >= 2:
                break
            time.sleep(0.02)
        assert {"error", "ready"} <= seen
        # the failed analysis run was shown as an error, then the next run made figures
        assert running.wait_ready(120)
        assert running.result("summary")["state"] == "ready"
    finally:
        running.stop()
    assert not failures["live"] and not failures["analyses"]
