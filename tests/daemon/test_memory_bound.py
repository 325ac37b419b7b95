"""The daemon-wide memory bound against the real process: concurrent worst-case requests of every ingest format
raise its RSS by less than docs/operations.md#memory promises, and the requests that do not fit get a 503 that
names ingest.limits.max_inflight_bytes, with Retry-After, counted by reason."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import psutil
import pyarrow as pa
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .harness import DaemonProcess, arrow_bytes, write_config

MIB = 1024 * 1024
BODY = 2 * MIB
INFLIGHT = 96 * MIB
ROWS = 200_000
# docs/operations.md#memory: RSS growth <= max_inflight_bytes + 48 MiB (server, threads, allocator) + 320 KiB a request.
SENDERS = 16
BOUND = INFLIGHT + 48 * MIB + SENDERS * 320 * 1024
LIMITS = f"""ingest:
  limits: {{max_body_bytes: {BODY}, max_decoded_bytes: {BODY}, max_rows: {ROWS}, max_inflight_bytes: {INFLIGHT}}}
  cloudevents:
    - {{inference_service: triage-model, monitor: triage}}
"""
CE = {
    "ce-type": "org.kubeflow.serving.inference.request",
    "ce-source": "s",
    "ce-specversion": "1.0",
    "ce-inferenceservicename": "triage-model",
    "content-type": "application/json",
}


def _fill(prefix: bytes, item: bytes, suffix: bytes, size: int = BODY - 64, sep: bytes = b",") -> bytes:
    return prefix + sep.join([item] * ((size - len(prefix) - len(suffix)) // (len(item) + len(sep)))) + suffix


def _v2(names: tuple[str, ...]) -> bytes:
    n = (BODY - 400) // (4 * len(names))
    tensor = b'{"name":"%s","shape":[%d],"datatype":"FP32","data":[' + b",".join([b"1.5"] * n) + b"]}"
    return b'{"inputs":[' + b",".join(tensor % (name.encode(), n) for name in names) + b"]}"


# The shapes that cost the most memory per byte in each format (measured: docs/operations.md#memory).
BODIES: dict[str, tuple[str, dict[str, str], bytes]] = {
    "json nested": ("rows", {"content-type": "application/json"}, _fill(b'[{"channel":[', b"[]", b"]}]")),
    "json rows": ("rows", {"content-type": "application/json"}, _fill(b"[", b'{"channel":"ab"}', b"]")),
    "ndjson mixed": (
        "rows",
        {"content-type": "application/x-ndjson"},
        _fill(b"[]\n", b'{"channel":"ab"}', b"", sep=b"\n"),
    ),
    "arrow bool": (
        "rows",
        {"content-type": "application/vnd.apache.arrow.stream"},
        arrow_bytes(pa.table({f: pa.array([True] * ROWS) for f in ("patient_age", "heart_rate", "pain_score")})),
    ),
    "kserve v1": ("ce", CE, _fill(b'{"instances":[{"channel":[', b"[]", b"]}]}")),
    "kserve v2": ("ce", CE, _v2(("patient_age", "heart_rate", "temperature_c", "pain_score"))),
}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("memory")
    proc = DaemonProcess(
        write_config(folder, extra=LIMITS, monitor_extra="    prediction_columns: [predicted_urgency]\n")
    )
    proc.start()
    yield proc
    assert proc.stop() == 0, proc.log()


def _send(client: httpx.Client, name: str, n: int) -> httpx.Response:
    kind, headers, body = BODIES[name]
    if kind == "rows":
        return client.post("/v1/monitors/triage/rows", content=body, headers=headers)
    return client.post("/v1/cloudevents", content=body, headers={**headers, "ce-id": f"{name}-{n}"})


def _rejected(client: httpx.Client) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        if family.name == "driftwatch_requests_rejected":
            return sum(s.value for s in family.samples if s.labels["reason"] == "max_inflight_bytes")
    raise AssertionError("driftwatch_requests_rejected missing")


def test_concurrent_worst_case_requests_stay_within_the_documented_bound(daemon: DaemonProcess) -> None:
    process = psutil.Process(daemon.proc.pid)
    with daemon.client() as c:
        for i, name in enumerate(BODIES):  # each alone first: every shape is accepted when it has the budget
            resp = _send(c, name, i)
            assert resp.status_code == 202, (name, resp.text)
        before = _rejected(c)
    time.sleep(0.5)
    base = process.memory_info().rss
    peak = base
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.002)

    statuses: Counter[tuple[str, int]] = Counter()
    refusals: list[httpx.Response] = []
    lock = threading.Lock()
    names = list(BODIES)

    def sender(k: int) -> None:
        with httpx.Client(base_url=daemon.url, timeout=120) as client:
            for round_ in range(3):
                name = names[(k + round_) % len(names)]
                resp = _send(client, name, 100 * k + round_)
                with lock:
                    statuses[(name, resp.status_code)] += 1
                    if resp.status_code != 202:
                        refusals.append(resp)

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    stop.set()
    sampler.join()
    grown = peak - base
    assert grown <= BOUND, f"RSS grew by {grown / MIB:.0f} MiB, bound {BOUND / MIB:.0f} MiB: {dict(statuses)}"
    assert {code for _, code in statuses} <= {202, 503}, dict(statuses)
    assert sum(n for (_, code), n in statuses.items() if code == 202) >= len(BODIES), dict(statuses)
    assert refusals, f"{SENDERS} concurrent worst-case requests all fitted in {INFLIGHT} bytes: {dict(statuses)}"
    for resp in refusals:
        assert resp.headers["retry-after"] == "1"
        doc = resp.json()
        assert doc["limit"] == "max_inflight_bytes" and "ingest.limits.max_inflight_bytes (100663296)" in doc["error"]
    with daemon.client() as c:
        assert _rejected(c) == before + len(refusals)
        assert c.get("/readyz").status_code == 200
        text = c.get("/metrics").text
    assert "driftwatch_ingest_inflight_bytes 0.0" in text  # every charge was given back


def test_a_request_that_could_never_fit_is_a_413_naming_the_budget(tmp_path: Path) -> None:
    extra = LIMITS.replace(f"max_inflight_bytes: {INFLIGHT}", f"max_inflight_bytes: {8 * MIB}")
    proc = DaemonProcess(write_config(tmp_path, extra=extra)).start()
    try:
        with proc.client() as c:
            resp = _send(c, "json nested", 0)
            assert resp.status_code == 413, resp.text
            assert resp.json()["limit"] == "max_inflight_bytes" and "retry-after" not in resp.headers
            assert "more than ingest.limits.max_inflight_bytes (8388608)" in resp.json()["error"]
            assert _rejected(c) == 1
            ok = c.post("/v1/monitors/triage/rows", content=orjson.dumps([{"channel": "web"}]))
            assert ok.status_code == 202, ok.text
    finally:
        assert proc.stop() == 0, proc.log()
