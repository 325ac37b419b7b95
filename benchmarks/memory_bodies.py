"""The memory benchmark's worst-case bodies: for each ingest format, the shapes that cost the most memory per byte."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson
import pyarrow as pa

ROWS = "application/json"
NDJSON = "application/x-ndjson"
ARROW = "application/vnd.apache.arrow.stream"
STRUCTURED = "application/cloudevents+json"
NUMERIC = ("patient_age", "heart_rate", "temperature_c", "pain_score")
CATEGORICAL = ("arrival_mode", "channel", "insurance", "predicted_urgency")
FEATURES = NUMERIC + CATEGORICAL
# The route of positional KServe bodies (V1 lists, V2 tensors wider than one column).
POSITIONAL_SERVICE = "triage-positional"


@dataclass(frozen=True)
class Body:
    """One request: `route` is 'rows' or 'cloudevents'; `service` the ce-inferenceservicename of binary events."""

    name: str
    route: str
    content_type: str
    data: bytes
    service: str | None = "triage-model"


def _fill(prefix: bytes, item: bytes, suffix: bytes, size: int, sep: bytes = b",", most: int | None = None) -> bytes:
    n = (size - len(prefix) - len(suffix)) // (len(item) + len(sep))
    return prefix + sep.join([item] * (n if most is None else min(n, most))) + suffix


def _arrow(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _tensor(size: int, datatype: str, item: bytes, values_per_item: int, max_rows: int) -> bytes:
    """A [rows, 4] tensor of `item` repeated; rows within max_rows."""
    n = min((size - 200) // (len(item) + 1), 4 * max_rows // values_per_item)
    n -= n % 4
    head = b'{"inputs":[{"name":"x","shape":[%d,4],"datatype":"%s","data":[' % (
        n * values_per_item // 4,
        datatype.encode(),
    )
    return head + b",".join([item] * n) + b"]}]}"


def bodies(size: int, max_rows: int) -> list[Body]:
    """Every shape at `size` bytes (the decoded-size limit) and at most `max_rows` rows."""
    row = orjson.dumps(dict.fromkeys(FEATURES, 1.5))
    rows = min(max_rows, size // 2)
    out = [
        Body("json: rows of 8 numbers", "rows", ROWS, _fill(b"[", row, b"]", size, most=max_rows)),
        Body(
            "json: rows of one short string", "rows", ROWS, _fill(b"[", b'{"channel":"ab"}', b"]", size, most=max_rows)
        ),
        Body("json: rows of one null", "rows", ROWS, _fill(b"[", b'{"channel":null}', b"]", size, most=max_rows)),
        Body("json: a feature of nested []", "rows", ROWS, _fill(b'[{"channel":[', b"[]", b"]}]", size)),
        Body("json: a non-feature of nested []", "rows", ROWS, _fill(b'[{"channel":"a","x":[', b"[]", b"]}]", size)),
        Body("json: a feature of nested {}", "rows", ROWS, _fill(b'[{"channel":[', b"{}", b"]}]", size)),
        Body(
            "json: an object of distinct keys",
            "rows",
            ROWS,
            b'[{"channel":"a","x":{' + b",".join(b'"%d":0' % i for i in range(size // 12)) + b"}}]",
        ),
        Body("json: a feature of floats", "rows", ROWS, _fill(b'[{"patient_age":[', b"1.5", b"]}]", size)),
        Body(
            "json: a column of mixed types",
            "rows",
            ROWS,
            _fill(b'[{"channel":"a"},', b'{"channel":1}', b"]", size, most=max_rows - 1),
        ),
        Body("ndjson: rows of 8 numbers (Arrow reader)", "rows", NDJSON, _fill(b"", row, b"", size, b"\n", max_rows)),
        Body(
            "ndjson: one bad line (line by line)",
            "rows",
            NDJSON,
            _fill(b"[]\n", b'{"channel":"ab"}', b"", size, b"\n", max_rows - 1),
        ),
        Body("ndjson: a feature of nested []", "rows", NDJSON, _fill(b'{"channel":[', b"[]", b"]}", size)),
        Body(
            "arrow: booleans for numbers",
            "rows",
            ARROW,
            _arrow(pa.table({f: pa.array([True] * rows) for f in NUMERIC})),
        ),
        Body(
            "arrow: int8 for every feature",
            "rows",
            ARROW,
            _arrow(pa.table({f: pa.array([1] * rows, pa.int8()) for f in FEATURES})),
        ),
        Body(
            "arrow: strings for numbers",
            "rows",
            ARROW,
            _arrow(pa.table({f: pa.array(["12"] * (min(max_rows, size // 8) // 4)) for f in NUMERIC})),
        ),
        Body(
            "arrow: a dictionary of one long value",
            "rows",
            ARROW,
            _arrow(
                pa.table(
                    {
                        "channel": pa.DictionaryArray.from_arrays(
                            pa.array([0] * min(rows, 2000), pa.int16()), pa.array(["x" * (size // 4)])
                        )
                    }
                )
            ),
        ),
        Body("kserve v1: objects", "cloudevents", ROWS, _fill(b'{"instances":[', b'{"channel":"ab"}', b"]}", size)),
        Body(
            "kserve v1: a feature of nested []",
            "cloudevents",
            ROWS,
            _fill(b'{"instances":[{"channel":[', b"[]", b"]}]}", size),
        ),
        Body(
            "kserve v1: positional rows",
            "cloudevents",
            ROWS,
            _fill(b'{"instances":[', b"[1.5,1.5,1.5,1.5]", b"]}", size, most=max_rows),
            POSITIONAL_SERVICE,
        ),
        Body(
            "kserve v2: FP32 tensor",
            "cloudevents",
            ROWS,
            _tensor(size, "FP32", b"1.5", 1, max_rows),
            POSITIONAL_SERVICE,
        ),
        Body(
            "kserve v2: nested FP32 data",
            "cloudevents",
            ROWS,
            _tensor(size, "FP32", b"[1,1,1,1]", 4, max_rows),
            POSITIONAL_SERVICE,
        ),
        Body(
            "kserve v2: BYTES tensor",
            "cloudevents",
            ROWS,
            _tensor(size, "BYTES", b'["ab"]', 1, max_rows),
            POSITIONAL_SERVICE,
        ),
    ]
    envelope = {
        "specversion": "1.0",
        "id": "s1",
        "type": "org.kubeflow.serving.inference.request",
        "source": "bench",
        "inferenceservicename": "triage-model",
        "datacontenttype": "application/json",
    }
    head = orjson.dumps(envelope)[:-1] + b',"data":'
    out.append(
        Body(
            "cloudevent structured: nested []",
            "cloudevents",
            STRUCTURED,
            _fill(head + b'{"instances":[{"channel":[', b"[]", b"]}]}}", size),
            None,
        )
    )
    raw = _fill(b'{"instances":[', b'{"channel":"ab"}', b"]}", size * 3 // 4 - 400)
    encoded = orjson.dumps({**envelope, "data_base64": base64.b64encode(raw).decode()})
    out.append(Body("cloudevent structured: base64 over max_string_bytes", "cloudevents", STRUCTURED, encoded, None))
    return out


def headers(body: Body, event_id: str) -> dict[str, str]:
    """The request headers of a body; binary-mode CloudEvents get their ce-* attributes."""
    if body.route == "rows" or body.service is None:
        return {"content-type": body.content_type}
    return {
        "content-type": body.content_type,
        "ce-id": event_id,
        "ce-type": "org.kubeflow.serving.inference.request",
        "ce-source": "bench",
        "ce-specversion": "1.0",
        "ce-inferenceservicename": body.service,
    }
