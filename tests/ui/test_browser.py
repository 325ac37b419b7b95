"""The pages in a real browser: headless Debian chromium against the real daemon on the example config.

From the monitor list to a monitor's page and its worst check, as an on-call engineer clicks through, with the
browser's console free of errors and no request leaving loopback (names resolve nowhere, other addresses go to a
dead proxy, and the performance log lists every request made). Screenshots are kept under tests/artifacts/.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.csv as pacsv
import pytest
from daemon.harness import DaemonProcess, free_port, post_rows
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from services import binaries

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "triage"
ARTIFACTS = ROOT / "tests" / "artifacts"
# Features the drifted example batch moves (docs/ood.md): the page must name them.
DRIFTED = {"temperature_c", "channel", "symptoms.language"}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """The daemon on config.example.yaml (data under tmp), after a check of the clean batch and one with the drifted."""
    folder = tmp_path_factory.mktemp("ui")
    text = (ROOT / "config.example.yaml").read_text()
    text = text.replace("path: examples/triage/reference.csv", f"path: {EXAMPLES / 'reference.csv'}")
    text = text.replace("${DRIFTWATCH_DATA_DIR:-./data}", str(folder / "data"))
    config = folder / "config.yaml"
    config.write_text(text)
    proc = DaemonProcess(config).start()
    checks = []
    with proc.client() as c:
        for batch in ("batch_clean.csv", "batch_drifted.csv"):
            table = pacsv.read_csv(EXAMPLES / batch)
            assert post_rows(c, table).status_code == 202
            reply = c.post("/v1/monitors/triage/checks")
            assert reply.status_code == 200, reply.text
            checks.append(reply.json())
    clean, drifted = checks
    assert clean["stored"] and drifted["stored"]
    assert not clean["dataset_drift"] and drifted["dataset_drift"], (clean["drift_share"], drifted["drift_share"])
    proc.checks = {"clean": clean["id"], "drifted": drifted["id"]}  # type: ignore[attr-defined]
    yield proc
    assert proc.stop() == 0, proc.log()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless chromium that reaches 127.0.0.1 only; both binaries named, so Selenium Manager never runs."""
    options = webdriver.ChromeOptions()
    options.binary_location = binaries.chromium()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1100",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        # Every name but 127.0.0.1 fails to resolve, and any address but loopback goes to a port nobody listens on.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--proxy-server=http://127.0.0.1:{free_port()}",
        "--proxy-bypass-list=127.0.0.1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=binaries.chromedriver())
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    # What the browser's own start page fetched is not the pages' doing: drained before the first page opens.
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get_log("browser")
    yield driver
    driver.quit()


def _network(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """The DevTools Network events since the last call (the performance log is drained as it is read)."""
    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    return [e for e in events if e["method"].startswith("Network.")]


def _assert_clean(driver: webdriver.Chrome, daemon: DaemonProcess, network: list[dict[str, Any]]) -> None:
    """No console error, and every request the page made went to the daemon on loopback."""
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    urls = [e["params"]["request"]["url"] for e in network if e["method"] == "Network.requestWillBeSent"]
    assert urls, "the performance log recorded no request"
    elsewhere = [u for u in urls if not u.startswith(daemon.url + "/") and not u.startswith("data:")]
    assert elsewhere == [], elsewhere
    failed = [e["params"] for e in network if e["method"] == "Network.loadingFailed"]
    assert failed == [], failed


def _shot(driver: webdriver.Chrome, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # The whole page: as tall as its content.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, max(1100, min(int(height) + 40, 6000)))
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 10_000
    driver.set_window_size(1400, 1100)


def test_from_the_monitor_list_to_the_worst_check(daemon: DaemonProcess, browser: webdriver.Chrome) -> None:
    ids: dict[str, int] = daemon.checks  # type: ignore[attr-defined]
    browser.get(f"{daemon.url}/ui/")
    assert browser.title == "Monitors - driftwatch"
    row = browser.find_element(By.CSS_SELECTOR, "#monitors tbody tr")
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "triage"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", cells[1]), cells
    assert cells[2] == "drift" and cells[4].endswith("%") and cells[5] == "loaded"
    _shot(browser, "ui-monitors")
    _assert_clean(browser, daemon, _network(browser))

    row.find_element(By.CSS_SELECTOR, "a.monitor-link").click()
    assert browser.current_url.startswith(f"{daemon.url}/ui/monitors/triage")
    assert browser.title == "triage - driftwatch"
    # Opened on the worst check of the last 6 hours: a drifted one, its features table highlighting the drifted.
    chosen = browser.find_element(By.ID, "check")
    worst = int(chosen.get_attribute("data-check"))
    assert chosen.find_element(By.TAG_NAME, "h2").text == f"Worst check of the range: #{worst}"
    facts = chosen.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert "Verdict\ndrift\n" in facts
    highlighted = {
        tr.find_element(By.TAG_NAME, "td").text for tr in chosen.find_elements(By.CSS_SELECTOR, "#features tr.drifted")
    }
    assert highlighted >= DRIFTED, highlighted
    assert all(name in facts for name in DRIFTED), facts
    # Every check of the range is in the table, newest first, each linking to its report and its JSON.
    rows = browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    shown = [int(r.get_attribute("id").removeprefix("check-")) for r in rows]
    assert {ids["clean"], ids["drifted"]} <= set(shown) and shown == sorted(shown, reverse=True)
    by_id = {int(r.get_attribute("id").removeprefix("check-")): r for r in rows}
    drifted_row = by_id[ids["drifted"]]
    assert "drift" in drifted_row.get_attribute("class").split()
    assert any(name in drifted_row.text for name in DRIFTED), drifted_row.text
    assert "no drift" in by_id[ids["clean"]].text
    assert "selected" in by_id[worst].get_attribute("class").split()
    # which reference each check used, so a promotion shows in the table
    version = httpx.get(f"{daemon.url}/v1/checks/{ids['drifted']}").json()["reference_version"]
    assert all(version in r.text for r in rows)
    for check_id, r in by_id.items():
        check_url = f"{daemon.url}/v1/checks/{check_id}"
        assert r.find_element(By.CSS_SELECTOR, "a.report-link").get_attribute("href") == f"{check_url}/report"
        assert r.find_element(By.CSS_SELECTOR, "a.json-link").get_attribute("href") == check_url
    # The timeline marks each check, the drifted ones with a triangle, and draws out the opened one.
    marks = browser.find_elements(By.CSS_SELECTOR, "svg.timeline a.check-mark")
    assert {int(m.get_attribute("data-check")) for m in marks} == set(shown)
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.timeline .drifted-mark")) == sum(
        "drift" in r.get_attribute("class").split() for r in rows
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.timeline .chosen")) == 1
    _shot(browser, "ui-monitor-worst-check")
    _assert_clean(browser, daemon, _network(browser))

    # A check's row opens it in place of the worst one; the range stays.
    by_id[ids["clean"]].find_element(By.CSS_SELECTOR, "td a").click()
    chosen = browser.find_element(By.ID, "check")
    assert int(chosen.get_attribute("data-check")) == ids["clean"]
    assert chosen.find_element(By.TAG_NAME, "h2").text == f"Check: #{ids['clean']}"
    assert browser.find_elements(By.CSS_SELECTOR, "#features tr.drifted") == []
    _shot(browser, "ui-monitor-clean-check")
    _assert_clean(browser, daemon, _network(browser))

    # Its JSON link answers the stored check.
    browser.find_element(By.CSS_SELECTOR, f"#check-{ids['clean']} a.json-link").click()
    doc = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    assert doc["id"] == ids["clean"] and doc["dataset_drift"] is False
    _assert_clean(browser, daemon, _network(browser))


def test_previous_and_next_ranges(daemon: DaemonProcess, browser: webdriver.Chrome) -> None:
    now = int(time.time() * 1000)
    start, end = now - 3_600_000, now + 60_000
    browser.get(f"{daemon.url}/ui/monitors/triage?from={start}&to={end}")
    assert browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr"), "the hour around now has the checks"
    assert browser.find_elements(By.ID, "next") == []  # the range reaches past now
    browser.find_element(By.ID, "prev").click()
    assert browser.current_url == f"{daemon.url}/ui/monitors/triage?from={start - 3_660_000}&to={start}"
    assert browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr") == []
    assert browser.find_element(By.ID, "summary").text == "0 checks, 0 with dataset drift."
    assert browser.find_elements(By.ID, "check") == []
    browser.find_element(By.ID, "next").click()
    assert browser.current_url == f"{daemon.url}/ui/monitors/triage?from={start}&to={end}"
    assert browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    _assert_clean(browser, daemon, _network(browser))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=abc", "422: invalid request: 'from' must be milliseconds since the epoch"),
        ("to=1.5e12", "422: invalid request: 'to' must be milliseconds since the epoch"),
        ("from=2000&to=1000", "422: invalid request: 'from' must be before 'to'"),
        ("from=-5", "422: invalid request: 'from' must be between 0 and"),
        ("check=x", "422: invalid request: 'check' must be a check id"),
        ("from=1000&to=2000&check=1", "404: check 1 is not a check of monitor 'triage' started in this range"),
    ],
)
def test_bad_parameters_are_explained(daemon: DaemonProcess, query: str, message: str) -> None:
    reply = httpx.get(f"{daemon.url}/ui/monitors/triage?{query}", timeout=30)
    assert reply.status_code == int(message[:3])
    assert reply.headers["content-type"].startswith("text/html")
    assert message in html.unescape(re.sub(r"<[^>]+>", "", reply.text))


def test_an_unknown_monitor_is_named(daemon: DaemonProcess) -> None:
    reply = httpx.get(f"{daemon.url}/ui/monitors/no%3Csuch%3E", timeout=30)
    assert reply.status_code == 404
    assert "unknown monitor &#x27;no&lt;such&gt;&#x27; (valid: triage)" in reply.text
    assert "<such>" not in reply.text


def test_pages_forbid_scripts_and_outside_assets(daemon: DaemonProcess) -> None:
    reply = httpx.get(f"{daemon.url}/ui/monitors/triage", timeout=30)
    assert reply.status_code == 200
    assert reply.headers["content-security-policy"].startswith("default-src 'none'; style-src 'unsafe-inline';")
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in reply.text and "http://" not in reply.text.replace("http://www.w3.org/2000/svg", "")


# The HTML report of a check (GET /v1/checks/{id}/report) is served by driftwatch's report module, not by the pages:
# until that route is part of the daemon this test fails, on purpose, where the pages' link leads nowhere.
def test_the_report_link_opens_the_report(daemon: DaemonProcess, browser: webdriver.Chrome) -> None:
    drifted = daemon.checks["drifted"]  # type: ignore[attr-defined]
    browser.get(f"{daemon.url}/ui/monitors/triage?check={drifted}")
    _network(browser)
    browser.find_element(By.CSS_SELECTOR, f"#check-{drifted} a.report-link").click()
    assert browser.current_url == f"{daemon.url}/v1/checks/{drifted}/report"
    network = _network(browser)
    answers = [
        e["params"]["response"]
        for e in network
        if e["method"] == "Network.responseReceived" and e["params"]["response"]["url"] == browser.current_url
    ]
    assert [(a["status"], a["mimeType"]) for a in answers] == [(200, "text/html")]
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "triage" in body and all(name in body for name in DRIFTED), body[:2000]
    # the languages that arrived, and the kept exemplars, redacted: the transcripts themselves never reach the page
    line = next(line for line in body.splitlines() if "New languages: " in line)
    assert {"fr", "es", "de"} <= set(re.findall(r"\b([a-z]{2,3}) [\d.]+%", line.split("New languages: ", 1)[1])), line
    exemplars = browser.find_elements(By.CSS_SELECTOR, ".exemplar")
    assert exemplars and all("sha256:" in e.text or "symptoms" not in e.text for e in exemplars)
    transcripts = pacsv.read_csv(EXAMPLES / "batch_drifted.csv").column("symptoms").to_pylist()
    assert not any(t and len(t) > 20 and t in browser.page_source for t in transcripts)
    _shot(browser, "ui-check-report")
    _assert_clean(browser, daemon, network)
