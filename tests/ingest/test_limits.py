"""Input limits: the pre-parse JSON scan agrees with a byte-by-byte reading, and every limit refuses by name."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwatch.config import IngestLimits
from driftwatch.ingest import limits as limits_module
from driftwatch.ingest.limits import check_arrow, check_json, read_rows
from driftwatch.ingest.payloads import PayloadError

ARROW = "application/vnd.apache.arrow.stream"


def _reference(data: bytes) -> tuple[int, int]:
    """Deepest bracket nesting and longest string (bytes as sent), reading one byte at a time."""
    depth = deepest = longest = 0
    in_string = escaped = False
    start = 0
    for i, byte in enumerate(data):
        if in_string:
            if escaped:
                escaped = False
            elif byte == ord("\\"):
                escaped = True
            elif byte == ord('"'):
                in_string = False
                longest = max(longest, i - start - 1)
        elif byte == ord('"'):
            in_string, start = True, i
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest, longest


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}é\n', max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='k"\\[{', max_size=3), inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_json, st.sampled_from([1, 2, 3, 7, 1 << 20]), st.booleans())
def test_scan_matches_a_byte_by_byte_reading(value: object, chunk: int, ascii_only: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    deepest, longest = _reference(data)
    original = limits_module._CHUNK
    limits_module._CHUNK = chunk
    try:
        check_json(data, IngestLimits(max_depth=max(deepest, 2), max_string_bytes=max(longest, 16)))
        if deepest > 2:
            with pytest.raises(PayloadError, match=rf"exceeds ingest.limits.max_depth \({deepest - 1}\)"):
                check_json(data, IngestLimits(max_depth=deepest - 1, max_string_bytes=1 << 20))
        if longest > 16:
            with pytest.raises(PayloadError, match="max_string_bytes") as caught:
                check_json(data, IngestLimits(max_string_bytes=longest - 1, max_depth=512))
            assert caught.value.limit == "max_string_bytes" and caught.value.status == 422
    finally:
        limits_module._CHUNK = original


def _deep(n: int) -> bytes:
    return b'[{"channel": ' + b'{"a": ' * n + b"1" + b"}" * n + b"}]"


def test_the_deep_body_is_refused_before_parsing() -> None:
    with pytest.raises(PayloadError) as caught:
        read_rows(_deep(1000), "application/json", None, IngestLimits())
    assert caught.value.status == 422 and caught.value.limit == "max_depth"
    assert "exceeds ingest.limits.max_depth (32)" in str(caught.value)


def test_a_deep_ndjson_line_is_refused() -> None:
    line = b'{"channel": ' + b'{"a": ' * 600 + b"1" + b"}" * 600 + b"}\n"
    with pytest.raises(PayloadError, match="max_depth"):
        read_rows(line, "application/x-ndjson", None, IngestLimits())


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
def test_rows_and_columns_limits(content_type: str) -> None:
    rows = [{"a": i, "b": i} for i in range(11)]
    body = (
        json.dumps(rows).encode() if content_type == "application/json" else "\n".join(map(json.dumps, rows)).encode()
    )
    with pytest.raises(PayloadError, match=r"11 rows exceeds ingest.limits.max_rows \(10\)") as caught:
        read_rows(body, content_type, None, IngestLimits(max_rows=10))
    assert caught.value.status == 413
    with pytest.raises(PayloadError, match=r"2 columns exceeds ingest.limits.max_columns \(1\)"):
        read_rows(body, content_type, None, IngestLimits(max_columns=1))
    assert read_rows(body, content_type, None, IngestLimits(max_rows=11, max_columns=2)).table.num_rows == 11


def test_body_limits_before_and_after_gzip() -> None:
    body = json.dumps([{"a": "x" * 100} for _ in range(100)]).encode()
    small = IngestLimits(max_body_bytes=1024, max_decoded_bytes=4096)
    with pytest.raises(PayloadError, match=r"exceeds ingest.limits.max_body_bytes \(1024\)") as caught:
        read_rows(body, "application/json", None, small)
    assert caught.value.status == 413
    with pytest.raises(PayloadError, match=r"exceeds ingest.limits.max_decoded_bytes \(4096\)") as caught:
        read_rows(gzip.compress(body), "application/json", "gzip", small)
    assert caught.value.status == 413


def _ipc(table: pa.Table, **options: object) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(**options)) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_arrow_limits() -> None:
    table = pa.table({"a": list(range(100)), "b": [[[1]]] * 100})
    with pytest.raises(PayloadError, match="max_rows"):
        read_rows(_ipc(table), ARROW, None, IngestLimits(max_rows=99))
    with pytest.raises(PayloadError, match=r"column 'c' nested 3 levels deep exceeds ingest.limits.max_depth \(2\)"):
        read_rows(_ipc(table.append_column("c", pa.array([[[[1]]]] * 100))), ARROW, None, IngestLimits(max_depth=2))
    # Compressed buffers are counted as what they hold: a small stream cannot unpack past max_decoded_bytes.
    zeros = pa.table({"z": pa.array([0] * 500_000, pa.int64())})
    bomb = _ipc(zeros, compression="zstd")
    assert len(bomb) < 100_000
    with pytest.raises(PayloadError, match="max_decoded_bytes") as caught:
        read_rows(bomb, ARROW, None, IngestLimits(max_body_bytes=1 << 20, max_decoded_bytes=1 << 20))
    assert caught.value.status == 413


def test_columns_outside_keep_are_never_built() -> None:
    body = json.dumps([{"heart_rate": 80, "notes": {"a": [1, 2, {"b": "x"}]}}, {"heart_rate": 90, "notes": "y"}])
    parsed = read_rows(body.encode(), "application/json", None, IngestLimits(), keep={"heart_rate"})
    assert parsed.table.column_names == ["heart_rate", "notes"]
    assert parsed.table.column("notes").type == pa.null()
    assert parsed.table.column("heart_rate").to_pylist() == [80, 90]
    assert parsed.errors == ()  # the mixed types of 'notes' are not even looked at


def test_arrow_batches_are_measured_before_arrow_decodes_them() -> None:
    zeros = pa.table({"z": pa.array([0] * 500_000, pa.int64())})
    bomb = _ipc(zeros, compression="zstd")
    small = IngestLimits(max_body_bytes=1 << 20, max_decoded_bytes=1 << 20, max_rows=10**6)
    with pytest.raises(PayloadError, match=r"exceeds ingest.limits.max_decoded_bytes \(1048576\)"):
        check_arrow(bomb, small)  # from the metadata alone: the 4 MB column is never unpacked
    with pytest.raises(PayloadError, match=r"500000 rows exceeds ingest.limits.max_rows \(1000\)"):
        check_arrow(_ipc(zeros), IngestLimits(max_rows=1000))
    check_arrow(_ipc(zeros), IngestLimits(max_rows=500_000, max_body_bytes=1 << 20, max_decoded_bytes=8 * 500_000))
    check_arrow(b"not arrow", small)  # left for the reader to refuse as malformed
