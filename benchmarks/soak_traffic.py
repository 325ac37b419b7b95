"""The soak's traffic: well-formed and malformed requests of every kind the daemon takes, each with the status due.

A kind sends one request (a CloudEvents kind: a request event and its response event) and returns the replies and
the rows the daemon acknowledged: `accepted` of a 202 from the rows API, `joined` of a CloudEvents reply (joined
rows are ingested by the daemon's event flusher within 50 ms of the reply).
"""

from __future__ import annotations

import gzip
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson
import pyarrow as pa
import pyarrow.ipc as ipc

from driftwatch import demo

MONITOR = "triage"
ROWS_PATH = f"/v1/monitors/{MONITOR}/rows"
CE_PATH = "/v1/cloudevents"
KSERVE = ("org.kubeflow.serving.inference.request", "org.kubeflow.serving.inference.response")
SELDON = ("io.seldon.serving.inference.request", "io.seldon.serving.inference.response")
KSERVE_SERVICE = "triage-model"  # the example config's KServe route
MLSERVER_MODEL = "triage-sklearn"
MLSERVER_INPUTS = ["patient_age", "heart_rate", "temperature_c", "systolic_bp", "pain_score"]
# The route the soak adds to the example config for MLServer / Seldon Core events (routed by ce-modelid).
MLSERVER_ROUTE = {"model": MLSERVER_MODEL, "monitor": MONITOR, "input_columns": MLSERVER_INPUTS}
ARROW = "application/vnd.apache.arrow.stream"
POOL_ROWS = 20_000

Send = Callable[[httpx.Client, "Payloads", random.Random], tuple[list[httpx.Response], int]]


@dataclass(frozen=True)
class Kind:
    """One kind of request: how often it is sent (relative weight), the status every reply must have, the sender.

    `reason` is the `driftwatch_requests_rejected_total` series each refusal of this kind counts in, as
    "<monitor or ->/<reason>".
    """

    name: str
    good: bool
    weight: int
    status: int
    send: Send
    reason: str | None = None


class Payloads:
    """Production-like rows cut from one seeded pool, and the few large bodies built once."""

    def __init__(self, seed: int, max_body_bytes: int, max_string_bytes: int) -> None:
        self.pool = demo.production_batch(POOL_ROWS, 0.1, seed=seed)
        self.rows = self.pool.to_pylist()
        self.oversized = b"[" + b" " * max_body_bytes + b"]"
        self.huge_string = "x" * (max_string_bytes + 1)
        self._ids = itertools.count()

    def table(self, rng: random.Random) -> pa.Table:
        n = rng.choice([1, rng.randint(2, 50), rng.randint(50, 500), rng.randint(500, 3000)])
        return self.pool.slice(rng.randint(0, POOL_ROWS - n), n)

    def event_id(self) -> str:
        return f"soak-{next(self._ids)}"


def _rows(client: httpx.Client, body: bytes, ctype: str, gz: bool, path: str = ROWS_PATH) -> httpx.Response:
    headers = {"content-type": ctype}
    if gz:
        body = gzip.compress(body, compresslevel=1)
        headers["content-encoding"] = "gzip"
    return client.post(path, content=body, headers=headers)


def _accepted(reply: httpx.Response) -> int:
    return int(reply.json()["accepted"]) if reply.status_code == 202 else 0


def _joined(replies: list[httpx.Response]) -> int:
    return sum(int(r.json()["joined"]) for r in replies if r.status_code == 202)


# ---- well-formed --------------------------------------------------------------------------------------------


def rows_json(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    reply = _rows(client, orjson.dumps(p.table(rng).to_pylist()), "application/json", rng.random() < 0.3)
    return [reply], _accepted(reply)


def rows_ndjson(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    body = b"\n".join(orjson.dumps(r) for r in p.table(rng).to_pylist())
    reply = _rows(client, body, "application/x-ndjson", rng.random() < 0.3)
    return [reply], _accepted(reply)


def rows_arrow(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    table = p.table(rng)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    reply = _rows(client, sink.getvalue().to_pybytes(), ARROW, rng.random() < 0.3)
    return [reply], _accepted(reply)


def _instances(p: Payloads, rng: random.Random) -> list[dict]:
    start = rng.randint(0, POOL_ROWS - 8)
    return p.rows[start : start + rng.randint(1, 8)]


def _binary(client: httpx.Client, event_id: str, kind: str, data: dict, extra: dict[str, str]) -> httpx.Response:
    headers = {
        "ce-id": event_id,
        "ce-type": kind,
        "ce-source": "soak/triage",
        "ce-specversion": "1.0",
        "content-type": "application/json",
        **extra,
    }
    return client.post(CE_PATH, content=orjson.dumps(data), headers=headers)


def kserve_v1(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    """KServe's logger in binary mode: V1 instances, then the predictions."""
    rows = _instances(p, rng)
    instances = [{k: v for k, v in r.items() if k != "predicted_urgency"} for r in rows]
    eid, route = p.event_id(), {"ce-inferenceservicename": KSERVE_SERVICE}
    replies = [_binary(client, eid, KSERVE[0], {"instances": instances}, route)]
    replies.append(_binary(client, eid, KSERVE[1], {"predictions": [r["predicted_urgency"] for r in rows]}, route))
    return replies, _joined(replies)


def _tensor(name: str, values: list, datatype: str) -> dict:
    return {"name": name, "shape": [len(values)], "datatype": datatype, "data": values}


def kserve_v2_structured(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    """KServe in structured mode with Open Inference Protocol V2 tensors, one per column."""
    rows = _instances(p, rng)
    inputs = [_tensor(c, [r[c] if r[c] is not None else 0.0 for r in rows], "FP64") for c in MLSERVER_INPUTS]
    inputs.append(_tensor("channel", [r["channel"] for r in rows], "BYTES"))
    outputs = [_tensor("urgency", [r["predicted_urgency"] for r in rows], "BYTES")]
    eid = p.event_id()
    replies = []
    for kind, data in ((KSERVE[0], {"inputs": inputs}), (KSERVE[1], {"outputs": outputs})):
        event = {
            "specversion": "1.0",
            "id": eid,
            "type": kind,
            "source": "soak/triage",
            "inferenceservicename": KSERVE_SERVICE,
            "datacontenttype": "application/json",
            "data": data,
        }
        headers = {"content-type": "application/cloudevents+json"}
        replies.append(client.post(CE_PATH, content=orjson.dumps(event), headers=headers))
    return replies, _joined(replies)


def mlserver_v2(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    """MLServer's logger (specversion 0.3, routed by ce-modelid): one [n, 5] tensor named by input_columns."""
    rows = _instances(p, rng)
    data = [[r[c] if r[c] is not None else 0.0 for c in MLSERVER_INPUTS] for r in rows]
    request = {"inputs": [{"name": "predict", "shape": [len(rows), 5], "datatype": "FP64", "data": data}]}
    urgency = [[r["predicted_urgency"]] for r in rows]
    response = {"outputs": [{"name": "predict", "shape": [len(rows), 1], "datatype": "BYTES", "data": urgency}]}
    rid = p.event_id()
    replies = []
    for kind, body in ((SELDON[0], request), (SELDON[1], response)):
        headers = {
            "ce-specversion": "0.3",
            "ce-source": "io.seldon.serving.deployment.mlserver.triage",
            "ce-type": kind,
            "ce-modelid": MLSERVER_MODEL,
            "ce-id": f"{rid}-{kind[-8:]}",
            "ce-requestid": rid,
            "content-type": "application/json",
        }
        replies.append(client.post(CE_PATH, content=orjson.dumps(body), headers=headers))
    return replies, _joined(replies)


# ---- malformed ----------------------------------------------------------------------------------------------


def _one(make: Callable[[Payloads, random.Random], tuple[bytes, str]], path: str = ROWS_PATH) -> Send:
    def send(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
        body, ctype = make(p, rng)
        reply = client.post(path, content=body, headers={"content-type": ctype})
        return [reply], _accepted(reply)

    return send


def _bad_json(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return orjson.dumps(p.rows[:3])[: rng.randint(5, 60)], "application/json"


def _deep(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    depth = rng.randint(40, 2000)
    return b'[{"patient_age": ' + b"[" * depth + b"]" * depth + b"}]", "application/json"


def _huge_string(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return orjson.dumps([{"patient_age": 40, "symptoms": p.huge_string}]), "application/json"


def _wrong_types(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    rows = [{"patient_age": "forty", "heart_rate": True, "channel": 7, "pain_score": [1]}, {"patient_age": 41}]
    return orjson.dumps(rows), "application/json"


def _nan(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return b'[{"patient_age": NaN, "heart_rate": Infinity, "temperature_c": -Infinity}]', "application/json"


def _missing_columns(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return orjson.dumps([{"patient_age": 50.0}, {"channel": "web"}]), "application/json"


def _no_feature_columns(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return orjson.dumps([{"full_name": "Jane Roe", "bed": 4}]), "application/json"


def _oversized(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return p.oversized, "application/json"


def _text_plain(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return b"patient_age=41", "text/plain"


def _bad_arrow(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return rng.randbytes(rng.randint(1, 400)), ARROW


def _ce_no_attributes(p: Payloads, rng: random.Random) -> tuple[bytes, str]:
    return orjson.dumps({"instances": [{"patient_age": 40}]}), "application/json"


def unknown_monitor(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    reply = _rows(client, orjson.dumps(p.rows[:2]), "application/json", False, "/v1/monitors/no-such-monitor/rows")
    return [reply], 0


def bad_gzip(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    return [client.post(ROWS_PATH, content=b"\x1f\x8b\x08\x00garbage", headers=headers)], 0


def unknown_encoding(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    headers = {"content-type": "application/json", "content-encoding": "br"}
    return [client.post(ROWS_PATH, content=orjson.dumps(p.rows[:2]), headers=headers)], 0


def ce_unrouted(client: httpx.Client, p: Payloads, rng: random.Random) -> tuple[list[httpx.Response], int]:
    data = {"instances": p.rows[:1]}
    return [_binary(client, p.event_id(), KSERVE[0], data, {"ce-inferenceservicename": "unknown-model"})], 0


KINDS = [
    Kind("rows json", True, 12, 202, rows_json),
    Kind("rows ndjson", True, 10, 202, rows_ndjson),
    Kind("rows arrow", True, 12, 202, rows_arrow),
    Kind("kserve v1 binary", True, 12, 202, kserve_v1),
    Kind("kserve v2 structured", True, 8, 202, kserve_v2_structured),
    Kind("mlserver v2 (0.3)", True, 8, 202, mlserver_v2),
    Kind("bad json", False, 3, 400, _one(_bad_json), "triage/payload"),
    Kind("deep nesting", False, 3, 422, _one(_deep), "triage/max_depth"),
    Kind("huge string", False, 2, 422, _one(_huge_string), "triage/max_string_bytes"),
    Kind("wrong types", False, 3, 202, _one(_wrong_types)),
    Kind("NaN / Infinity", False, 3, 202, _one(_nan)),
    Kind("missing columns", False, 3, 202, _one(_missing_columns)),
    Kind("no feature columns", False, 2, 422, _one(_no_feature_columns), "triage/no_feature_columns"),
    Kind("unknown monitor", False, 2, 404, unknown_monitor),  # no monitor to count it under
    Kind("oversized body", False, 1, 413, _one(_oversized), "triage/max_body_bytes"),
    Kind("text/plain", False, 2, 415, _one(_text_plain), "triage/payload"),
    Kind("encoding br", False, 1, 415, unknown_encoding, "triage/payload"),
    Kind("bad gzip", False, 2, 400, bad_gzip, "triage/payload"),
    Kind("bad arrow", False, 2, 400, _one(_bad_arrow), "triage/payload"),
    Kind("cloudevent no attributes", False, 2, 400, _one(_ce_no_attributes, CE_PATH), "-/malformed"),
    Kind("cloudevent unrouted", False, 2, 404, ce_unrouted, "-/unrouted"),
]
