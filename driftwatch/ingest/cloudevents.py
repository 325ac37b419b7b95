"""KServe inference-logger CloudEvents: parse them, turn V1/V2 bodies into tables, join requests with responses."""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

import orjson
import pyarrow as pa

from driftwatch.ingest.payloads import PayloadError, describe, json_column, media_type, objects_to_table

EventKind = Literal["request", "response"]
REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
_KINDS: dict[str, EventKind] = {REQUEST_TYPE: "request", RESPONSE_TYPE: "response"}
STRUCTURED_TYPE = "application/cloudevents+json"
_REQUIRED = ("id", "source", "specversion", "type")
_EXTENSIONS = {
    "inferenceservicename": "inference_service",
    "endpoint": "endpoint",
    "namespace": "namespace",
    "component": "component",
}
_ARROW_TYPES: dict[str, pa.DataType] = {
    "BOOL": pa.bool_(),
    "INT8": pa.int8(),
    "INT16": pa.int16(),
    "INT32": pa.int32(),
    "INT64": pa.int64(),
    "UINT8": pa.uint8(),
    "UINT16": pa.uint16(),
    "UINT32": pa.uint32(),
    "UINT64": pa.uint64(),
    "FP16": pa.float16(),
    "FP32": pa.float32(),
    "FP64": pa.float64(),
    "BYTES": pa.string(),
}
_BODY_KEYS: dict[str, tuple[str, str]] = {"request": ("instances", "inputs"), "response": ("predictions", "outputs")}
_SHAPE_HINT = "expected 'instances' or 'inputs' (request) / 'predictions' or 'outputs' (response)"


@dataclass(frozen=True)
class CloudEvent:
    """One CloudEvents 1.0 event with the KServe logger's extensions; `data` is the parsed JSON body or None."""

    id: str
    type: str
    source: str
    specversion: str
    inference_service: str | None
    endpoint: str | None
    data: Any
    namespace: str | None = None
    component: str | None = None

    @property
    def kind(self) -> EventKind:
        """'request' or 'response', from the KServe event type."""
        kind = _KINDS.get(self.type)
        if kind is None:
            raise PayloadError(f"unsupported CloudEvent type '{self.type}' (valid: {REQUEST_TYPE}, {RESPONSE_TYPE})")
        return kind


def parse_cloudevent(headers: Mapping[str, str], body: bytes) -> CloudEvent:
    """An event in binary mode (ce-* headers, body is data) or structured mode (application/cloudevents+json)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    mime, _ = media_type(lowered.get("content-type"))
    if mime == STRUCTURED_TYPE:
        return _structured(body)
    if mime == "application/cloudevents-batch+json":
        raise PayloadError("batched CloudEvents are not supported; send one event per request", 415)
    attributes = {k[3:]: unquote(v) for k, v in lowered.items() if k.startswith("ce-")}
    if not attributes:
        raise PayloadError(f"not a CloudEvent: no ce-* headers and Content-Type is not {STRUCTURED_TYPE}")
    data = _json_data(body, lowered.get("content-type")) if body.strip() else None
    return _event(attributes, data)


def _structured(body: bytes) -> CloudEvent:
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"malformed CloudEvent JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise PayloadError(f"a structured CloudEvent must be a JSON object, got {describe(envelope)}")
    if "data" in envelope and "data_base64" in envelope:
        raise PayloadError("a CloudEvent may hold 'data' or 'data_base64', not both")
    content_type = envelope.get("datacontenttype")
    if content_type is not None and not isinstance(content_type, str):
        raise PayloadError(f"CloudEvent attribute 'datacontenttype' must be a string, got {describe(content_type)}")
    data: Any = None
    if envelope.get("data_base64") is not None:
        try:
            raw = base64.b64decode(envelope["data_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise PayloadError(f"CloudEvent 'data_base64' is not valid base64: {exc}") from exc
        data = _json_data(raw, content_type)
    elif "data" in envelope:
        _require_json(content_type)
        data = envelope["data"]
    return _event(envelope, data)


def _event(attributes: Mapping[str, Any], data: Any) -> CloudEvent:
    values: dict[str, str | None] = {}
    for name in (*_REQUIRED, *_EXTENSIONS):
        value = attributes.get(name)
        if value is not None and not isinstance(value, str):
            raise PayloadError(f"CloudEvent attribute '{name}' must be a string, got {describe(value)}")
        values[name] = value or None
    for name in _REQUIRED:
        if values[name] is None:
            raise PayloadError(f"CloudEvent is missing the required attribute '{name}'")
    if values["specversion"] != "1.0":
        raise PayloadError(f"unsupported CloudEvents specversion '{values['specversion']}' (expected 1.0)")
    return CloudEvent(
        id=str(values["id"]),
        type=str(values["type"]),
        source=str(values["source"]),
        specversion=str(values["specversion"]),
        data=data,
        **{field: values[name] for name, field in _EXTENSIONS.items()},
    )


def _require_json(content_type: str | None) -> None:
    mime, _ = media_type(content_type)
    if mime and mime != "application/json" and not mime.endswith("+json"):
        raise PayloadError(f"CloudEvent data must be JSON, got '{content_type}'", 415)


def _json_data(raw: bytes, content_type: str | None) -> Any:
    _require_json(content_type)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"CloudEvent data is not valid JSON: {exc}") from exc


def inference_table(data: Any, kind: str, columns: Sequence[str]) -> pa.Table:
    """Rows of a KServe V1 (instances/predictions) or Open Inference Protocol V2 (inputs/outputs) body."""
    if kind not in _BODY_KEYS:
        raise ValueError(f"kind must be 'request' or 'response', got {kind!r}")
    v1_key, v2_key = _BODY_KEYS[kind]
    if isinstance(data, dict) and v1_key in data:
        return _v1_table(data[v1_key], v1_key, kind, list(columns))
    if isinstance(data, dict) and v2_key in data:
        return _v2_table(data[v2_key], v2_key, list(columns))
    got = f"keys {', '.join(sorted(data))}" if isinstance(data, dict) else describe(data)
    raise PayloadError(f"{_SHAPE_HINT}; got {got}")


def _v1_table(items: Any, key: str, kind: str, columns: list[str]) -> pa.Table:
    if not isinstance(items, list):
        raise PayloadError(f"'{key}' must be an array, got {describe(items)}")
    if not items:
        return pa.table({})
    shapes = [_item_shape(item) for item in items]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise PayloadError(f"{key}[{i}] is {describe(items[i])} but {key}[0] is {describe(items[0])}")
    if shapes[0] == "object":
        table, _ = objects_to_table(items, range(len(items)))
        return table
    if shapes[0] == "scalar":
        default = "prediction" if kind == "response" else "input_0"
        names = _positional_names(columns, 1, key, lambda _: default)
        return pa.Table.from_arrays([json_column(items)], names=names)
    width = len(items[0])
    for i, item in enumerate(items):
        if len(item) != width:
            raise PayloadError(f"{key}[{i}] has {len(item)} values but {key}[0] has {width}")
    prefix = "output" if kind == "response" else "input"
    names = _positional_names(columns, width, key, lambda j: f"{prefix}_{j}")
    arrays = [json_column(list(values)) for values in zip(*items, strict=True)]
    return pa.Table.from_arrays(arrays, names=names)


def _item_shape(item: Any) -> str:
    if isinstance(item, dict):
        return "object"
    return "array" if isinstance(item, list) else "scalar"


def _positional_names(columns: list[str], width: int, key: str, default: Callable[[int], str]) -> list[str]:
    if not columns:
        return [default(j) for j in range(width)]
    if len(columns) != width:
        raise PayloadError(f"{len(columns)} column names are configured but '{key}' has {width} positional columns")
    _no_duplicates(columns, key)
    return columns


def _no_duplicates(names: list[str], key: str) -> None:
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise PayloadError(f"'{key}' would give several columns the name {', '.join(duplicates)}")


@dataclass(frozen=True)
class _Tensor:
    name: str
    rows: int
    width: int
    values: pa.Array


def _v2_table(tensors: Any, key: str, columns: list[str]) -> pa.Table:
    if not isinstance(tensors, list):
        raise PayloadError(f"'{key}' must be an array of tensors, got {describe(tensors)}")
    parsed = [_tensor(t, f"{key}[{i}]") for i, t in enumerate(tensors)]
    if not parsed:
        return pa.table({})
    for tensor in parsed[1:]:
        if tensor.rows != parsed[0].rows:
            raise PayloadError(
                f"tensor '{tensor.name}' has {tensor.rows} rows but tensor '{parsed[0].name}' has {parsed[0].rows}"
            )
    wide = sum(t.width for t in parsed if t.width > 1)
    total = sum(t.width for t in parsed)
    if columns and len(columns) not in (wide, total):
        raise PayloadError(
            f"{len(columns)} column names are configured but the tensors in '{key}' have {wide} positional columns"
            f" and {total} columns in all (name either the positional ones, or every column in order)"
        )
    # Names for every column rename single-column tensors too (e.g. output 'urgency' -> 'predicted_urgency').
    rename_all = bool(columns) and len(columns) == total
    names: list[str] = []
    arrays: list[pa.Array] = []
    positional = iter(columns)
    for tensor in parsed:
        if tensor.width == 1:
            names.append(next(positional) if rename_all else tensor.name)
            arrays.append(tensor.values)
            continue
        for j in range(tensor.width):
            names.append(next(positional) if columns else f"{tensor.name}_{j}")
            arrays.append(tensor.values.take(pa.array(range(j, tensor.rows * tensor.width, tensor.width))))
    _no_duplicates(names, key)
    return pa.Table.from_arrays(arrays, names=names)


def _tensor(spec: Any, where: str) -> _Tensor:
    if not isinstance(spec, dict):
        raise PayloadError(f"{where} must be a tensor object, got {describe(spec)}")
    for field in ("name", "shape", "datatype", "data"):
        if field not in spec:
            raise PayloadError(f"{where} is missing '{field}'")
    name, shape, datatype, data = spec["name"], spec["shape"], spec["datatype"], spec["data"]
    if not isinstance(name, str) or not name:
        raise PayloadError(f"{where}.name must be a non-empty string")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise PayloadError(f"tensor '{name}': shape must be an array of non-negative integers, got {shape!r}")
    arrow_type = _ARROW_TYPES.get(datatype) if isinstance(datatype, str) else None
    if arrow_type is None:
        raise PayloadError(f"tensor '{name}': unsupported datatype {datatype!r} (valid: {', '.join(_ARROW_TYPES)})")
    if not isinstance(data, list):
        raise PayloadError(f"tensor '{name}': data must be an array, got {describe(data)}")
    expected = math.prod(shape)
    if datatype == "BYTES" and len(data) == expected:
        flat = [" ".join(v) if isinstance(v, list) and all(isinstance(s, str) for s in v) else v for v in data]
    else:
        flat = _flatten(data)
    if len(flat) != expected:
        raise PayloadError(f"tensor '{name}': shape {shape} needs {expected} values but data holds {len(flat)}")
    rows = shape[0] if shape else 1
    width = math.prod(shape[1:]) if shape else 1
    return _Tensor(name, rows, width, _typed(flat, arrow_type, name, datatype))


def _flatten(data: list[Any]) -> list[Any]:
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    for v in data:
        flat.extend(_flatten(v) if isinstance(v, list) else [v])
    return flat


def _typed(values: list[Any], arrow_type: pa.DataType, name: str, datatype: str) -> pa.Array:
    if datatype == "BYTES":
        for i, v in enumerate(values):
            if v is not None and not isinstance(v, str):
                raise PayloadError(f"tensor '{name}': BYTES element {i} is {describe(v)}, expected a string")
        return pa.array(values, pa.string())
    if any(isinstance(v, str | list | dict) for v in values):
        bad = next(v for v in values if isinstance(v, str | list | dict))
        raise PayloadError(f"tensor '{name}': {datatype} data holds {describe(bad)}")
    try:
        # Infer, then cast safely: a direct pa.array(type=int64) would silently truncate 1.5 to 1.
        return pa.array(values).cast(arrow_type)
    except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
        raise PayloadError(f"tensor '{name}': data does not fit {datatype}: {exc}") from exc


@dataclass(frozen=True)
class JoinStats:
    """What an EventJoiner has done so far; evicted entries also count as expired requests or dropped responses."""

    joined: int
    expired_requests: int
    dropped_responses: int
    mismatched: int
    pending: int
    evicted: int
    duplicates: int


@dataclass
class _Pending:
    kind: str
    table: pa.Table
    since: float


class EventJoiner:
    """Pairs request and response events by key so predictions sit beside the inputs that produced them."""

    def __init__(self, timeout: float, max_pending: int, clock: Callable[[], float] = time.monotonic):
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self._timeout = timeout
        self._max_pending = max_pending
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._ready: list[pa.Table] = []
        self._counts = dict.fromkeys(("joined", "expired_requests", "dropped_responses", "mismatched"), 0)
        self._counts.update(evicted=0, duplicates=0)

    def add(self, key: str, kind: str, table: pa.Table) -> pa.Table | None:
        """The joined table when the other half of `key` is pending; otherwise None, and this half waits."""
        if kind not in _BODY_KEYS:
            raise ValueError(f"kind must be 'request' or 'response', got {kind!r}")
        with self._lock:
            other = self._pending.get(key)
            if other is not None and other.kind == kind:
                # A redelivered event: the first copy is already waiting.
                self._counts["duplicates"] += 1
                return None
            if other is not None:
                del self._pending[key]
                request, response = (table, other.table) if kind == "request" else (other.table, table)
                return self._join(request, response)
            self._pending[key] = _Pending(kind, table, self._clock())
            while len(self._pending) > self._max_pending:
                _, oldest = self._pending.popitem(last=False)
                self._counts["evicted"] += 1
                self._release(oldest)
            return None

    def expire(self) -> list[pa.Table]:
        """Requests that waited past the timeout (alone) and any evicted ones; stale responses are dropped."""
        with self._lock:
            now = self._clock()
            while self._pending:
                key, oldest = next(iter(self._pending.items()))
                if now - oldest.since <= self._timeout:
                    break
                del self._pending[key]
                self._release(oldest)
            ready, self._ready = self._ready, []
            return ready

    def drain(self) -> list[pa.Table]:
        """Every pending request (alone), whatever its age, at shutdown; pending responses are dropped."""
        with self._lock:
            while self._pending:
                _, entry = self._pending.popitem(last=False)
                self._release(entry)
            ready, self._ready = self._ready, []
            return ready

    @property
    def stats(self) -> JoinStats:
        """A snapshot of the counters."""
        with self._lock:
            return JoinStats(pending=len(self._pending), **self._counts)

    def _release(self, entry: _Pending) -> None:
        if entry.kind == "request":
            self._counts["expired_requests"] += 1
            self._ready.append(entry.table)
        else:
            self._counts["dropped_responses"] += 1

    def _join(self, request: pa.Table, response: pa.Table) -> pa.Table:
        if request.num_rows != response.num_rows:
            self._counts["mismatched"] += 1
            return request
        self._counts["joined"] += 1
        names = list(request.column_names)
        for name in response.column_names:
            # A response column named like an input must not shadow it.
            while name in names:
                name = f"{name}_response"
            names.append(name)
        return pa.Table.from_arrays([*request.columns, *response.columns], names=names)
