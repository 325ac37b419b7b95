"""Promotion under the real daemon: the API promotes and reloads in-process, a CLI promotion or restore is picked up."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from driftwatch import demo
from driftwatch.storage.samples import sample_path, write_sample

from .harness import REFERENCE, DaemonProcess, post_rows, write_config

ADMIN = "admin-Tk.promote"
AUTH = f"server: {{auth: {{tokens: [{{token: {ADMIN}, scopes: [admin]}}]}}}}\n"
NUMERIC = ("patient_age", "heart_rate", "temperature_c", "pain_score")
CATEGORICAL = ("arrival_mode", "channel", "insurance", "predicted_urgency")


def _until(what: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what()!r}")


def _sample(batch: pa.Table, drop: str | None = None) -> pa.Table:
    """The batch as a window sample holds it: float64 numeric features, strings otherwise."""
    columns = {n: batch[n].cast(pa.float64()) for n in NUMERIC} | {n: batch[n].cast(pa.string()) for n in CATEGORICAL}
    return pa.table({k: v for k, v in columns.items() if k != drop})


def _checked(c: httpx.Client, data_dir: Path, batch: pa.Table, sample: pa.Table | None = None) -> dict[str, Any]:
    """Ingest `batch`, check the open window now, keep the check's sample as the daemon's samples do."""
    assert post_rows(c, batch).status_code == 202
    doc = c.post("/v1/monitors/triage/checks").json()
    write_sample(sample_path(data_dir, "triage", doc["started_at"], doc["trigger"]), sample or _sample(batch))
    return doc


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "driftwatch", "reference", *args, "-c", str(config), "--monitor", "triage"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_promote_over_the_api_then_restore_and_promote_with_the_cli(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra=AUTH, reference=f"path: {REFERENCE}, watch_interval: 0.3s")
    data = tmp_path / "data"
    proc = DaemonProcess(config).start()
    try:
        headers = {"authorization": f"Bearer {ADMIN}"}
        with httpx.Client(base_url=proc.url, headers=headers, timeout=120) as c:
            base = c.get("/v1/monitors/triage").json()["reference"]["version"]
            drifted = _checked(c, data, demo.production_batch(600, 1.0, seed=1))
            assert drifted["dataset_drift"] and drifted["reference_version"] == base

            body = {"check": drifted["id"], "reason": "new clinic opened"}
            resp = c.post("/v1/monitors/triage/reference/promote", json=body)
            assert resp.status_code == 200, resp.text
            promoted = resp.json()
            version = promoted["version"]
            assert promoted | {"created_at": 0} == {
                "monitor": "triage",
                "version": version,
                "previous": "config",
                "rows": 600,
                "merged": False,
                "checks": [drifted["id"]],
                "created_at": 0,
                "reload": "reloaded",
                "old_version": base,
            }
            assert c.get("/v1/monitors/triage").json()["reference"]["version"] == version

            # The same shift in new rows is judged against the promoted version: no longer drift.
            after = _checked(c, data, demo.production_batch(600, 1.0, seed=2))
            assert after["reference_version"] == version and not after["dataset_drift"], after
            stored = c.get(f"/v1/checks/{after['id']}").json()
            assert stored["reference_version"] == version

            # A restore by the CLI while the daemon runs: loaded by the promotion watch, no reload asked.
            restored = _cli(config, "restore", "--version", "config", "--reason", "clinic closed")
            assert restored.returncode == 0, restored.stderr
            _until(lambda: c.get("/v1/monitors/triage").json()["reference"]["version"] == base)
            again = _checked(c, data, demo.production_batch(600, 1.0, seed=3))
            assert again["reference_version"] == base and again["dataset_drift"]

            # A CLI promotion, merged with the reference in use, is picked up the same way.
            cli = _cli(config, "promote", "--check", str(again["id"]), "--merge", "--reason", "new market")
            assert cli.returncode == 0, cli.stderr
            assert "a running daemon loads it within 0.3 s" in cli.stdout
            merged = _until(lambda: (r := c.get("/v1/monitors/triage").json()["reference"])["rows"] == 5600 and r)
            assert merged["version"] not in (base, version)
            history = _cli(config, "history", "--json")
            assert '"action": "restore"' in history.stdout and merged["version"] in history.stdout
            assert "reference promoted" in proc.log()
            # Picked up without a change reported: the watch saw a promotion, not a reference changed on disk.
            assert "changed on disk" not in proc.log()
        # The version in use is kept under data_dir: a restart loads it, not the configured one.
        assert proc.stop() == 0, proc.log()
        proc.start()
        with proc.client() as c:
            assert c.get("/v1/monitors/triage", headers=headers).json()["reference"]["version"] == merged["version"]
    finally:
        assert proc.stop() == 0, proc.log()


def test_api_refusals_are_4xx_with_the_reason(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra=AUTH, reference=f"path: {REFERENCE}")
    data = tmp_path / "data"
    proc = DaemonProcess(config).start()
    try:
        with httpx.Client(base_url=proc.url, headers={"authorization": f"Bearer {ADMIN}"}, timeout=120) as c:

            def promote(body: dict[str, Any], monitor: str = "triage") -> tuple[int, dict[str, Any]]:
                resp = c.post(f"/v1/monitors/{monitor}/reference/promote", json={"reason": "x", **body})
                return resp.status_code, resp.json()

            assert promote({"check": 999}) == (404, {"error": "no stored check has id 999", "reason": "unknown_check"})
            status, doc = promote({"check": 1}, monitor="nope")
            assert status == 404 and doc["monitors"] == ["triage"]
            batch = demo.production_batch(300, 1.0, seed=1)
            lacking = _checked(c, data, batch, sample=_sample(batch, drop="channel"))
            status, doc = promote({"check": lacking["id"]})
            assert status == 422 and doc["reason"] == "missing_feature"
            assert doc["error"] == (
                f"the sample of check {lacking['id']} lacks feature 'channel', which the reference needs; "
                "it is not promoted without it"
            )
            unkept = _checked(c, data, batch)
            sample_path(data, "triage", unkept["started_at"], unkept["trigger"]).unlink()
            status, doc = promote({"check": unkept["id"]})
            assert (status, doc["reason"]) == (409, "no_sample") and "its sample was never written" in doc["error"]
            status, doc = promote({"check": unkept["id"], "from": 0, "to": 1})
            assert status == 422 and "not both" in doc["error"]
            status, doc = promote({"check": unkept["id"], "reason": ""})
            assert status == 422 and doc["problems"][0]["location"] == "body.reason"
            # Nothing changed: the configured reference is still in use.
            assert not (data / "references" / "triage" / "active.json").exists()
    finally:
        assert proc.stop() == 0, proc.log()
