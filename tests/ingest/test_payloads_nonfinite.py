"""NaN and Infinity, as Python's json.dumps writes them, in JSON and NDJSON bodies."""

from __future__ import annotations

import json
import math

import pytest

from driftwatch.ingest.jsontext import loads_json
from driftwatch.ingest.payloads import PayloadError, parse_rows
from driftwatch.reference.values import to_numeric


def test_loads_json_reads_nan_as_missing_and_keeps_infinities() -> None:
    assert loads_json(b"[1, 2]") == [1, 2]
    value = loads_json(json.dumps({"a": float("nan"), "b": float("inf"), "c": -math.inf, "d": "NaN"}).encode())
    assert value == {"a": None, "b": math.inf, "c": -math.inf, "d": "NaN"}


def test_ndjson_lines_read_one_by_one_accept_nan() -> None:
    # The second line's "hr" is a string, so Arrow's reader gives up and each line is parsed on its own.
    body = b'{"hr": NaN, "t": Infinity}\n{"hr": "high", "t": 1.5}\n{"hr": 80, "t": -Infinity}\n'
    parsed = parse_rows(body, "application/x-ndjson")
    assert parsed.rejected == 0
    assert parsed.table.column("t").to_pylist() == [math.inf, 1.5, -math.inf]
    assert parsed.table.column("hr").to_pylist() == [None, "high", "80"]


@pytest.mark.parametrize("body", [b'[{"a": NaN,}]', b'[{"a": nan}]', b'{"a": Infinit}'])
def test_malformed_json_with_such_tokens_is_still_rejected(body: bytes) -> None:
    with pytest.raises(PayloadError, match=r"^malformed JSON: ") as info:
        parse_rows(body, "application/json")
    assert info.value.status == 400


def test_infinity_in_a_column_kept_as_strings_stays_out_of_range_not_a_type_error() -> None:
    # One string among numbers keeps the column as strings; the infinities must still read as infinite numbers.
    body = json.dumps([{"hr": math.inf}, {"hr": "fast"}, {"hr": -math.inf}, {"hr": 80}]).encode()
    for content_type, raw in (("application/json", body), ("application/x-ndjson", _lines(body))):
        column = parse_rows(raw, content_type).table.column("hr")
        assert column.to_pylist() == ["inf", "fast", "-inf", "80"]
        numbers = to_numeric(column)
        assert (numbers.non_finite, numbers.type_errors, numbers.missing) == (2, 1, 0)
        assert numbers.values.tolist() == [80.0]


def _lines(body: bytes) -> bytes:
    return b"\n".join(json.dumps(row).encode() for row in json.loads(body)) + b"\n"
