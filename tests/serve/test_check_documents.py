"""Check documents over HTTP: stored and latest checks carry the decision fields exactly as `results.to_dict`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from checks.samples import Reference, calibrated_check, threshold_check
from fastapi.testclient import TestClient

from driftwatch.checks.results import CheckResult
from driftwatch.config import parse_config
from driftwatch.serve.daemon import CheckRun, Daemon
from driftwatch.serve.routes import create_app

REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "triage" / "reference.csv"
RESULTS = {"calibrated": calibrated_check("triage"), "threshold": threshold_check("triage")}
# What a stored check lists beside the `check --format json` document, and what it lacks of it.
RECORD_ONLY = {"id", "window_start", "window_end", "trigger", "error", "sample"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, TestClient]]:
    folder = tmp_path_factory.mktemp("documents")
    cfg = parse_config(
        f"""data_dir: {folder / "data"}
monitors:
  - name: triage
    reference: {{path: {REFERENCE}}}
    features: {{patient_age: numeric, channel: categorical}}
    schedule: {{interval: 30s}}
"""
    )
    daemon = Daemon(cfg, seed=1)
    daemon.start(schedule=False)
    daemon.store.record_reference(Reference(monitor="triage"))
    try:
        with TestClient(create_app(daemon)) as client:
            yield daemon, client
    finally:
        daemon.stop()


def _stored(daemon: Daemon, result: CheckResult) -> int:
    return daemon.store.record_check(result, window_start=10.0, window_end=20.0, trigger="schedule")


def _document(result: CheckResult) -> dict[str, Any]:
    return {k: v for k, v in result.to_dict().items() if k != "schema_version"}


@pytest.mark.parametrize("rule", sorted(RESULTS))
def test_a_stored_check_is_its_json_document(served: tuple[Daemon, TestClient], rule: str) -> None:
    daemon, client = served
    result = RESULTS[rule]
    check_id = _stored(daemon, result)
    resp = client.get(f"/v1/checks/{check_id}")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert {k: v for k, v in body.items() if k not in RECORD_ONLY} == _document(result)
    assert body["decision"]["rule"] == rule
    listed = client.get("/v1/monitors/triage/checks", params={"limit": 1000}).json()["checks"]
    (row,) = [c for c in listed if c["id"] == check_id]
    assert row["decision"] == result.to_dict()["decision"] and row["features"] is None


def test_the_calibrated_fields_of_each_feature(served: tuple[Daemon, TestClient]) -> None:
    daemon, client = served
    body = client.get(f"/v1/checks/{_stored(daemon, RESULTS['calibrated'])}").json()
    assert body["multiple_testing"] == "bh"
    assert body["decision"] == {"rule": "calibrated", "alpha": 0.05, "look_share": 0.5, "level": 0.025}
    features = {f["name"]: f for f in body["features"]}
    assert {k: features["b"][k] for k in ("p_value", "adjusted_p_value", "threshold_drifted", "drifted")} == {
        "p_value": 0.21,
        "adjusted_p_value": 0.28,
        "threshold_drifted": True,
        "drifted": False,
    }
    m = features["m"]
    assert (m["status"], m["calibration"], m["missing_p_value"], m["decision"]) == (
        "mostly_missing",
        "missing_rate",
        2e-9,
        "calibrated",
    )
    assert features["x"]["decision"] == "none" and features["a"]["level"] == 0.025


def test_the_latest_check_of_a_monitor_is_its_json_document(served: tuple[Daemon, TestClient]) -> None:
    daemon, client = served
    result = RESULTS["calibrated"]
    daemon.monitors["triage"].last = CheckRun(None, result, 10.0, None, "manual")
    resp = client.get("/v1/monitors/triage")
    assert resp.status_code == 200, resp.text
    last = resp.json()["last_check"]
    assert last == {
        **result.to_dict(),
        "id": None,
        "stored": False,
        "trigger": "manual",
        "window_start": 10.0,
        "window_end": None,
    }


def test_openapi_documents_the_decision_fields(served: tuple[Daemon, TestClient]) -> None:
    _, client = served
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    feature = schemas["FeatureOut"]["properties"]
    assert feature["decision"]["enum"] == ["calibrated", "threshold", "none"]
    new = {"p_value", "threshold_drifted", "decision", "calibration", "missing_p_value", "level"}
    assert new <= set(schemas["FeatureOut"]["required"])
    assert all(feature[name].get("description") for name in new)
    for model in ("CheckRunOut", "CheckRecordOut"):
        assert schemas[model]["properties"]["decision"] == {"$ref": "#/components/schemas/DecisionOut"}
    assert schemas["DecisionOut"]["properties"]["rule"]["enum"] == ["calibrated", "threshold"]
