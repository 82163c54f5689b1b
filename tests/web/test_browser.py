"""The dashboard in a real browser: Debian's Chromium driven by Playwright, beside a live sinkhole.

One focused test: `sinkhole serve --dashboard` over an emulator store; every page loads
with the token and is refused without it; the figures shown equal the API's and the
analyses'; the charts and the map draw; the live counters move while emulated bots
check in; the Impact page shows the spam drop the API gives for an emulated Postfix log.
Screenshots of each page go to the test's tmp_path.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from sinkhole import attribution, emulate, emulate_live, operation, plan, population
from sinkhole.testing import running_sinkhole

from .conftest import MailLog, Store

#: Debian's Chromium (.ci/run installs it); Playwright's own browser download is not used.
CHROMIUM = "/usr/bin/chromium"


def shown(page: Any, selector: str) -> int:
    """The integer a page shows in `selector`, read from its text as a person reads it."""
    text = page.locator(selector).inner_text()
    return int(text.replace(",", ""))


def drawn_pixels(page: Any, selector: str) -> int:
    """How many pixels of the canvas at `selector` are not transparent."""
    return int(
        page.eval_on_selector(
            selector,
            """canvas => {
                const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                let n = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
                return n;
            }""",
        )
    )


def wait_drawn(page: Any, selector: str, minimum: int, timeout: float = 20) -> int:
    """Wait until the canvas at `selector` has at least `minimum` drawn pixels; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        pixels = drawn_pixels(page, selector)
        if pixels >= minimum or time.monotonic() > deadline:
            return pixels
        page.wait_for_timeout(200)


def wait_ready(api: httpx.Client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get("/api/status").json()
        if status["generation"] >= 1:
            return
        time.sleep(0.25)
    raise AssertionError("the dashboard's analyses did not finish")


def test_dashboard_in_chromium(
    store_copy: Store, mail_log: MailLog, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    op = operation.load(store_copy.operation)
    expected = population.report(
        store_copy.data, "duckdb", attribution.open_datasets(op.attribution_datasets())
    )
    shots = tmp_path / "screenshots"
    shots.mkdir()
    args = ("--dashboard", "127.0.0.1:0", "--resolver", "127.0.0.1:0", "--mail",
            str(mail_log.path), "--takedown", mail_log.takedown.isoformat())  # fmt: skip
    with running_sinkhole(store_copy.operation, store_copy.data, *args) as sink:
        url = next(line.split()[1] for line in sink.lines if line.startswith("dashboard "))
        base, _, query = url.partition("/?token=")
        token = query
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        request.addfinalizer(api.close)
        wait_ready(api)
        summary = api.get("/api/summary").json()
        # the API's figures are the analyses' (the store has not changed since)
        assert summary["events"] == expected.events
        assert summary["unique_ips"] == expected.unique_ips
        assert summary["machines"] == expected.machines.as_dict()

        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                context = browser.new_context(viewport={"width": 1300, "height": 1000})
                page = context.new_page()
                problems: list[str] = []
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))

                # without the token: refused, pages and API alike, and nothing shown
                for path in ("/", "/map", "/api/summary", "/static/common.js"):
                    refused = page.goto(base + path)
                    assert refused is not None and refused.status == 401, path
                    assert "127." not in page.content()
                # a refused page's late requests (the icon) are refused too: leave it
                # before counting problems, so they do not land in the next page's list
                page.goto("about:blank")
                problems.clear()

                # the URL the sinkhole printed: a cookie, and the token leaves the address bar
                page.goto(url)
                assert page.url == base + "/"
                cookies = {c["name"]: c for c in context.cookies()}
                assert cookies["sinkhole_token"]["httpOnly"]

                # overview: the numbers shown are the API's, formatted for people
                page.wait_for_selector("#events[data-value]:not([data-value=''])")
                assert "," in page.locator("#events").inner_text()
                assert shown(page, "#events") == summary["events"]
                assert shown(page, "#unique-ips") == summary["unique_ips"]
                assert shown(page, "#machines") == summary["machines"]["estimate"]
                assert shown(page, "#machines-low") == summary["machines"]["low"]
                assert shown(page, "#machines-high") == summary["machines"]["high"]
                assert shown(page, "#stored-events") == summary["store"]["events"]
                channels = page.locator("#channels td.num").all_inner_texts()
                assert [int(t.replace(",", "")) for t in channels] == list(
                    summary["per_channel"].values()
                )
                assert wait_drawn(page, "#chart-hours", 5000) >= 5000
                page.screenshot(path=shots / "overview.png", full_page=True)

                # the one write: the page sends the CSRF token it was given
                with page.expect_response("**/api/refresh") as refreshed:
                    page.click("#refresh")
                assert refreshed.value.status == 202

                # the live counters move while bots check in
                live_before = shown(page, "#today-events")
                rates: list[float] = []
                bots = threading.Thread(target=_check_in, args=(store_copy, sink), daemon=True)
                bots.start()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    rates.append(
                        float(page.locator("#events-per-s").get_attribute("data-value") or 0)
                    )
                    if shown(page, "#today-events") > live_before and max(rates) > 0:
                        break
                    page.wait_for_timeout(500)
                assert max(rates) > 0, "events per second never moved"
                assert shown(page, "#today-events") > live_before
                page.screenshot(path=shots / "overview-live.png", full_page=True)
                bots.join(60)

                # the map: the choropleth draws, the table is the API's
                countries = api.get("/api/countries").json()["data"]["countries"]
                page.goto(base + "/map")
                page.wait_for_selector("#countries tbody tr")
                assert wait_drawn(page, "#chart-map", 20000) >= 20000
                rows = page.locator("#countries tbody tr")
                assert rows.count() == len(countries)
                first = rows.first.locator("td.num").first
                assert int(first.inner_text().replace(",", "")) == countries[0]["unique_ips"]
                page.screenshot(path=shots / "map.png", full_page=True)

                # networks: sorted, searchable, exported
                nets = api.get("/api/networks").json()["data"]["networks"]
                page.goto(base + "/networks")
                page.wait_for_selector("#networks tbody tr")
                assert page.locator("#networks tbody tr").count() == len(nets)
                top = page.locator("#networks tbody tr").first
                assert int(top.locator("td.num").first.inner_text().replace(",", "")) == max(
                    n["unique_ips"] for n in nets
                )
                page.click("th[data-key=unique_ips]")  # ascending now
                low = page.locator("#networks tbody tr").first.locator("td.num").first
                assert int(low.inner_text().replace(",", "")) == min(n["unique_ips"] for n in nets)
                page.fill("#search", f"AS{nets[0]['asn']}"[2:])
                assert page.locator("#networks tbody tr").count() == 1
                assert wait_drawn(page, "#chart-networks", 2000) >= 2000
                exported = page.request.get(base + "/api/networks.csv")
                assert exported.ok and exported.text().count("\n") == len(nets) + 1
                page.screenshot(path=shots / "networks.png", full_page=True)

                # plan coverage: the plan's names, the chart
                coverage = api.get("/api/coverage").json()["data"]
                page.goto(base + "/coverage")
                page.wait_for_selector("#plan-domains[data-value]:not([data-value=''])")
                assert shown(page, "#plan-domains") == coverage["domains"]
                assert wait_drawn(page, "#chart-coverage", 2000) >= 2000
                page.screenshot(path=shots / "coverage.png", full_page=True)

                # the event explorer: filters and paging
                page.goto(base + "/events")
                page.wait_for_selector("#events tbody tr")
                assert page.locator("#events tbody tr").count() == 100
                page.select_option("select[name=application]", "dns")
                page.click("button[type=submit]")
                page.wait_for_selector("#newer:disabled")
                page.wait_for_timeout(500)
                column = page.locator("#events thead th").all_inner_texts().index("application")
                apps = page.locator(
                    f"#events tbody tr td:nth-child({column + 1})"
                ).all_inner_texts()
                assert set(apps) == {"dns"}
                page.click("#older")
                page.wait_for_selector("#newer:enabled")
                assert "101–200" in page.locator("#page-info").inner_text()
                page.screenshot(path=shots / "events.png", full_page=True)

                # impact: the drop shown is the API's, the chart draws, malformed lines noted
                spam = api.get("/api/impact").json()["data"]
                assert spam["available"] and spam["drop"] > 0.9
                page.goto(base + "/impact")
                page.wait_for_selector("#drop[data-value]:not([data-value=''])")
                assert float(page.locator("#drop").get_attribute("data-value") or 0) == spam["drop"]
                assert page.locator("#drop").inner_text() == f"{spam['drop']:.1%}"
                assert shown(page, "#messages") == spam["messages"]
                assert page.locator("#sides tbody tr").count() == 2
                assert page.locator("#malformed").get_attribute("data-value") == "2"
                assert "300.1.2.3" in page.locator("#files").inner_text()
                assert wait_drawn(page, "#chart-impact", 5000) >= 5000
                page.screenshot(path=shots / "impact.png", full_page=True)

                assert not problems, problems  # no script error, no CSP violation
            finally:
                browser.close()
    assert {p.name for p in shots.iterdir()} >= {
        "overview.png",
        "overview-live.png",
        "map.png",
        "networks.png",
        "coverage.png",
        "events.png",
        "impact.png",
    }


def _check_in(store: Store, sink: Any) -> None:
    """A few dozen emulated machines reporting in live for a few seconds (loopback only)."""
    op = operation.load(store.operation)
    targets = emulate_live.Targets(
        sink.address("dns"), sink.address("http"), sink.address("resolver")
    )
    settings = emulate.Settings(machines=60, days=1.0, seed=5)
    emulate_live.run_live(op, plan.compute(op), settings, targets, 8.0)
