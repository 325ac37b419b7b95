"""Bodies from Python's json.dumps reach the real daemon: NaN is a missing value, Infinity an infinite one."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from driftwatch import demo

from .harness import DaemonProcess, write_config

ROWS = 200
NAN_ROWS = 50  # heart_rate
INF_ROWS = 10  # temperature_c


def _rows() -> list[dict]:
    rows = demo.production_batch(ROWS, 0.0, seed=4).drop_columns(["systolic_bp", "symptoms"]).to_pylist()
    for i, row in enumerate(rows):
        row["heart_rate"] = float("nan") if i < NAN_ROWS else float(row["heart_rate"] or 70.0)
        row["temperature_c"] = float("inf") if i >= ROWS - INF_ROWS else float(row["temperature_c"] or 37.0)
    return rows


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_python_json_nan_and_infinity_are_accepted(tmp_path: Path, fmt: str) -> None:
    rows = _rows()
    if fmt == "json":
        body, ctype = json.dumps(rows).encode(), "application/json"
    else:
        body, ctype = "\n".join(json.dumps(r) for r in rows).encode(), "application/x-ndjson"
    assert b"NaN" in body and b"Infinity" in body  # what the stdlib writes by default
    proc = DaemonProcess(write_config(tmp_path)).start()
    try:
        with proc.client() as c:
            resp = c.post("/v1/monitors/triage/rows", content=body, headers={"content-type": ctype})
            assert resp.status_code == 202, resp.text
            assert resp.json()["accepted"] == ROWS and resp.json()["rejected"] == 0
            doc = c.post("/v1/monitors/triage/checks").json()
    finally:
        assert proc.stop() == 0, proc.log()
    assert doc["rows"] == ROWS
    features = {f["name"]: f for f in doc["features"]}
    heart, temperature = features["heart_rate"], features["temperature_c"]
    assert heart["status"] == "ok" and heart["current_rows"] == ROWS - NAN_ROWS
    assert math.isclose(heart["quality"]["missing_rate"], NAN_ROWS / ROWS)
    assert temperature["current_rows"] == ROWS - INF_ROWS and temperature["quality"]["missing_rate"] == 0
    assert temperature["quality"]["out_of_range_rate"] >= INF_ROWS / ROWS


def test_malformed_json_with_nan_is_still_a_400(tmp_path: Path) -> None:
    proc = DaemonProcess(write_config(tmp_path)).start()
    try:
        with proc.client() as c:
            resp = c.post(
                "/v1/monitors/triage/rows",
                content=b'[{"heart_rate": NaN,}]',
                headers={"content-type": "application/json"},
            )
    finally:
        assert proc.stop() == 0, proc.log()
    assert resp.status_code == 400
    assert resp.json()["error"].startswith("malformed JSON: ")
