"""The ingestion benchmark's setup: the daemon config, the payloads and headers sent, the targets, the baseline.

The baseline parses the same bodies with pyarrow alone, in the benchmark process, so that the daemon's figures can be
read as a ratio against it, measured in the same run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.json as pa_json
from harness import ROOT, DaemonProcess

REFERENCE = ROOT / "examples" / "triage" / "reference.csv"
MONITOR = "triage"
ROWS_PATH = f"/v1/monitors/{MONITOR}/rows"
CE_PATH = "/v1/cloudevents"
CE_REQUEST_TYPE = "org.kubeflow.serving.inference.request"
CONTENT_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "arrow": "application/vnd.apache.arrow.stream",
}
FEATURES = {
    "patient_age": "numeric",
    "heart_rate": "numeric",
    "temperature_c": "numeric",
    "systolic_bp": "numeric",
    "pain_score": "numeric",
    "arrival_mode": "categorical",
    "channel": "categorical",
    "insurance": "categorical",
    "symptoms": "text",
    "predicted_urgency": "categorical",
}
# Distinct pre-serialized payloads per batch size (sent round-robin), so the window does not see one row only.
POOL_ROWS = 40_000
MAX_POOL = 64
JOIN_TIMEOUT_SECONDS = 10.0  # ingest.join_timeout default: an unanswered request event is ingested this late

TARGET_BATCH = 10_000
TARGET_JSON_ROWS_PER_S = 100_000.0
TARGET_ARROW_ROWS_PER_S = 1_000_000.0
TARGET_CE_PER_S = 2_000.0
TARGET_CE_P99_MS = 10.0
TARGET_RSS_GROWTH = 0.10


# ---- payloads -----------------------------------------------------------------------------------------------


def arrow_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def serialize(table: pa.Table, fmt: str) -> bytes:
    if fmt == "arrow":
        return arrow_bytes(table)
    rows = table.to_pylist()
    if fmt == "json":
        return orjson.dumps(rows)
    if fmt == "ndjson":
        return b"".join(orjson.dumps(row) + b"\n" for row in rows)
    raise ValueError(f"unknown format {fmt}")


def payload_pool(source: pa.Table, fmt: str, batch: int) -> list[bytes]:
    """Up to MAX_POOL distinct bodies of `batch` rows each, cut from `source`."""
    count = max(1, min(MAX_POOL, source.num_rows // batch))
    return [serialize(source.slice(i * batch, batch), fmt) for i in range(count)]


def cloudevent_pool(source: pa.Table) -> list[bytes]:
    return [orjson.dumps({"instances": [row]}) for row in source.slice(0, MAX_POOL).to_pylist()]


# ---- the daemon ---------------------------------------------------------------------------------------------


def write_config(folder: Path) -> Path:
    """The example triage monitor, data under `folder`, no check during the run, one CloudEvents route."""
    features = "".join(f"      {name}: {kind}\n" for name, kind in FEATURES.items())
    text = f"""data_dir: {json.dumps(str(folder / "data"))}
ingest:
  cloudevents: [{{inference_service: triage-model, monitor: {MONITOR}}}]
monitors:
  - name: {MONITOR}
    reference: {{path: {json.dumps(str(REFERENCE))}}}
    features:
{features}    prediction_columns: [predicted_urgency]
    window: {{type: tumbling, duration: 1d}}
    schedule: {{interval: 1d}}
"""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def start_daemon(folder: Path) -> DaemonProcess:
    """A fresh `driftwatch run` with the triage config under `folder`, ready to ingest."""
    return DaemonProcess(folder, write_config(folder)).start()


def monitor_info(daemon: DaemonProcess) -> dict[str, Any]:
    return daemon.get_json(f"/v1/monitors/{MONITOR}")


def rows_accepted(daemon: DaemonProcess) -> int:
    return int(monitor_info(daemon)["ingest"]["rows_accepted"])


# ---- headers ------------------------------------------------------------------------------------------------

HeaderFn = Callable[[int, int], dict[str, str]]


def static_headers(content_type: str) -> HeaderFn:
    headers = {"content-type": content_type}
    return lambda _t, _i: headers


def cloudevent_headers(tag: str) -> HeaderFn:
    def make(t: int, i: int) -> dict[str, str]:
        return {
            "ce-id": f"bench-{tag}-{t}-{i}",
            "ce-type": CE_REQUEST_TYPE,
            "ce-source": "bench/triage-model",
            "ce-specversion": "1.0",
            "ce-inferenceservicename": "triage-model",
            "content-type": "application/json",
        }

    return make


# ---- baseline -----------------------------------------------------------------------------------------------


def _parse_json(body: bytes) -> int:
    return int(pa.Table.from_pylist(orjson.loads(body)).num_rows)


def _parse_ndjson(body: bytes) -> int:
    return int(pa_json.read_json(pa.BufferReader(body)).num_rows)


def _parse_arrow(body: bytes) -> int:
    return int(ipc.open_stream(body).read_all().num_rows)


def _parse_cloudevent(body: bytes) -> int:
    return int(pa.Table.from_pylist(orjson.loads(body)["instances"]).num_rows)


BASELINE_PARSERS: dict[str, Callable[[bytes], int]] = {
    "json": _parse_json,
    "ndjson": _parse_ndjson,
    "arrow": _parse_arrow,
    "cloudevent": _parse_cloudevent,
}


@dataclass
class BaselineResult:
    fmt: str
    batch: int
    calls: int
    rows_per_s: float
    calls_per_s: float
    us_per_call: float


def baseline(fmt: str, batch: int, bodies: list[bytes], seconds: float) -> BaselineResult:
    """Parse the bodies round-robin with pyarrow alone, in this process and thread, for about `seconds`."""
    parse = BASELINE_PARSERS[fmt]
    for body in bodies:  # warm up, and check the row count
        got = parse(body)
        if got != batch:
            raise RuntimeError(f"baseline {fmt}: parsed {got} rows, expected {batch}")
    calls = 0
    t0 = time.perf_counter()
    while True:
        for body in bodies:
            parse(body)
        calls += len(bodies)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and calls >= 3:
            break
    return BaselineResult(fmt, batch, calls, calls * batch / elapsed, calls / elapsed, elapsed / calls * 1e6)
