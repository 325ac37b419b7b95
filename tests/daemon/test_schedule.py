"""Scheduled checks in the real daemon, on SQLite and PostgreSQL: stored, never overlapping, failures counted."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

from driftwatch import demo

from .harness import FAST_FEATURES, DaemonProcess, post_rows, wait_for, write_config

SLOW_FEATURES = FAST_FEATURES + "      symptoms: text\n"


def test_scheduled_checks_are_stored_and_never_overlap(tmp_path: Path, db_url: str) -> None:
    # Text drift makes each check take longer than the 1 s interval, so runs would overlap if allowed to.
    config = write_config(tmp_path, storage_url=db_url, interval="1s", features=SLOW_FEATURES)
    proc = DaemonProcess(config).start()
    try:
        with proc.client() as c:
            assert post_rows(c, demo.production_batch(1500, 0.8, seed=4)).status_code == 202

            def scheduled() -> list[dict]:
                checks = c.get("/v1/monitors/triage/checks", params={"limit": 50}).json()["checks"]
                return [ch for ch in checks if ch["trigger"] == "schedule"] if len(checks) >= 3 else []

            checks = sorted(wait_for(scheduled), key=lambda ch: ch["started_at"])
            for prev, nxt in itertools.pairwise(checks):
                assert nxt["started_at"] >= prev["started_at"] + prev["duration_seconds"] - 1e-3
            assert all(ch["rows"] == 1500 and ch["dataset_drift"] for ch in checks)
            detail = c.get(f"/v1/checks/{checks[-1]['id']}").json()
            assert {f["name"] for f in detail["features"]} >= {"symptoms", "patient_age"}
            state = c.get("/v1/monitors/triage").json()
            assert state["checks_by_outcome"].get("drift", 0) >= 3
            assert state["last_check"]["dataset_drift"] is True
    finally:
        assert proc.stop() == 0, proc.log()


def test_too_little_data_stores_insufficient_data(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, storage_url=db_url)
    proc = DaemonProcess(config).start()
    try:
        with proc.client() as c:
            post_rows(c, demo.production_batch(40, 0.9, seed=2))
            run = c.post("/v1/monitors/triage/checks").json()
            assert run["status"] == "insufficient_data" and run["dataset_drift"] is False
            assert all(not f["drifted"] for f in run["features"])
            stored = c.get(f"/v1/checks/{run['id']}").json()
            assert stored["status"] == "insufficient_data" and stored["rows"] == 40
    finally:
        assert proc.stop() == 0, proc.log()


def test_failing_checks_are_counted_and_the_scheduler_keeps_going(tmp_path: Path) -> None:
    config = write_config(tmp_path, interval="1s")
    proc = DaemonProcess(config).start()
    try:
        with proc.client() as c:
            post_rows(c, demo.production_batch(300, 0.0, seed=3))
            wait_for(lambda: c.get("/v1/monitors/triage").json()["checks_by_outcome"].get("ok", 0) >= 1)
            # Break the history database under the running daemon: every later check fails to store.
            with sqlite3.connect(tmp_path / "data" / "driftwatch.db") as db:
                db.execute("DROP TABLE feature_results")

            def failures() -> int:
                return c.get("/v1/monitors/triage").json()["checks_by_outcome"].get("storage_error", 0)

            wait_for(lambda: failures() >= 2)
            outcomes = c.get("/v1/monitors/triage").json()["checks_by_outcome"]
            assert "error" not in outcomes  # each failure is counted once, under its cause
            assert c.get("/healthz").status_code == 200
            assert post_rows(c, demo.production_batch(10, 0.0, seed=5)).status_code == 202
    finally:
        assert proc.stop() == 0, proc.log()
    assert "scheduled check failed" in proc.log()
