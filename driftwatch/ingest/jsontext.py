"""JSON as the ingest paths read it: NaN as missing, infinities kept, and a rejected document's problem named."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads_json(data: bytes) -> Any:
    """Parse JSON with orjson; NaN becomes None (missing) and Infinity stays infinite, as Python's json writes them.

    orjson rejects those tokens, so only a document it rejects that contains one goes through the slower stdlib
    parser; valid JSON never pays for the check.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if b"NaN" not in data and b"Infinity" not in data:
            raise
        try:
            return json.loads(data, parse_constant=_NON_FINITE.__getitem__)
        except ValueError:
            raise exc from None


def json_problem(exc: orjson.JSONDecodeError, data: bytes) -> str:
    """What is wrong with a document orjson rejected; bytes that are not UTF-8 are named as such, with their place."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:  # orjson says "surrogates not allowed" at line 1 column 1
        return f"invalid UTF-8: byte 0x{data[bad.start]:02x} at offset {bad.start} ({bad.reason})"
    return f"malformed JSON: {exc}"


# json.dumps(float("nan")) is NaN: a value that is not there. The infinities are real (out-of-range) readings.
_NON_FINITE = {"NaN": None, "Infinity": float("inf"), "-Infinity": float("-inf")}
