"""Inference-logger CloudEvents into the real daemon: KServe and MLServer/Seldon, both modes, V1 and V2, the join."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .harness import DaemonProcess, write_config

REQUEST = "org.kubeflow.serving.inference.request"
RESPONSE = "org.kubeflow.serving.inference.response"
SELDON_REQUEST = "io.seldon.serving.inference.request"
SELDON_RESPONSE = "io.seldon.serving.inference.response"
ROUTES = """ingest:
  join_timeout: 1s
  cloudevents:
    - {inference_service: triage-model, endpoint: default, monitor: triage}
    - inference_service: triage-v2
      monitor: triage
      input_columns: [patient_age, heart_rate, temperature_c]
      output_columns: [predicted_urgency]
    - {inference_service: triage-positional, monitor: triage, input_columns: [patient_age, heart_rate, pain_score]}
    - {model: triage-sklearn, monitor: triage, input_columns: [patient_age, heart_rate, temperature_c]}
"""
PREDICTIONS = "    prediction_columns: [predicted_urgency]\n"


def _config(folder: Path, routes: str = ROUTES) -> Path:
    return write_config(folder, extra=routes, monitor_extra=PREDICTIONS)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(_config(tmp_path_factory.mktemp("ce"))).start()
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
        # The single output is the monitor's prediction column: nothing ignored.
        assert (resp.json()["joined"], resp.json()["ignored_columns"], resp.json()["errors"]) == (2, [], [])
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
        error = resp.json()["error"]
        assert "no ingest.cloudevents route matches this event (inferenceservicename 'unknown-model'," in error
        assert "None" not in error
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
    config = _config(tmp_path, ROUTES.replace("join_timeout: 1s", "join_timeout: 1h"))
    proc = DaemonProcess(config).start()
    with proc.client() as c:
        for i in range(3):
            resp = binary(c, f"s{i}", REQUEST, {"instances": [{"patient_age": 40.0 + i}]}, "triage-model", "default")
            assert resp.json()["joined"] == 0
    assert proc.stop() == 0
    assert "ingested logged inferences at shutdown rows=3" in proc.log()
    again = DaemonProcess(config, port=proc.port).start()
    try:
        with again.client() as c:
            assert _window_rows(c) == 3
    finally:
        assert again.stop() == 0


def _check_feature(client: httpx.Client, name: str) -> dict:
    resp = client.post("/v1/monitors/triage/checks")
    assert resp.status_code == 200, resp.text
    (feature,) = [f for f in resp.json()["features"] if f["name"] == name]
    return feature


def test_example_config_stores_the_v1_prediction(example_config: Path) -> None:
    proc = DaemonProcess(example_config).start()
    try:
        with proc.client() as c:
            instances = [{"patient_age": 41.0, "heart_rate": 80.0}, {"patient_age": 67.0, "heart_rate": 118.0}]
            args = ("triage-model", "triage-model-predictor")
            assert binary(c, "ex-1", REQUEST, {"instances": instances}, *args).status_code == 202
            resp = binary(c, "ex-1", RESPONSE, {"predictions": ["high", "no-such-label"]}, *args)
            assert resp.status_code == 202 and resp.json()["joined"] == 2, resp.text
            _until(lambda: c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == 2)
            quality = _check_feature(c, "predicted_urgency")["quality"]
            # Both predictions were stored: none missing, and exactly one is a label the reference never had.
            assert (quality["rows"], quality["missing_rate"], quality["unseen_category_rate"]) == (2, 0.0, 0.5)
    finally:
        assert proc.stop() == 0, proc.log()


def test_positional_instances_need_the_routes_input_columns(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        before = c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"]
        resp = binary(c, "pos-1", REQUEST, {"instances": [[41, 80, 37.2]]}, "triage-model", "default")
        assert resp.status_code == 422, resp.text
        assert resp.json()["error"].startswith("ingest.cloudevents[0] has no input_columns, but the request's")
        resp = binary(c, "pos-2", REQUEST, {"instances": [[41, 80, 7], [70, 120, 2]]}, "triage-positional")
        assert resp.status_code == 202 and resp.json()["ignored_columns"] == [], resp.text
        resp = binary(c, "pos-2", RESPONSE, {"predictions": ["low", "high"]}, "triage-positional")
        assert resp.status_code == 202 and resp.json()["joined"] == 2, resp.text
        _until(lambda: c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == before + 2)


def _mlserver(kind: str, request_id: str, specversion: str) -> dict[str, str]:
    return {
        "Ce-Specversion": specversion,
        "Ce-Source": "io.seldon.serving.deployment.mlserver.triage",
        "Ce-Type": kind,
        "Ce-Modelid": "triage-sklearn",
        "Ce-Inferenceservicename": "mlserver",
        "Ce-Endpoint": "triage-sklearn",
        "Ce-Id": request_id,
        "Ce-Requestid": request_id,
        "Content-Type": "application/json",
    }


V2_INPUTS = {
    "inputs": [{"name": "predict", "shape": [2, 3], "datatype": "FP32", "data": [[41, 80, 37], [70, 120, 39]]}]
}
V2_OUTPUTS = {"outputs": [{"name": "predict", "shape": [2, 1], "datatype": "BYTES", "data": ["low", "high"]}]}


def test_mlserver_events_specversion_03_are_routed_by_model(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        before = c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"]
        resp = c.post(
            "/v1/cloudevents", content=orjson.dumps(V2_INPUTS), headers=_mlserver(SELDON_REQUEST, "m1", "0.3")
        )
        assert resp.status_code == 202, resp.text
        assert resp.json() == {
            "monitor": "triage",
            "id": "m1",
            "kind": "request",
            "joined": 0,
            "errors": [],
            "ignored_columns": [],
        }
        headers = _mlserver(SELDON_RESPONSE, "m1", "0.3")
        resp = c.post("/v1/cloudevents", content=orjson.dumps(V2_OUTPUTS), headers=headers)
        assert resp.status_code == 202 and resp.json()["joined"] == 2, resp.text
        assert resp.json()["ignored_columns"] == []  # output 'predict' became predicted_urgency
        _until(lambda: c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == before + 2)


def test_seldon_structured_events_specversion_10_join_by_requestid(daemon: DaemonProcess) -> None:
    def event(kind: str, ce_id: str, data: dict) -> bytes:
        envelope = {
            "specversion": "1.0",
            "id": ce_id,  # Seldon Core's executor gives each half its own id
            "requestid": "puid-7",
            "type": kind,
            "source": "seldon.triage",
            "modelid": "triage-sklearn",
            "datacontenttype": "application/json",
            "data": data,
        }
        return orjson.dumps(envelope)

    with daemon.client() as c:
        before = c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"]
        structured_ct = {"content-type": "application/cloudevents+json"}
        resp = c.post("/v1/cloudevents", content=event(SELDON_REQUEST, "a-1", V2_INPUTS), headers=structured_ct)
        assert resp.status_code == 202 and resp.json()["id"] == "puid-7", resp.text
        resp = c.post("/v1/cloudevents", content=event(SELDON_RESPONSE, "b-2", V2_OUTPUTS), headers=structured_ct)
        assert resp.status_code == 202 and resp.json()["joined"] == 2, resp.text
        _until(lambda: c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == before + 2)


def test_seldon_core_messages_join_by_requestid(daemon: DaemonProcess) -> None:
    def headers(kind: str, ce_id: str) -> dict[str, str]:
        # Seldon Core's executor: specversion 0.3, a fresh ce-id per half, the inference id in ce-requestid.
        return _mlserver(kind, "puid-31", "0.3") | {"Ce-Id": ce_id, "Ce-Inferenceservicename": "triage-sdep"}

    request = {"data": {"names": ["patient_age", "heart_rate", "channel"], "ndarray": [[41, 80, "web"]]}}
    response = {"data": {"names": ["t:0"], "ndarray": [["medium"]]}, "meta": {}}
    with daemon.client() as c:
        before = c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"]
        resp = c.post("/v1/cloudevents", content=orjson.dumps(request), headers=headers(SELDON_REQUEST, "e-1"))
        assert resp.status_code == 202 and resp.json()["ignored_columns"] == [], resp.text
        resp = c.post("/v1/cloudevents", content=orjson.dumps(response), headers=headers(SELDON_RESPONSE, "e-2"))
        assert resp.status_code == 202 and resp.json()["joined"] == 1, resp.text
        _until(lambda: c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == before + 1)


def _rejected(client: httpx.Client) -> dict[tuple[str, str], float]:
    text = client.get("/metrics").text
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "driftwatch_requests_rejected"]
    return {(s.labels["monitor"], s.labels["reason"]): s.value for s in family.samples if s.name.endswith("_total")}


def test_rejected_events_are_counted_and_logged_once_per_interval(tmp_path: Path) -> None:
    proc = DaemonProcess(_config(tmp_path, ROUTES.replace("ingest:\n", "ingest:\n  max_body_bytes: 2048\n"))).start()
    try:
        with proc.client() as c:
            zero = _rejected(c)
            assert zero[("", "unrouted")] == zero[("triage", "unmapped")] == 0
            for i in range(3):
                assert binary(c, f"u{i}", REQUEST, {"instances": []}, "renamed-model").status_code == 404
            assert binary(c, "t", "com.example.other", {}, "triage-model", "default").status_code == 400
            headers = {"ce-id": "m", "ce-type": REQUEST, "ce-source": "s", "ce-specversion": "1.0"}
            resp = c.post(
                "/v1/cloudevents", content=b"{not json", headers=headers | {"content-type": "application/json"}
            )
            assert resp.status_code == 400
            big = {"instances": [{"patient_age": float(i)} for i in range(200)]}
            assert binary(c, "big", REQUEST, big, "triage-model", "default").status_code == 413
            personal = {"instances": [{"full_name": "Jane Roe", "phone": "+47 555 0101"}]}
            resp = binary(c, "p", REQUEST, personal, "triage-model", "default")
            assert resp.status_code == 422 and "full_name, phone" in resp.json()["error"], resp.text
            counts = _rejected(c)
        assert counts[("", "unrouted")] == 3
        assert counts[("", "malformed")] == 1  # bad JSON
        assert counts[("", "max_body_bytes")] == 1  # a body over ingest.limits.max_body_bytes
        assert counts[("triage", "unsupported_type")] == 1
        assert counts[("triage", "unmapped")] == 1
        assert counts[("", "unsupported_type")] == 0
    finally:
        assert proc.stop() == 0, proc.log()
    log = proc.log()
    assert log.count("reason=unrouted") == 1, log
    (unmapped,) = [line for line in log.splitlines() if "reason=unmapped" in line]
    assert "CloudEvent rejected: none of the request's columns" in unmapped and "monitor=triage" in unmapped
    assert "Jane Roe" not in log and "555 0101" not in log
