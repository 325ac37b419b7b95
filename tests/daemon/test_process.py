"""Process behaviour of the real daemon: readiness with reasons, JSON logs naming monitor and check ids."""

from __future__ import annotations

import json
from pathlib import Path

from driftwatch import demo

from .harness import DaemonProcess, post_rows, write_config


def test_unloadable_reference_is_not_ready_but_alive(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace("reference.csv", "missing-reference.csv"))
    proc = DaemonProcess(config).start()
    try:
        with proc.client() as c:
            assert c.get("/healthz").status_code == 200
            ready = c.get("/readyz")
            assert ready.status_code == 503
            (reason,) = ready.json()["reasons"]
            assert reason.startswith("monitor 'triage' reference not loaded: ") and "missing-reference.csv" in reason
            resp = post_rows(c, demo.production_batch(5, 0.0, seed=1))
            assert resp.status_code == 503 and "monitor 'triage' is not loaded" in resp.json()["error"]
    finally:
        assert proc.stop() == 0


def test_json_logs_carry_monitor_and_check_ids(tmp_path: Path) -> None:
    proc = DaemonProcess(write_config(tmp_path), args=("--log-format", "json")).start()
    try:
        with proc.client() as c:
            post_rows(c, demo.production_batch(200, 0.0, seed=1).drop_columns(["systolic_bp", "symptoms"]))
            check_id = c.post("/v1/monitors/triage/checks").json()["id"]
    finally:
        assert proc.stop() == 0
    events = [json.loads(line) for line in proc.log().splitlines() if line.startswith("{")]
    assert events, proc.log()
    checks = [e for e in events if e.get("check") == check_id]
    assert len(checks) == 1
    assert checks[0]["monitor"] == "triage" and checks[0]["trigger"] == "manual" and checks[0]["level"] == "info"
    assert checks[0]["rows"] == 200 and checks[0]["dataset_drift"] is False
    assert any("spools flushed" in e["message"] for e in events)
    (signalled,) = [e for e in events if e["message"] == "received signal: stopping intake and shutting down"]
    assert signalled["signal"] == "SIGTERM"
    (finished,) = [e for e in events if e["message"] == "shutdown finished"]
    assert isinstance(finished["seconds"], float) and 0 <= finished["seconds"] < 30
