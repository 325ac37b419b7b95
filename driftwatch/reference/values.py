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
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def numeric_aligned(column: Column) -> tuple[np.ndarray, np.ndarray]:
    """Row-aligned float64 values (NaN where missing or unreadable) and a mask of the unreadable rows."""
    arr = _combined(column)
    t = arr.type
    rows = len(arr)
    if pa.types.is_null(t):
        return np.full(rows, np.nan), np.zeros(rows, dtype=bool)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        # Unsafe: integers past 2**53 (a uint64 2**64 - 1) round to the nearest float64 instead of raising.
        data = arr.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        return data, np.zeros(rows, dtype=bool)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        # pandas does the lenient per-value parse that Arrow's all-or-nothing cast cannot; imported here
        # because only string-typed numbers need it.
        import pandas as pd

        data = pd.to_numeric(pd.Series(arr.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(np.float64)
        trimmed = pc.utf8_trim_whitespace(arr)
        absent = pc.or_kleene(pc.is_null(arr), pc.equal(trimmed, ""))
        absent = pc.or_kleene(absent, pc.match_substring_regex(trimmed, r"(?i)^nan$"))
        absent_np = absent.fill_null(True).to_numpy(zero_copy_only=False)
        errors = np.isnan(data) & ~absent_np
        return data, errors
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    return np.full(rows, np.nan), valid


def to_numeric(column: Column) -> NumericValues:
    """Values as float64; nulls and NaN count as missing, +-inf as non-finite, unparsable text as type errors."""
    data, errors = numeric_aligned(column)
    nan_mask = np.isnan(data)
    inf_mask = np.isinf(data)
    type_errors = int(errors.sum())
    finite = data[~(nan_mask | inf_mask)]
    return NumericValues(finite, len(data), int(nan_mask.sum()) - type_errors, int(inf_mask.sum()), type_errors)


def labels_aligned(column: Column, kind: Kind) -> tuple[pa.Array, np.ndarray]:
    """Row-aligned string values (null where missing or unreadable) and a mask of the unreadable rows."""
    arr = _combined(column)
    t = arr.type
    rows = len(arr)
    if pa.types.is_null(t):
        return pa.nulls(rows, pa.string()), np.zeros(rows, dtype=bool)
    if pa.types.is_large_string(t):
        arr = arr.cast(pa.string())
        t = arr.type
    if pa.types.is_floating(t):
        arr = pc.if_else(pc.is_nan(arr), None, arr)
    scalar_ok = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
    if pa.types.is_string(t) or (kind == Kind.CATEGORICAL and scalar_ok):
        return arr.cast(pa.string()), np.zeros(rows, dtype=bool)
    return pa.nulls(rows, pa.string()), arr.is_valid().to_numpy(zero_copy_only=False)


def to_labels(column: Column, kind: Kind) -> LabelValues:
    """Values as strings; categories accept numbers and booleans (1 and "1" are one category), text only strings."""
    values, errors = labels_aligned(column, kind)
    type_errors = int(errors.sum())
    valid = values.drop_null()
    return LabelValues(valid, len(values), len(values) - len(valid) - type_errors, type_errors)
