"""Inference-logger CloudEvents (KServe, MLServer / Seldon Core): parse, route, turn into rows, join halves."""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

import orjson
import pyarrow as pa

from driftwatch.config import LIMIT_NAMES, CloudEventRoute, IngestLimits
from driftwatch.ingest.inference import BODY_KEYS, decode_inference
from driftwatch.ingest.jsontext import json_problem
from driftwatch.ingest.limits import Reserve, check_json, no_reserve
from driftwatch.ingest.payloads import PayloadError, RowError, describe, media_type

EventKind = Literal["request", "response"]
REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
SELDON_REQUEST_TYPE = "io.seldon.serving.inference.request"
SELDON_RESPONSE_TYPE = "io.seldon.serving.inference.response"
_KINDS: dict[str, EventKind] = {
    REQUEST_TYPE: "request",
    RESPONSE_TYPE: "response",
    SELDON_REQUEST_TYPE: "request",
    SELDON_RESPONSE_TYPE: "response",
}
STRUCTURED_TYPE = "application/cloudevents+json"
# MLServer and Seldon Core send 0.3; KServe sends 1.0. Both carry the same attributes here.
SPECVERSIONS = ("1.0", "0.3")
_REQUIRED = ("source", "specversion", "type")
_EXTENSIONS = {
    "inferenceservicename": "inference_service",
    "endpoint": "endpoint",
    "namespace": "namespace",
    "component": "component",
    "modelid": "model",
    "requestid": "request_id",
}
# Why an event was refused: the `reason` label of driftwatch_requests_rejected_total.
REJECT_REASONS = ("malformed", "unrouted", "unsupported_type", "unmapped", *LIMIT_NAMES)


class EventError(PayloadError):
    """A CloudEvent that cannot be accepted, with the reason it is counted under."""

    def __init__(self, message: str, status: int = 400, reason: str = "malformed"):
        if reason not in REJECT_REASONS:
            raise ValueError(f"reason must be one of {REJECT_REASONS}, got {reason!r}")
        self.reason = reason
        super().__init__(message, status)


def reject_reason(exc: PayloadError) -> str:
    """The rejection reason of an error raised while reading an event: its own, the limit it exceeds, or 'malformed'."""
    if isinstance(exc, EventError):
        return exc.reason
    return exc.limit if exc.limit in LIMIT_NAMES else "malformed"


@dataclass(frozen=True)
class CloudEvent:
    """One CloudEvents 0.3/1.0 event with the logger's extensions; `data` is the parsed JSON body or None."""

    id: str
    type: str
    source: str
    specversion: str
    inference_service: str | None
    endpoint: str | None
    data: Any
    namespace: str | None = None
    component: str | None = None
    model: str | None = None
    request_id: str | None = None

    @property
    def kind(self) -> EventKind:
        """'request' or 'response', from the KServe or Seldon event type."""
        kind = _KINDS.get(self.type)
        if kind is None:
            valid = ", ".join(_KINDS)
            raise EventError(f"unsupported CloudEvent type '{self.type}' (valid: {valid})", reason="unsupported_type")
        return kind

    @property
    def join_id(self) -> str:
        """The id a request and its response share: Seldon's `requestid` (its `id` differs per event), else `id`."""
        return self.request_id or self.id

    @property
    def join_key(self) -> str:
        """The join id qualified by where the event came from: ids may collide across services and models."""
        parts = (self.inference_service, self.endpoint, self.model, self.join_id)
        return "\x1f".join(p or "" for p in parts)

    def describe_origin(self) -> str:
        """The routing attributes of the event, for messages ('not set' for absent ones)."""
        shown = {"inferenceservicename": self.inference_service, "endpoint": self.endpoint, "modelid": self.model}
        return ", ".join(f"{k} '{v}'" if v is not None else f"{k} not set" for k, v in shown.items())


def parse_cloudevent(
    headers: Mapping[str, str], body: bytes, limits: IngestLimits | None = None, reserve: Reserve = no_reserve
) -> CloudEvent:
    """An event in binary mode (ce-* headers, body is data) or structured mode (application/cloudevents+json).

    JSON is checked against `limits` (nesting, string length) before it is parsed, and `reserve(n)` told the memory
    parsing it will take (see driftwatch.ingest.limits.read_rows).
    """
    limits = limits or _DEFAULT_LIMITS
    lowered = {k.lower(): v for k, v in headers.items()}
    mime, _ = media_type(lowered.get("content-type"))
    if mime == STRUCTURED_TYPE:
        return _structured(body, limits, reserve)
    if mime == "application/cloudevents-batch+json":
        raise PayloadError("batched CloudEvents are not supported; send one event per request", 415)
    attributes = {k[3:]: unquote(v) for k, v in lowered.items() if k.startswith("ce-")}
    if not attributes:
        raise PayloadError(f"not a CloudEvent: no ce-* headers and Content-Type is not {STRUCTURED_TYPE}")
    data = _json_data(body, lowered.get("content-type"), limits, reserve) if body.strip() else None
    return _event(attributes, data)


_DEFAULT_LIMITS = IngestLimits()


def _structured(body: bytes, limits: IngestLimits, reserve: Reserve) -> CloudEvent:
    reserve(check_json(body, limits).parse_bytes)
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"CloudEvent: {json_problem(exc, body)}") from exc
    if not isinstance(envelope, dict):
        raise PayloadError(f"a structured CloudEvent must be a JSON object, got {describe(envelope)}")
    if "data" in envelope and "data_base64" in envelope:
        raise PayloadError("a CloudEvent may hold 'data' or 'data_base64', not both")
    content_type = envelope.get("datacontenttype")
    if content_type is not None and not isinstance(content_type, str):
        raise PayloadError(f"CloudEvent attribute 'datacontenttype' must be a string, got {describe(content_type)}")
    data: Any = None
    encoding = envelope.get("datacontentencoding")  # CloudEvents 0.3's way to carry binary data
    if envelope.get("data_base64") is not None:
        data = _base64_json(envelope["data_base64"], "data_base64", content_type, limits, reserve)
    elif encoding is not None:
        if not isinstance(encoding, str) or encoding.lower() != "base64":
            raise PayloadError(f"unsupported CloudEvent datacontentencoding {encoding!r} (valid: base64)", 415)
        data = _base64_json(envelope.get("data"), "data", content_type, limits, reserve)
    elif "data" in envelope:
        _require_json(content_type)
        data = envelope["data"]
    return _event(envelope, data)


def _event(attributes: Mapping[str, Any], data: Any) -> CloudEvent:
    values: dict[str, str | None] = {}
    for name in ("id", *_REQUIRED, *_EXTENSIONS):
        value = attributes.get(name)
        if value is not None and not isinstance(value, str):
            raise PayloadError(f"CloudEvent attribute '{name}' must be a string, got {describe(value)}")
        values[name] = value or None
    # Seldon's events name the inference by `requestid`; either one identifies it.
    for name in ("id" if values["requestid"] is None else None, *_REQUIRED):
        if name is not None and values[name] is None:
            raise PayloadError(f"CloudEvent is missing the required attribute '{name}'")
    if values["specversion"] not in SPECVERSIONS:
        valid = " or ".join(SPECVERSIONS)
        raise PayloadError(f"unsupported CloudEvents specversion '{values['specversion']}' (expected {valid})")
    return CloudEvent(
        id=str(values["id"] or values["requestid"]),
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


def _json_data(raw: bytes, content_type: str | None, limits: IngestLimits, reserve: Reserve) -> Any:
    _require_json(content_type)
    reserve(check_json(raw, limits).parse_bytes)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"CloudEvent data: {json_problem(exc, raw)}") from exc


def _base64_json(encoded: Any, attribute: str, content_type: str | None, limits: IngestLimits, reserve: Reserve) -> Any:
    if not isinstance(encoded, str):
        raise PayloadError(f"CloudEvent '{attribute}' must be a base64 string, got {describe(encoded)}")
    reserve(len(encoded))  # the bytes it decodes to, and the scan of them
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise PayloadError(f"CloudEvent '{attribute}' is not valid base64: {exc}") from exc
    return _json_data(raw, content_type, limits, reserve)


def find_route(routes: Sequence[CloudEventRoute], event: CloudEvent) -> int:
    """Index of the first route whose selectors (inference_service, endpoint, model) that are set all match."""
    for i, route in enumerate(routes):
        pairs = (
            (route.inference_service, event.inference_service),
            (route.endpoint, event.endpoint),
            (route.model, event.model),
        )
        if all(wanted is None or wanted == got for wanted, got in pairs):
            return i
    known = "; ".join(describe_route(r) for r in routes) or "none configured"
    raise EventError(
        f"no ingest.cloudevents route matches this event ({event.describe_origin()}); routes: {known}",
        404,
        "unrouted",
    )


def describe_route(route: CloudEventRoute) -> str:
    """A route's selectors as text, e.g. "inference_service 'triage-model', endpoint any"."""
    parts = []
    if route.inference_service is not None:
        parts.append(f"inference_service '{route.inference_service}'")
    if route.model is not None:
        parts.append(f"model '{route.model}'")
    parts.append(f"endpoint '{route.endpoint}'" if route.endpoint is not None else "endpoint any")
    return ", ".join(parts)


@dataclass(frozen=True)
class EventRows:
    """The rows of one event half, the notes on its values and its columns that are not features."""

    table: pa.Table
    errors: tuple[RowError, ...]
    ignored_columns: tuple[str, ...]


def event_rows(
    event: CloudEvent,
    route: CloudEventRoute,
    where: str,
    prediction_columns: Sequence[str],
    features: Collection[str],
) -> EventRows:
    """The event's rows named as the monitor expects; 422 for inputs or outputs the route cannot name."""
    kind = event.kind
    features = set(features)
    if kind == "request":
        decoded = decode_inference(event.data, kind, route.input_columns, keep=features)
        table = decoded.table
        if decoded.positional:
            raise EventError(
                f"{where} has no input_columns, but the request's '{decoded.key}' hold {len(decoded.positional)}"
                " values per row without names; list their names, in order, in the route's input_columns",
                422,
                "unmapped",
            )
        if table.num_rows and not features.intersection(table.column_names):
            raise EventError(
                f"none of the request's columns ({_shown(table.column_names)}) is a feature of monitor"
                f" '{route.monitor}'; name the model's inputs with input_columns on {where}",
                422,
                "unmapped",
            )
    else:
        decoded = decode_inference(event.data, kind, route.output_columns)
        table = decoded.table
        if not route.output_columns and len(prediction_columns) == 1 and table.num_columns:
            table = _as_prediction(table, prediction_columns[0], route.monitor, where)
    ignored = tuple(name for name in table.column_names if name not in features)
    return EventRows(table, decoded.errors, ignored)


def _as_prediction(table: pa.Table, column: str, monitor: str, where: str) -> pa.Table:
    """A single-output model's output is the monitor's one prediction column, whatever the model calls it."""
    names = table.column_names
    if column in names:
        return table
    if len(names) == 1:
        return table.rename_columns([column])
    raise EventError(
        f"the response has {len(names)} output columns ({_shown(names)}) and none is '{column}', the prediction"
        f" column of monitor '{monitor}'; map the outputs, in order, with output_columns on {where}",
        422,
        "unmapped",
    )


def _shown(names: Sequence[str], limit: int = 10) -> str:
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


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
        if kind not in BODY_KEYS:
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
