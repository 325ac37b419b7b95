"""Against the real daemon: hostile bodies get a 4xx naming the limit, in bounded memory, on a usable connection."""

from __future__ import annotations

import gzip
import json

import httpx
import psutil
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.daemon.harness import DaemonProcess, arrow_bytes, write_config

ROUTES = """ingest:
  cloudevents:
    - {inference_service: triage-model, monitor: triage}
"""
PREDICTIONS = "    prediction_columns: [predicted_urgency]\n"
GOOD = [{"patient_age": 40.0, "heart_rate": 80.0, "channel": "web", "predicted_urgency": "low"}]
# What one refused request may add to the daemon's resident memory (the body itself is well under 1 MB).
RSS_BUDGET = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("limits")
    proc = DaemonProcess(write_config(folder, extra=ROUTES, monitor_extra=PREDICTIONS)).start()
    yield proc
    assert proc.stop() == 0, proc.log()


def _deep(n: int, key: str = "channel") -> bytes:
    return b'[{"%s": ' % key.encode() + b'{"a": ' * n + b"1" + b"}" * n + b"}]"


def _rejected(client: httpx.Client) -> dict[tuple[str, str], float]:
    text = client.get("/metrics").text
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "driftwatch_requests_rejected"]
    return {(s.labels["monitor"], s.labels["reason"]): s.value for s in family.samples if s.name.endswith("_total")}


def _client_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def _rows(client: httpx.Client, body: bytes, content_type: str = "application/json", **headers: str) -> httpx.Response:
    return client.post("/v1/monitors/triage/rows", content=body, headers={"content-type": content_type, **headers})


@pytest.mark.parametrize("column", ["channel", "not_a_feature"])
def test_deep_nesting_is_refused_without_costing_memory(daemon: DaemonProcess, column: str) -> None:
    process = psutil.Process(daemon.proc.pid)
    with daemon.client() as c:
        assert _rows(c, json.dumps(GOOD).encode()).status_code == 202
        before = _rejected(c)[("triage", "max_depth")]
        rss = process.memory_info().rss
        for _ in range(3):
            resp = _rows(c, _deep(1000, column))
            assert resp.status_code == 422, resp.text
            assert resp.json()["error"].endswith("exceeds ingest.limits.max_depth (32)")
        grown = process.memory_info().rss - rss
        assert grown < RSS_BUDGET, f"RSS grew by {grown / 2**20:.1f} MiB"
        assert _rejected(c)[("triage", "max_depth")] == before + 3
        ok = _rows(c, json.dumps(GOOD).encode())
        assert ok.status_code == 202 and _client_port(ok) == _client_port(resp)  # same keep-alive connection


def test_a_deep_non_feature_column_within_the_depth_limit_is_ignored(daemon: DaemonProcess) -> None:
    body = json.dumps([{**GOOD[0], "notes": json.loads(_deep(20, "x"))}]).encode()
    with daemon.client() as c:
        resp = _rows(c, body)
    assert resp.status_code == 202, resp.text
    assert resp.json()["ignored_columns"] == ["notes"] and resp.json()["accepted"] == 1


def test_parser_errors_overflow_and_ids_are_4xx_on_one_connection(daemon: DaemonProcess) -> None:
    deep_line = b'{"channel": ' + b'{"a": ' * 600 + b"1" + b"}" * 600 + b"}\n"
    huge = pa.table({"patient_age": pa.array([2**64 - 1, 3], pa.uint64()), "channel": ["web", "phone"]})
    with daemon.client() as c:
        first = _rows(c, deep_line, "application/x-ndjson")
        assert first.status_code == 422 and "max_depth" in first.json()["error"]
        port = _client_port(first)
        resp = _rows(c, arrow_bytes(huge), "application/vnd.apache.arrow.stream")
        assert resp.status_code == 202 and resp.json()["accepted"] == 2, resp.text
        resp = c.get("/v1/checks/9223372036854775808")
        assert resp.status_code == 422 and "error" in resp.json()
        resp = _rows(c, b'[{"patient_age": 1e999999}]')
        assert resp.status_code < 500, resp.text
        resp = _rows(c, b'{"rows": [' + b'"' + b"x" * 70_000 + b'"]}')
        assert resp.status_code == 422 and "ingest.limits.max_string_bytes (65536)" in resp.json()["error"]
        resp = _rows(c, gzip.compress(b"[" + b"{}," * 30_000_000 + b"{}]"), **{"content-encoding": "gzip"})
        assert resp.status_code == 413 and "ingest.limits.max_decoded_bytes" in resp.json()["error"]
        last = _rows(c, json.dumps(GOOD).encode())
        assert last.status_code == 202 and _client_port(last) == port
        counts = _rejected(c)
    assert counts[("triage", "max_string_bytes")] >= 1 and counts[("triage", "max_decoded_bytes")] >= 1


def test_a_deep_cloudevent_is_refused_and_counted(daemon: DaemonProcess) -> None:
    headers = {
        "ce-id": "deep",
        "ce-type": "org.kubeflow.serving.inference.request",
        "ce-source": "s",
        "ce-specversion": "1.0",
        "ce-inferenceservicename": "triage-model",
        "content-type": "application/json",
    }
    data = b'{"instances": ' + _deep(1000)[:-1] + b"]}"
    with daemon.client() as c:
        before = _rejected(c)[("", "max_depth")]
        resp = c.post("/v1/cloudevents", content=data, headers=headers)
        assert resp.status_code == 422 and "ingest.limits.max_depth" in resp.json()["error"]
        assert _rejected(c)[("", "max_depth")] == before + 1


_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-ndjson",
        "application/vnd.apache.arrow.stream",
        "application/cloudevents+json",
        "text/plain",
        "",
    ]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)
_BODIES = st.one_of(
    st.binary(max_size=300),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.lists(_JSON, max_size=4).map(lambda vs: b"\n".join(json.dumps(v).encode() for v in vs)),
    st.integers(1, 2000).map(lambda n: b"[" * n + b"]" * n),
    st.sampled_from([b'{"instances": [[1, 2]]}', b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32"}]}']),
)
# Stripped: a header value with outer whitespace is refused by the client itself.
_HEADER_VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20).map(str.strip)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=_BODIES,
    content_type=_CONTENT_TYPES,
    encoding=st.sampled_from([None, "gzip", "identity", "br"]),
    event=st.booleans(),
    ce=st.dictionaries(
        st.sampled_from(["ce-id", "ce-type", "ce-source", "ce-specversion", "ce-inferenceservicename", "ce-endpoint"]),
        _HEADER_VALUES,
    ),
)
def test_fuzzed_requests_never_get_a_5xx(
    daemon: DaemonProcess, body: bytes, content_type: str, encoding: str | None, event: bool, ce: dict[str, str]
) -> None:
    headers = {"content-type": content_type, **(ce if event else {})}
    if encoding == "gzip":
        body = gzip.compress(body)
    if encoding is not None:
        headers["content-encoding"] = encoding
    with httpx.Client(base_url=daemon.url, timeout=60) as c:
        path = "/v1/cloudevents" if event else "/v1/monitors/triage/rows"
        resp = c.post(path, content=body, headers=headers)
        assert resp.status_code < 500, resp.text
        assert "error" in resp.json() or resp.status_code == 202
        assert c.get("/healthz").status_code == 200  # the same connection still serves
