"""Property: NDJSON of arbitrary lines never fails except as PayloadError, and every line is accounted for."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftwatch.ingest.payloads import MAX_ROW_ERRORS, PayloadError, parse_rows

_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
# Objects over a few shared keys make type conflicts across rows likely.
_objects = st.dictionaries(st.sampled_from(["a", "b", "c", ""]), _values, max_size=3)
_lines = st.one_of(
    _objects.map(json.dumps),
    _values.map(json.dumps),
    st.text(max_size=12).map(lambda s: s.replace("\n", " ")),
    st.sampled_from(["", "   ", "\r", '{"a": 1} {"a": 2}', '{"a":', "}"]),
)


def _is_blank(line: str) -> bool:
    return not line.strip(" \t\r")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_lines, max_size=12), st.sampled_from(["application/x-ndjson", "application/jsonl"]))
def test_ndjson_accounts_for_every_non_blank_line(lines: list[str], content_type: str) -> None:
    body = "\n".join(lines).encode()
    try:
        parsed = parse_rows(body, content_type)
    except PayloadError:
        return
    non_blank = sum(not _is_blank(line) for line in body.decode().split("\n"))
    assert parsed.table.num_rows + parsed.rejected == non_blank
    assert len(parsed.errors) <= MAX_ROW_ERRORS
    assert all(isinstance(name, str) for name in parsed.table.column_names)
    parsed.table.validate(full=True)
