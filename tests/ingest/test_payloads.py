"""Request bodies: encodings, size limits, the three content types, and row-by-row rejection."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc

import orjson
import pyarrow as pa
import pytest

from driftwatch.config import IngestLimits
from driftwatch.errors import DataError
from driftwatch.ingest.payloads import PayloadError, RowError, decode_body, parse_rows
from driftwatch.reference.values import to_numeric

JSON = "application/json"
NDJSON = "application/x-ndjson"
ARROW = "application/vnd.apache.arrow.stream"


def _ndjson(*rows: object) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in rows) + b"\n"


def _arrow_stream(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _raises(status: int, message: str, func, *args) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        func(*args)
    assert info.value.status == status
    assert str(info.value) == message
    return info.value


# decode_body


def test_identity_body_passes_through() -> None:
    assert decode_body(b"abc", None, 10) == b"abc"
    assert decode_body(b"abc", "identity", 3) == b"abc"


def test_gzip_body_is_decompressed() -> None:
    raw = _ndjson(*({"x": i} for i in range(1000)))
    assert decode_body(gzip.compress(raw), "gzip", len(raw)) == raw
    assert decode_body(gzip.compress(raw), " GZip ", len(raw)) == raw


def test_concatenated_gzip_members_are_one_body() -> None:
    assert decode_body(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip", 100) == b"abcd"


def test_raw_body_over_limit_is_413() -> None:
    _raises(413, "a body of 6 bytes exceeds ingest.limits.max_decoded_bytes (5)", decode_body, b"abcdef", None, 5)


def test_gzip_over_limit_by_one_byte_is_413() -> None:
    body = gzip.compress(b"x" * 1001)
    assert decode_body(body, "gzip", 1001) == b"x" * 1001
    _raises(
        413, "the decompressed body exceeds ingest.limits.max_decoded_bytes (1000)", decode_body, body, "gzip", 1000
    )


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """50 MB of zeros, gzip-compressed to about 50 kB, written in chunks so the test never holds 50 MB."""
    sink = io.BytesIO()
    chunk = bytes(1 << 20)
    with gzip.GzipFile(fileobj=sink, mode="wb") as f:
        for _ in range(50):
            f.write(chunk)
    return sink.getvalue()


def test_gzip_bomb_is_413_without_allocating_the_payload(gzip_bomb: bytes) -> None:
    assert len(gzip_bomb) < 100_000
    tracemalloc.start()
    try:
        error = _raises(
            413,
            "the decompressed body exceeds ingest.limits.max_decoded_bytes (1048576)",
            decode_body,
            gzip_bomb,
            "gzip",
            1 << 20,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, DataError)
    assert peak < 4 << 20


def test_unknown_encoding_is_415() -> None:
    _raises(415, "unsupported Content-Encoding 'br' (use gzip or identity)", decode_body, b"x", "br", 10)


def test_invalid_gzip_is_400() -> None:
    msg = "body is not valid gzip: Error -3 while decompressing data: incorrect header check"
    _raises(400, msg, decode_body, b"plain text", "gzip", 100)


def test_truncated_gzip_is_400() -> None:
    _raises(400, "gzip body is truncated", decode_body, gzip.compress(b"x" * 100)[:-12], "gzip", 1000)


def test_status_must_be_a_known_one() -> None:
    with pytest.raises(ValueError, match="PayloadError status must be one of"):
        PayloadError("x", 500)


# content types


def test_unsupported_content_type_is_415() -> None:
    message = (
        "unsupported Content-Type 'text/csv' (use application/json, application/x-ndjson, application/jsonl, "
        "application/vnd.apache.arrow.stream)"
    )
    _raises(415, message, parse_rows, b"a,b\n1,2\n", "text/csv")


def test_missing_content_type_is_415() -> None:
    with pytest.raises(PayloadError, match=r"unsupported Content-Type \(none\)") as info:
        parse_rows(b"[]", "")
    assert info.value.status == 415


def test_non_utf8_charset_is_415() -> None:
    msg = "unsupported charset 'latin-1' (JSON bodies must be UTF-8)"
    _raises(415, msg, parse_rows, b"[]", "application/json; charset=latin-1")


def test_content_type_parameters_and_case_are_ignored() -> None:
    parsed = parse_rows(b'[{"a": 1}]', "Application/JSON; charset=UTF-8")
    assert parsed.table.to_pylist() == [{"a": 1}]


# JSON


def test_json_array_of_objects() -> None:
    parsed = parse_rows(b'[{"age": 31, "city": "Oslo"}, {"age": 45.5, "city": "Lima", "vip": true}]', JSON)
    assert parsed.table.column_names == ["age", "city", "vip"]
    assert parsed.table.schema.field("age").type == pa.float64()
    assert parsed.table.to_pylist() == [
        {"age": 31.0, "city": "Oslo", "vip": None},
        {"age": 45.5, "city": "Lima", "vip": True},
    ]
    assert (parsed.rejected, parsed.errors) == (0, ())


def test_json_single_object_is_one_row() -> None:
    assert parse_rows(b'{"a": 1, "b": "x"}', JSON).table.to_pylist() == [{"a": 1, "b": "x"}]


def test_json_rows_envelope() -> None:
    assert parse_rows(b'{"rows": [{"a": 1}, {"a": 2}]}', JSON).table.to_pylist() == [{"a": 1}, {"a": 2}]


def test_json_rows_envelope_with_other_keys_is_400() -> None:
    msg = "an object with a 'rows' list may hold no other keys, got model"
    _raises(400, msg, parse_rows, b'{"rows": [], "model": "m"}', JSON)


def test_empty_json_array_is_an_empty_table() -> None:
    parsed = parse_rows(b"[]", JSON)
    assert (parsed.table.num_rows, parsed.table.num_columns, parsed.rejected, parsed.errors) == (0, 0, 0, ())


def test_objects_without_keys_are_rows() -> None:
    parsed = parse_rows(b"[{}, {}]", JSON)
    assert (parsed.table.num_rows, parsed.table.num_columns, parsed.rejected) == (2, 0, 0)


def test_malformed_json_is_400_with_orjson_message() -> None:
    _raises(400, "malformed JSON: unexpected end of data: line 1 column 12 (char 11)", parse_rows, b'[{"a": 1}, ', JSON)


def test_bytes_that_are_not_utf8_are_named_with_their_offset() -> None:
    body = '[{"symptoms": "fièvre"}]'.encode("latin-1")
    _raises(400, "invalid UTF-8: byte 0xe8 at offset 17 (invalid continuation byte)", parse_rows, body, JSON)
    parsed = parse_rows(b'{"a": 1}\n' + '{"a": "caf\xe9"}'.encode("latin-1") + b"\n", NDJSON)
    assert parsed.table.num_rows == 1 and parsed.errors[0].message.startswith("invalid UTF-8: byte 0xe9 at offset 10")


def test_json_scalar_is_400() -> None:
    msg = 'expected a JSON array of objects, an object or {"rows": [...]}, got a number'
    _raises(400, msg, parse_rows, b"5", JSON)


def test_non_object_entries_are_rejected_with_exact_messages() -> None:
    parsed = parse_rows(b'[{"a": 1}, [1, 2], "x", 3, true, null, {"a": 2}]', JSON)
    assert parsed.table.to_pylist() == [{"a": 1}, {"a": 2}]
    assert parsed.rejected == 5
    assert parsed.errors == (
        RowError(1, None, "expected a JSON object, got an array"),
        RowError(2, None, "expected a JSON object, got a string"),
        RowError(3, None, "expected a JSON object, got a number"),
        RowError(4, None, "expected a JSON object, got a boolean"),
        RowError(5, None, "expected a JSON object, got null"),
    )


def test_mixed_types_keep_every_row_and_count_type_errors_later() -> None:
    body = b'[{"age": 5, "id": 1}, {"age": "five", "id": 2}, {"age": 7, "id": 3}, {"age": {"years": 8}, "id": 4}]'
    parsed = parse_rows(body, JSON)
    assert parsed.rejected == 0
    assert parsed.table.column("id").to_pylist() == [1, 2, 3, 4]
    assert parsed.table.column("age").to_pylist() == ["5", "five", "7", '{"years":8}']
    assert parsed.errors == (
        RowError(1, "age", "a string does not fit the column's earlier integer values; column kept as strings"),
    )
    numeric = to_numeric(parsed.table.column("age"))
    assert (numeric.values.tolist(), numeric.type_errors) == ([5.0, 7.0], 2)


def test_nested_object_where_scalar_expected_is_kept_as_text() -> None:
    parsed = parse_rows(b'[{"x": 1.5}, {"x": {"a": 1}}, {"x": null}]', JSON)
    assert parsed.table.column("x").to_pylist() == ["1.5", '{"a":1}', None]
    assert parsed.errors == (
        RowError(1, "x", "an object does not fit the column's earlier number values; column kept as strings"),
    )


def test_boolean_among_numbers_is_a_conflict() -> None:
    parsed = parse_rows(b'[{"x": 1}, {"x": true}]', JSON)
    assert parsed.table.column("x").to_pylist() == ["1", "true"]


def test_integer_beyond_64_bits_is_kept_as_text() -> None:
    parsed = parse_rows(b'[{"x": 1}, {"x": 18446744073709551615}]', JSON)
    assert parsed.table.column("x").to_pylist() == ["1", "18446744073709551615"]
    assert parsed.errors[0].row == 1


def test_at_most_20_errors_but_every_rejection_counted() -> None:
    parsed = parse_rows(orjson.dumps([{"a": 1}] + [i for i in range(50)]), JSON)
    assert parsed.rejected == 50
    assert len(parsed.errors) == 20
    assert [e.row for e in parsed.errors] == list(range(1, 21))


def test_column_names_are_kept_as_sent() -> None:
    parsed = parse_rows(b'[{" Age ": 1, "": 2, "a.b": 3, "\xc3\xa9": 4}]', JSON)
    assert parsed.table.column_names == [" Age ", "", "a.b", "é"]


# NDJSON


def test_ndjson_fast_path() -> None:
    parsed = parse_rows(_ndjson({"a": 1, "b": "x"}, {"a": 2, "c": [1, 2]}), NDJSON)
    assert parsed.table.to_pylist() == [{"a": 1, "b": "x", "c": None}, {"a": 2, "b": None, "c": [1, 2]}]
    assert (parsed.rejected, parsed.errors) == (0, ())


def test_jsonl_type_and_blank_lines() -> None:
    parsed = parse_rows(b'\n{"a": 1}\r\n\n   \n{"a": 2}', "application/jsonl")
    assert parsed.table.to_pylist() == [{"a": 1}, {"a": 2}]
    assert parsed.rejected == 0


def test_ndjson_date_strings_stay_strings() -> None:
    parsed = parse_rows(_ndjson({"d": "2024-01-01", "t": {"at": "2024-01-01 10:00"}}), NDJSON)
    assert parsed.table.schema.field("d").type == pa.string()
    assert parsed.table.to_pylist() == [{"d": "2024-01-01", "t": {"at": "2024-01-01 10:00"}}]


def test_ndjson_same_types_as_json_array() -> None:
    rows = [{"a": 1, "b": 2.5, "c": "x", "d": True, "e": None, "f": {"g": [1]}}, {"a": 2, "b": 3, "c": "y"}]
    assert parse_rows(_ndjson(*rows), NDJSON).table == parse_rows(orjson.dumps(rows), JSON).table


def test_empty_ndjson_is_an_empty_table() -> None:
    for body in (b"", b"\n\n  \n"):
        parsed = parse_rows(body, NDJSON)
        assert (parsed.table.num_rows, parsed.table.num_columns, parsed.rejected) == (0, 0, 0)


def test_malformed_lines_are_rejected_and_the_rest_kept() -> None:
    body = b'{"a": 1}\n{"a": \n\n{"a": 3}\nnot json\n[4]\n{"a": 5} {"a": 6}\n'
    parsed = parse_rows(body, NDJSON)
    assert parsed.table.to_pylist() == [{"a": 1}, {"a": 3}]
    assert parsed.rejected == 4
    assert parsed.errors == (
        RowError(1, None, "malformed JSON: unexpected end of data: line 1 column 7 (char 6)"),
        RowError(4, None, "malformed JSON: invalid literal, expected 'null': line 1 column 1 (char 0)"),
        RowError(5, None, "expected a JSON object, got an array"),
        RowError(6, None, "malformed JSON: unexpected content after document: line 1 column 10 (char 9)"),
    )


def test_object_split_over_lines_is_not_read_as_one_row() -> None:
    parsed = parse_rows(b'{"a": 1} {"b": 2}\n{"c":\n3}\n', NDJSON)
    assert parsed.table.num_rows == 0
    assert parsed.rejected == 3


def test_ndjson_type_conflict_keeps_rows() -> None:
    parsed = parse_rows(_ndjson({"age": 5}, {"age": "five"}, {"age": 6}), NDJSON)
    assert parsed.table.column("age").to_pylist() == ["5", "five", "6"]
    assert parsed.rejected == 0
    assert parsed.errors == (
        RowError(1, "age", "a string does not fit the column's earlier integer values; column kept as strings"),
    )


def test_ndjson_invalid_utf8_line_is_rejected() -> None:
    parsed = parse_rows(b'{"a": "ok"}\n{"a": "\xff"}\n', NDJSON)
    assert parsed.table.to_pylist() == [{"a": "ok"}]
    assert parsed.rejected == 1
    assert parsed.errors[0].row == 1
    assert parsed.errors[0].message == "invalid UTF-8: byte 0xff at offset 7 (invalid start byte)"


def test_ndjson_line_numbers_count_blank_lines() -> None:
    parsed = parse_rows(b'\n\n"x"\n{"a": 1}\n', NDJSON)
    assert parsed.errors == (RowError(2, None, "expected a JSON object, got a string"),)


# Arrow IPC


def test_arrow_stream_round_trips() -> None:
    table = pa.table({"x": pa.array([1.5, None, 3.0]), "label": pa.array(["a", "b", None]), "Mixed Case": [1, 2, 3]})
    parsed = parse_rows(_arrow_stream(table), ARROW)
    assert parsed.table.equals(table)
    assert (parsed.rejected, parsed.errors) == (0, ())


def test_arrow_stream_with_no_batches() -> None:
    parsed = parse_rows(_arrow_stream(pa.table({"x": pa.array([], pa.int64())})), ARROW)
    assert (parsed.table.num_rows, parsed.table.column_names) == (0, ["x"])


def test_arrow_file_format_is_400_with_a_hint() -> None:
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, pa.schema([("x", pa.int64())])) as writer:
        writer.write_table(pa.table({"x": [1]}))
    with pytest.raises(PayloadError, match=r"this is the Arrow IPC file format; send the stream format") as info:
        parse_rows(sink.getvalue(), ARROW)
    assert info.value.status == 400


def test_garbage_arrow_is_400() -> None:
    with pytest.raises(PayloadError, match=r"^body is not a valid Arrow IPC stream: ") as info:
        parse_rows(b"definitely not arrow", ARROW)
    assert info.value.status == 400


def test_arrow_duplicate_columns_are_400() -> None:
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "x"])
    _raises(400, "Arrow stream has duplicate column names: x", parse_rows, _arrow_stream(table), ARROW)


def test_gzip_then_parse() -> None:
    body = gzip.compress(json.dumps([{"a": i} for i in range(3)]).encode())
    parsed = parse_rows(decode_body(body, "gzip", 1024), JSON)
    assert parsed.table.column("a").to_pylist() == [0, 1, 2]


def test_an_arrow_string_longer_than_max_string_bytes_is_422_as_in_json() -> None:
    limits = IngestLimits(max_string_bytes=1024)
    ok = pa.table({"note": ["x" * 1024, None], "big_elsewhere": ["y" * 5000, "z"]})
    assert parse_rows(_arrow_stream(ok), ARROW, limits, keep={"note"}).table.num_rows == 2  # not a feature: unread
    for column in (pa.array(["x" * 1025]), pa.array(["é" * 513]).dictionary_encode()):
        size = 1025 if column.type == pa.string() else 1026
        msg = f"a string of {size} bytes in Arrow column 'note' exceeds ingest.limits.max_string_bytes (1024)"
        _raises(422, msg, parse_rows, _arrow_stream(pa.table({"note": column})), ARROW, limits)
