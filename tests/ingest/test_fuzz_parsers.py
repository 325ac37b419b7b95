"""Property: every parser of untrusted input fails only with its own error type, whatever the bytes."""

from __future__ import annotations

import json
import tracemalloc

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftwatch.config import IngestLimits, parse_config
from driftwatch.errors import ConfigError
from driftwatch.ingest.cloudevents import parse_cloudevent
from driftwatch.ingest.inference import decode_inference
from driftwatch.ingest.limits import read_rows
from driftwatch.ingest.payloads import PayloadError

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = IngestLimits(max_body_bytes=1 << 16, max_decoded_bytes=1 << 16, max_rows=500, max_columns=50)
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=25,
)
_json_bytes = _values.map(lambda v: json.dumps(v).encode())
# Bytes that look like JSON often enough to reach past the first check.
_jsonish = st.one_of(
    _json_bytes,
    st.binary(max_size=200),
    st.text(alphabet='[]{}":,0123456789.eE-+ntrufalse\\\n', max_size=200).map(str.encode),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
)


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


_VALID_IPC = _ipc(pa.table({"a": [1.0, 2.0], "b": ["x", None], "c": pa.array([2**64 - 1, 0], pa.uint64())}))


@st.composite
def _arrow_bodies(draw: st.DrawFn) -> bytes:
    """A valid stream with some bytes overwritten or cut, or random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    body = bytearray(_VALID_IPC)
    for _ in range(draw(st.integers(0, 6))):
        body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    return bytes(body[: draw(st.integers(0, len(body)))])


@SETTINGS
@given(
    _jsonish | _arrow_bodies(),
    st.sampled_from(["application/json", "application/x-ndjson", "application/vnd.apache.arrow.stream"]),
    st.sampled_from([None, "gzip", "br"]),
    st.sampled_from([None, {"a", "b"}]),
)
def test_rows_parsers_raise_only_payload_errors(body: bytes, content_type: str, encoding, keep) -> None:
    tracemalloc.start()
    try:
        parsed = read_rows(body, content_type, encoding, LIMITS, keep)
    except PayloadError as exc:
        assert 400 <= exc.status < 500
    else:
        parsed.table.validate(full=True)
        assert parsed.table.num_rows <= LIMITS.max_rows and parsed.table.num_columns <= LIMITS.max_columns
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # Python's share of the work stays within a fixed multiple of the (at most 64 KiB) body.
    assert peak < 64 * max(len(body), 1 << 14), peak


_CE_NAMES = ["ce-id", "ce-type", "ce-source", "ce-specversion", "ce-inferenceservicename", "ce-requestid", "ce-x"]
_header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=16)


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(_CE_NAMES), _header_text | st.sampled_from(["1.0", "0.3", "%zz", "%00"])),
    st.sampled_from(["application/json", "application/cloudevents+json", "text/plain", "", "a/b+json; x=1"]),
    _jsonish | _values.map(lambda v: json.dumps({"specversion": "1.0", "data_base64": v}).encode()),
)
def test_cloudevent_parsing_raises_only_payload_errors(headers: dict, content_type: str, body: bytes) -> None:
    try:
        parse_cloudevent({**headers, "content-type": content_type}, body, LIMITS)
    except PayloadError as exc:
        assert 400 <= exc.status < 500


_tensor = st.fixed_dictionaries(
    {
        "name": st.text(max_size=4) | _scalars,
        "shape": st.lists(st.integers(-1, 6), max_size=3) | _values,
        "datatype": st.sampled_from(["FP32", "INT64", "UINT8", "BOOL", "BYTES", "FP16", "X"]) | _scalars,
        "data": st.lists(_values, max_size=8) | _values,
    }
)
_inference = st.one_of(
    st.fixed_dictionaries({"instances": st.lists(_values, max_size=6) | _values}),
    st.fixed_dictionaries({"predictions": st.lists(_values, max_size=6)}),
    st.fixed_dictionaries({"inputs": st.lists(_tensor, max_size=3) | _values}),
    st.fixed_dictionaries({"outputs": st.lists(_tensor, max_size=3)}),
    st.fixed_dictionaries({"data": st.dictionaries(st.sampled_from(["names", "ndarray", "tensor"]), _values)}),
    _values,
)


@SETTINGS
@given(_inference, st.sampled_from(["request", "response"]), st.sampled_from([[], ["x"], ["x", "y"]]))
def test_v1_and_v2_bodies_raise_only_payload_errors(data, kind: str, columns: list[str]) -> None:
    try:
        decoded = decode_inference(data, kind, columns, keep={"x", "input_0"})
    except PayloadError as exc:
        assert 400 <= exc.status < 500
    else:
        decoded.table.validate(full=True)


_VALID_CONFIG = """data_dir: /tmp/x
ingest:
  limits: {max_depth: 16, max_rows: 10}
monitors:
  - name: m
    reference: {path: ref.csv}
    schedule: {interval: 30s}
"""
_yaml_chars = st.characters(codec="utf-8", exclude_categories=("Cs",))


@st.composite
def _config_texts(draw: st.DrawFn) -> str:
    """The valid config with a stretch replaced, a value changed, or arbitrary text."""
    text = _VALID_CONFIG
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.text(_yaml_chars, max_size=200))
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 20)))
    if choice == 1:
        return text[:start] + draw(st.text(_yaml_chars, max_size=12)) + text[end:]
    value = draw(st.sampled_from(["-1", "0", "1e999", "null", "[]", "{}", "'x'", "9" * 30, "${NOPE}", "*a"]))
    return text.replace("16", value) if draw(st.booleans()) else text.replace("30s", value)


@SETTINGS
@given(_config_texts())
def test_config_parsing_raises_only_config_errors(text: str) -> None:
    try:
        config = parse_config(text, environ={})
    except ConfigError as exc:
        assert exc.problems
    else:
        assert config.ingest.limits.max_decoded_bytes >= config.ingest.limits.max_body_bytes
