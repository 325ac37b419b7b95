"""GET /v1/checks/{id}/report on the real daemon: an HTML page rendered once, then served from data_dir/reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from daemon.harness import DaemonProcess, post_rows, write_config

from driftwatch import demo
from driftwatch.report.cache import cache_name

from .conftest import HOSTILE

# Inside the range these tests may listen on.
PORT = 19510


def _batch(seed: int) -> pa.Table:
    rows = demo.production_batch(300, 0.8, seed=seed).to_pylist()
    for row in rows[:20]:
        row["channel"] = HOSTILE
    return pa.Table.from_pylist(rows)


def _check(c: httpx.Client, seed: int) -> int:
    assert post_rows(c, _batch(seed)).status_code == 202
    run = c.post("/v1/monitors/triage/checks")
    assert run.status_code == 200 and run.json()["stored"] is True, run.text
    return run.json()["id"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(write_config(tmp_path_factory.mktemp("report-http")), port=PORT).start()
    yield proc
    assert proc.stop() == 0, proc.log()


def test_a_report_is_rendered_once_and_then_read_from_disk(daemon: DaemonProcess) -> None:
    reports = Path(daemon.config.parent / "data" / "reports")
    with daemon.client() as c:
        first, second = _check(c, 1), _check(c, 2)
        resp = c.get(f"/v1/checks/{first}/report")
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "text/html; charset=utf-8"
        assert resp.headers["x-driftwatch-report-cache"] == "miss"
        assert resp.headers["content-security-policy"].startswith("default-src 'none'")
        page = resp.text
        assert f"<title>driftwatch check {first}: triage</title>" in page and "<svg" in page
        assert f'<a rel="next" href="/v1/checks/{second}/report">' in page and 'rel="prev"' not in page
        assert "<script" not in page.lower() and "&lt;script&gt;alert(&#x27;x&#x27;)" in page
        cached = reports / cache_name(first, None, second)
        assert [p.name for p in reports.iterdir()] == [cached.name]
        assert cached.read_text() == page
        stamp = cached.stat().st_mtime_ns

        again = c.get(f"/v1/checks/{first}/report")
        assert again.headers["x-driftwatch-report-cache"] == "hit" and again.text == page
        assert cached.stat().st_mtime_ns == stamp
        with cached.open("a") as f:  # what the disk holds is what is served
            f.write("<!-- kept on disk -->")
        assert c.get(f"/v1/checks/{first}/report").text == page + "<!-- kept on disk -->"

        # the newest check's page has no next link until the next check is stored; then it is rendered again
        last = c.get(f"/v1/checks/{second}/report")
        assert last.headers["x-driftwatch-report-cache"] == "miss" and 'rel="next"' not in last.text
        third = _check(c, 3)
        newer = c.get(f"/v1/checks/{second}/report")
        assert newer.headers["x-driftwatch-report-cache"] == "miss"
        assert f'<a rel="next" href="/v1/checks/{third}/report">' in newer.text
        assert f'<a rel="prev" href="/v1/checks/{first}/report">' in newer.text
        assert not (reports / cache_name(second, first, None)).exists()
        assert (reports / cache_name(second, first, third)).exists()


def test_an_unknown_or_invalid_check_id(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        missing = c.get("/v1/checks/987654/report")
        assert missing.status_code == 404 and missing.json() == {"error": "no check with id 987654"}
        assert c.get("/v1/checks/0/report").status_code == 422
