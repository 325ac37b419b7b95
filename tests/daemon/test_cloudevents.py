"""KServe inference-logger CloudEvents into the real daemon: both modes, V1 and V2 bodies, request/response join."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from .harness import DaemonProcess, write_config

REQUEST = "org.kubeflow.serving.inference.request"
RESPONSE = "org.kubeflow.serving.inference.response"
ROUTES = """ingest:
  join_timeout: 1s
  cloudevents:
    - {inference_service: triage-model, endpoint: default, monitor: triage}
    - inference_service: triage-v2
      monitor: triage
      input_columns: [patient_age, heart_rate, temperature_c]
      output_columns: [predicted_urgency]
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(write_config(tmp_path_factory.mktemp("ce"), extra=ROUTES)).start()
    yield proc
    assert proc.stop() == 0, proc.log()


def binary(client: httpx.Client, event_id: str, kind: str, data: dict, service: str, endpoint: str | None = None):
    headers = {
        "ce-id": event_id,
        "ce-type": kind,
        "ce-source": "http://localhost:9081/",
        "ce-specversion": "1.0",
        "ce-inferenceservicename": service,
        "content-type": "application/json",
    }
    if endpoint:
        headers["ce-endpoint"] = endpoint
    return client.post("/v1/cloudevents", content=orjson.dumps(data), headers=headers)


def structured(client: httpx.Client, event_id: str, kind: str, data: dict, service: str, endpoint: str | None = None):
    event = {
        "specversion": "1.0",
        "id": event_id,
        "type": kind,
        "source": "kserve",
        "inferenceservicename": service,
        "datacontenttype": "application/json",
        "data_base64": base64.b64encode(orjson.dumps(data)).decode(),
    }
    if endpoint:
        event["endpoint"] = endpoint
    return client.post(
        "/v1/cloudevents", content=orjson.dumps(event), headers={"content-type": "application/cloudevents+json"}
    )


def _until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _window_rows(client: httpx.Client) -> int:
    return client.get("/v1/monitors/triage").json()["window"]["rows_seen"]


@pytest.mark.parametrize("send", [binary, structured])
def test_v1_request_and_response_join(daemon: DaemonProcess, send) -> None:
    with daemon.client() as c:
        before = _window_rows(c)
        instances = [
            {"patient_age": 30.0, "heart_rate": 80.0, "channel": "web", "arrival_mode": "walk_in"},
            {"patient_age": 70.0, "heart_rate": 120.0, "channel": "phone", "arrival_mode": "ambulance"},
        ]
        eid = f"v1-{send.__name__}"
        args = ("triage-model", "default")
        resp = send(c, eid, REQUEST, {"instances": instances}, *args)
        assert resp.status_code == 202, resp.text
        assert resp.json()["joined"] == 0  # waiting for its response
        resp = send(c, eid, RESPONSE, {"predictions": ["low", "high"]}, *args)
        assert resp.status_code == 202, resp.text
        assert resp.json()["joined"] == 2
        _until(lambda: _window_rows(c) == before + 2)


def test_v2_tensors_with_bytes_and_prediction_column(daemon: DaemonProcess) -> None:
    request = {
        "inputs": [
            {"name": "vitals", "shape": [2, 3], "datatype": "FP32", "data": [31, 81, 37.0, 65, 95, 38.5]},
            {"name": "symptoms", "shape": [2], "datatype": "BYTES", "data": ["cough", "dolor de pecho"]},
            {"name": "channel", "shape": [2, 1], "datatype": "BYTES", "data": ["web", "kiosk"]},
        ]
    }
    response = {"outputs": [{"name": "urgency", "shape": [2], "datatype": "BYTES", "data": ["low", "high"]}]}
    with daemon.client() as c:
        before = c.get("/v1/monitors/triage").json()["ingest"]
        assert binary(c, "v2-1", RESPONSE, response, "triage-v2").status_code == 202  # response first
        resp = binary(c, "v2-1", REQUEST, request, "triage-v2")
        assert resp.status_code == 202 and resp.json()["joined"] == 2, resp.text
        _until(lambda: c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == before["rows_accepted"] + 2)
        after = c.get("/v1/monitors/triage").json()["ingest"]
        assert after["rows_accepted"] == before["rows_accepted"] + 2
        # 'symptoms' is not a feature of this monitor (ignored, counted); 'urgency' became 'predicted_urgency'.
        assert after["unknown_columns"] == before["unknown_columns"] + 1


def test_request_without_response_is_ingested_after_timeout(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        before = _window_rows(c)
        resp = binary(c, "lonely", REQUEST, {"instances": [{"patient_age": 50.0}]}, "triage-model", "default")
        assert resp.status_code == 202 and resp.json()["joined"] == 0
        _until(lambda: _window_rows(c) == before + 1)


def test_bad_events_get_clear_errors(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        resp = binary(c, "x", REQUEST, {"instances": [{"a": 1}]}, "unknown-model")
        assert resp.status_code == 404
        assert "no ingest.cloudevents route matches this event (inferenceservicename 'unknown-model', endpoint not set" in resp.json()["error"]
        resp = binary(c, "x", "com.example.other", {"instances": []}, "triage-model", "default")
        assert resp.status_code == 400 and REQUEST in resp.json()["error"]
        resp = binary(c, "x", REQUEST, {"nothing": 1}, "triage-model", "default")
        assert resp.status_code == 400
        resp = c.post("/v1/cloudevents", content=b"{}", headers={"content-type": "application/json"})
        assert resp.status_code == 400
        bad_shape = {"inputs": [{"name": "vitals", "shape": [2, 3], "datatype": "FP32", "data": [1, 2]}]}
        resp = binary(c, "y", REQUEST, bad_shape, "triage-v2")
        assert resp.status_code == 400 and "vitals" in resp.json()["error"]


def test_pending_requests_are_ingested_at_shutdown(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra=ROUTES.replace("join_timeout: 1s", "join_timeout: 1h"))
    proc = DaemonProcess(config).start()
    with proc.client() as c:
        for i in range(3):
            resp = binary(c, f"s{i}", REQUEST, {"instances": [{"patient_age": 40.0 + i}]}, "triage-model", "default")
            assert resp.json()["joined"] == 0
    assert proc.stop() == 0
    assert "ingested 3 rows of logged inferences at shutdown" in proc.log()
    again = DaemonProcess(config, port=proc.port).start()
    try:
        with again.client() as c:
            assert _window_rows(c) == 3
    finally:
        assert again.stop() == 0
