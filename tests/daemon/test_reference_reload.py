"""Reference files changed, deleted and restored under the real daemon: readiness, metrics, reload and SIGHUP."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow.csv as pa_csv

from driftwatch import demo
from driftwatch.reference import readers
from driftwatch.reference.profile import hash_files

from .harness import REFERENCE, DaemonProcess, post_rows, write_config

ADMIN = "admin-Tk.reload"
AUTH = f"server: {{auth: {{tokens: [{{token: {ADMIN}, scopes: [admin]}}]}}}}\n"
WATCH = 0.2  # seconds between comparisons of the reference on disk


def _until(what: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what()!r}")


def _version(ref: Path, scratch: Path) -> str:
    return hash_files([ref], scratch)[0]


def _metric(c: httpx.Client, line: str) -> float | None:
    for row in c.get("/metrics").text.splitlines():
        if row.startswith(line + " "):
            return float(row.split()[-1])
    return None


def _degraded(c: httpx.Client) -> list[str]:
    doc = c.get("/readyz").json()
    return doc.get("reasons", []) if doc["status"] == "degraded" else []


def test_change_reload_delete_and_sighup(tmp_path: Path) -> None:
    ref = tmp_path / "reference.csv"
    shutil.copy(REFERENCE, ref)
    first = _version(ref, tmp_path / "scratch")
    config = write_config(tmp_path, extra=AUTH, reference=f"path: {ref}, watch_interval: {WATCH}s")
    proc = DaemonProcess(config).start()
    headers = {"authorization": f"Bearer {ADMIN}"}
    try:
        with httpx.Client(base_url=proc.url, headers=headers, timeout=60) as c:
            _until(lambda: c.get("/readyz").json()["status"] == "ready")
            assert post_rows(c, demo.production_batch(300, 0.0, seed=1)).status_code == 202
            assert c.post("/v1/monitors/triage/checks").json()["reference_version"] == first

            # Changed on disk: reported within a few polls; checks keep the loaded version.
            pa_csv.write_csv(readers.read_path(REFERENCE).slice(0, 4000), ref)
            second = _version(ref, tmp_path / "scratch")
            reasons = _until(lambda: _degraded(c))
            assert reasons == [
                f"monitor 'triage' reference {ref} changed on disk (content differs; version {second}, {first} in use);"
                " reload with POST /v1/monitors/triage/reference/reload or SIGHUP"
            ]
            assert c.get("/readyz").status_code == 200
            assert _metric(c, 'driftwatch_reference_stale{monitor="triage"}') == 1.0
            assert _metric(c, 'driftwatch_reference_problem{monitor="triage",reason="changed"}') == 1.0
            assert c.post("/v1/monitors/triage/checks").json()["reference_version"] == first
            time.sleep(5 * WATCH)
            assert proc.log().count("changed on disk") == 1  # once per change of state, not per poll

            # Reload: the open window closes under the old version, the next check uses the new one.
            resp = c.post("/v1/monitors/triage/reference/reload")
            assert resp.status_code == 200, resp.text
            doc = resp.json()
            assert {k: doc[k] for k in ("monitor", "outcome", "old_version", "new_version", "rows", "features")} == {
                "monitor": "triage",
                "outcome": "reloaded",
                "old_version": first,
                "new_version": second,
                "rows": 4000,
                "features": 8,
            }
            window = doc["window"]
            assert (window["type"], window["action"], window["rows"]) == ("tumbling", "closed", 300)
            check = window["check"]
            assert (check["trigger"], check["reference_version"], check["stored"]) == ("window_close", first, True)
            assert check["window_end"] == window["end"]
            monitor = c.get("/v1/monitors/triage").json()["reference"]
            assert (monitor["version"], monitor["rows"], monitor["stale"], monitor["problem"]) == (
                second,
                4000,
                False,
                None,
            )
            assert post_rows(c, demo.production_batch(200, 0.0, seed=2)).status_code == 202
            after = c.post("/v1/monitors/triage/checks").json()
            assert (after["reference_version"], after["window_start"], after["rows"]) == (second, window["end"], 200)
            assert c.get("/readyz").json() == {"status": "ready"}
            assert _metric(c, 'driftwatch_reference_stale{monitor="triage"}') == 0.0
            unchanged = c.post("/v1/monitors/triage/reference/reload").json()
            assert (unchanged["outcome"], unchanged["new_version"]) == ("unchanged", second)
            assert unchanged["window"]["action"] == "unchanged"

            # Deleted: degraded; a reload is refused and the loaded reference stays in use.
            ref.unlink()
            missing = f"reference {ref} is missing (no such file or folder); version {second} in use"
            assert _until(lambda: _degraded(c)) == [f"monitor 'triage' {missing}"]
            assert _metric(c, 'driftwatch_reference_problem{monitor="triage",reason="missing"}') == 1.0
            resp = c.post("/v1/monitors/triage/reference/reload")
            assert resp.status_code == 409
            assert resp.json() == {
                "error": f"monitor 'triage': {missing}",
                "reason": "missing",
                "reference_version": second,
            }
            assert c.get("/v1/monitors/triage").json()["reference"]["version"] == second
            assert c.post("/v1/monitors/triage/checks").json()["reference_version"] == second

            # Put back, then SIGHUP: every monitor is reloaded off the signal handler.
            shutil.copy(REFERENCE, ref)
            assert proc.proc is not None
            proc.proc.send_signal(signal.SIGHUP)
            _until(lambda: c.get("/v1/monitors/triage").json()["reference"]["version"] == first)
            _until(lambda: c.get("/readyz").json() == {"status": "ready"})
            assert _metric(c, 'driftwatch_reference_reloads_total{monitor="triage",outcome="reloaded"}') == 2.0
            assert _metric(c, 'driftwatch_reference_reloads_total{monitor="triage",outcome="failed"}') == 1.0
    finally:
        assert proc.stop() == 0, proc.log()
    log = proc.log()
    assert "received signal: reloading references" in log and "reference reload failed" in log
    assert ADMIN not in log
