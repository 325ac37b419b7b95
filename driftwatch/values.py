"""Convert raw Arrow columns to a feature's kind, counting values that are missing or do not fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.types import Kind

Column = pa.Array | pa.ChunkedArray


@dataclass(frozen=True)
class NumericValues:
    """Finite values of a numeric column, with counts of what was dropped and why."""

    values: np.ndarray
    rows: int
    missing: int
    non_finite: int
    type_errors: int


@dataclass(frozen=True)
class LabelValues:
    """Non-missing values of a categorical or text column as strings, with counts of what was dropped."""

    values: pa.Array
    rows: int
    missing: int
    type_errors: int


def _combined(column: Column) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def to_numeric(column: Column) -> NumericValues:
    """Values as float64; nulls and NaN count as missing, +-inf as non-finite, unparsable text as type errors."""
    arr = _combined(column)
    rows = len(arr)
    t = arr.type
    type_errors = 0
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_null(t):
        return NumericValues(np.empty(0), rows, rows, 0, 0)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        data = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        # pandas does the lenient per-value parse that Arrow's all-or-nothing cast cannot; imported here
        # because only string-typed numbers need it.
        import pandas as pd

        data = pd.to_numeric(pd.Series(arr.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(np.float64)
        blank = pc.sum(pc.equal(pc.utf8_trim_whitespace(arr), "")).as_py() or 0
        parsed_missing = int(np.isnan(data).sum())
        literal_nan = pc.sum(pc.match_substring_regex(arr, r"(?i)^\s*nan\s*$")).as_py() or 0
        type_errors = parsed_missing - arr.null_count - blank - literal_nan
    else:
        return NumericValues(np.empty(0), rows, arr.null_count, 0, rows - arr.null_count)
    nan_mask = np.isnan(data)
    missing = int(nan_mask.sum()) - type_errors
    inf_mask = np.isinf(data)
    finite = data[~(nan_mask | inf_mask)]
    return NumericValues(finite, rows, missing, int(inf_mask.sum()), type_errors)


def to_labels(column: Column, kind: Kind) -> LabelValues:
    """Values as strings; categories accept numbers and booleans (1 and "1" are one category), text only strings."""
    arr = _combined(column)
    rows = len(arr)
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_null(t):
        return LabelValues(pa.array([], pa.string()), rows, rows, 0)
    if pa.types.is_large_string(t):
        arr = arr.cast(pa.string())
        t = arr.type
    if pa.types.is_floating(t):
        arr = pc.if_else(pc.is_nan(arr), None, arr)
    scalar_ok = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
    if pa.types.is_string(t) or (kind == Kind.CATEGORICAL and scalar_ok):
        valid = arr.drop_null().cast(pa.string())
        return LabelValues(valid, rows, rows - len(valid), 0)
    return LabelValues(pa.array([], pa.string()), rows, arr.null_count, rows - arr.null_count)


def missing_count(column: Column) -> int:
    """Nulls plus float NaN."""
    arr = _combined(column)
    n = arr.null_count
    if pa.types.is_floating(arr.type):
        n += pc.sum(pc.is_nan(arr)).as_py() or 0
    return int(n)
