"""Decide each reference column's kind from its Arrow type and data, and say why."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.checks.stattests.catalog import lookup
from driftwatch.config import FeatureSpec, MonitorConfig
from driftwatch.errors import DataError
from driftwatch.types import Kind

# Integers with at most this many distinct values are labels (codes, ratings), not quantities.
MAX_INTEGER_CATEGORIES = 10
# Strings with at most this many distinct values are categories.
MAX_STRING_CATEGORIES = 50
# Strings averaging this many characters or more are free text.
MIN_TEXT_LENGTH = 30


@dataclass(frozen=True)
class FeatureSchema:
    """One reference column: the kind it is compared as (None when skipped), why, and its overrides."""

    name: str
    kind: Kind | None
    reason: str
    method: str | None = None
    threshold: float | None = None
    prediction: bool = False
    # A derived feature's text feature (its name is `<signal_of>.<signal>`, driftwatch.text.derive).
    signal_of: str | None = None


def infer_kind(column: pa.ChunkedArray | pa.Array) -> tuple[Kind | None, str]:
    """The kind a column's type and values suggest, with the reason in words."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if len(arr) == arr.null_count:
        return None, "skipped: no values in the reference"
    if pa.types.is_boolean(t):
        return Kind.CATEGORICAL, "boolean"
    if pa.types.is_integer(t):
        distinct = pc.count_distinct(arr).as_py()
        if distinct <= MAX_INTEGER_CATEGORIES:
            return Kind.CATEGORICAL, f"integer with {distinct} distinct values (<= {MAX_INTEGER_CATEGORIES})"
        return Kind.NUMERIC, f"integer with {distinct} distinct values"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return Kind.NUMERIC, "floating point"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        lengths = pc.utf8_length(arr)
        mean_length = pc.mean(lengths).as_py() or 0.0
        if mean_length >= MIN_TEXT_LENGTH:
            return Kind.TEXT, f"strings averaging {mean_length:.0f} characters (>= {MIN_TEXT_LENGTH})"
        distinct = pc.count_distinct(arr).as_py()
        if distinct <= MAX_STRING_CATEGORIES:
            return Kind.CATEGORICAL, f"string with {distinct} distinct values (<= {MAX_STRING_CATEGORIES})"
        return None, (
            f"skipped: {distinct} distinct short strings, too many for categories and too short for text "
            "(set its kind in config to monitor it)"
        )
    return None, f"skipped: type {t} is not compared (set its kind in config to monitor it)"


def infer_schema(table: pa.Table, monitor: MonitorConfig) -> list[FeatureSchema]:
    """The monitored features: those listed in config, or every column not ignored."""
    listed = monitor.features
    names = list(listed) if listed else [c for c in table.column_names if c not in monitor.ignore]
    for extra in monitor.prediction_columns:
        if extra not in names and extra not in monitor.ignore:
            names.append(extra)
    out: list[FeatureSchema] = []
    for name in names:
        spec = listed.get(name, FeatureSpec())
        method, threshold = spec.method, spec.threshold
        if name not in table.column_names:
            raise DataError(
                f"monitor '{monitor.name}': feature '{name}' is not a column of the reference "
                f"(columns: {', '.join(table.column_names)})"
            )
        if spec.kind is not None:
            kind, reason = spec.kind, "set in config"
        else:
            kind, reason = infer_kind(table.column(name))
        if kind == Kind.TEXT:
            _check_text(monitor.name, name, table.column(name))
        if method is not None and kind is not None:
            try:
                lookup(method, kind)
            except ValueError as exc:
                raise DataError(f"monitor '{monitor.name}': feature '{name}' was inferred as {kind}: {exc}") from None
        out.append(FeatureSchema(name, kind, reason, method, threshold, name in monitor.prediction_columns))
    return out


def _check_text(monitor: str, name: str, column: pa.ChunkedArray) -> None:
    """Refuse a text feature whose reference holds no strings, or no letters: its signals would compare with nothing."""
    t = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)):
        raise DataError(
            f"monitor '{monitor}': feature '{name}' is text, but the reference column holds {t}, not strings "
            "(set its kind to numeric or categorical)"
        )
    texts = column.cast(pa.large_string())
    if not pc.any(pc.match_substring_regex(texts, r"\pL")).as_py():
        raise DataError(
            f"monitor '{monitor}': feature '{name}' is text, but no reference row holds a letter (every value is "
            "missing, empty, digits or emoji): there is no language, script or vocabulary to compare with"
        )
