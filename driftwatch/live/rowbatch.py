"""Incoming rows in a monitor's fixed shape: one typed column per feature, plus which values were unreadable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.reference.profile import ReferenceProfile
from driftwatch.reference.values import labels_aligned, numeric_aligned
from driftwatch.types import Kind

# Per row: comma-separated indices of the features whose value could not be read (null when none).
TYPE_ERRORS_COLUMN = "__type_errors"
# Columns of the per-feature count matrix.
MISSING, TYPE_ERRORS, UNSEEN, OUT_OF_RANGE = range(4)


def monitor_schema(profile: ReferenceProfile) -> pa.Schema:
    """The fixed Arrow schema live rows are stored in: float64 for numeric features, strings otherwise."""
    fields = [pa.field(f.name, pa.float64() if f.kind == Kind.NUMERIC else pa.string()) for f in profile.features]
    return pa.schema([*fields, pa.field(TYPE_ERRORS_COLUMN, pa.string())])


@dataclass(frozen=True)
class Normalized:
    """A batch in the monitor's schema and how many of the request's columns were not features."""

    batch: pa.RecordBatch
    unknown_columns: tuple[str, ...]


class RowShaper:
    """Turns arbitrary incoming tables into the monitor's schema and counts their quality exactly."""

    def __init__(self, profile: ReferenceProfile):
        self.profile = profile
        self.schema = monitor_schema(profile)
        self.names = [f.name for f in profile.features]
        self._known = {
            f.name: pa.array(f.categorical.categories.tolist(), pa.string())
            for f in profile.features
            if f.categorical is not None
        }

    def normalize(self, table: pa.Table | pa.RecordBatch) -> Normalized:
        """Convert each feature column to its kind; absent features become nulls, other columns are dropped."""
        rows = table.num_rows
        columns: list[pa.Array] = []
        errors_by_feature: list[tuple[int, np.ndarray]] = []
        present = set(table.schema.names)
        for i, f in enumerate(self.profile.features):
            if f.name not in present:
                columns.append(pa.nulls(rows, self.schema.field(i).type))
                continue
            raw = table.column(f.name)
            if f.kind == Kind.NUMERIC:
                data, errs = numeric_aligned(raw)
                columns.append(pa.array(data, pa.float64()))
            else:
                values, errs = labels_aligned(raw, f.kind)
                columns.append(values)
            if errs.any():
                errors_by_feature.append((i, errs))
        columns.append(_error_column(rows, errors_by_feature))
        unknown = tuple(n for n in table.schema.names if n not in self.names)
        return Normalized(pa.RecordBatch.from_arrays(columns, schema=self.schema), unknown)

    def counts(self, batch: pa.RecordBatch) -> np.ndarray:
        """Per feature: missing, type errors, unseen categories and out-of-range values in a normalized batch."""
        out = np.zeros((len(self.names), 4), dtype=np.int64)
        type_errors = _type_error_counts(batch.column(TYPE_ERRORS_COLUMN), len(self.names))
        out[:, TYPE_ERRORS] = type_errors
        for i, f in enumerate(self.profile.features):
            col = batch.column(i)
            if f.kind == Kind.NUMERIC:
                data = col.to_numpy(zero_copy_only=False)
                nan = np.isnan(data)
                out[i, MISSING] = int(nan.sum()) - type_errors[i]
                if f.numeric is not None and f.numeric.values.size:
                    with np.errstate(invalid="ignore"):
                        outside = (data < f.numeric.min) | (data > f.numeric.max)
                    out[i, OUT_OF_RANGE] = int(outside.sum())
            else:
                out[i, MISSING] = col.null_count - type_errors[i]
                known = self._known.get(f.name)
                if known is not None:
                    valid = len(col) - col.null_count
                    out[i, UNSEEN] = valid - (pc.sum(pc.is_in(col, value_set=known)).as_py() or 0)
        return out


def _error_column(rows: int, errors_by_feature: list[tuple[int, np.ndarray]]) -> pa.Array:
    if not errors_by_feature:
        return pa.nulls(rows, pa.string())
    any_error = np.zeros(rows, dtype=bool)
    for _, errs in errors_by_feature:
        any_error |= errs
    labels: list[str | None] = [None] * rows
    for r in np.flatnonzero(any_error).tolist():
        labels[r] = ",".join(str(i) for i, errs in errors_by_feature if errs[r])
    return pa.array(labels, pa.string())


def _type_error_counts(column: pa.Array, n_features: int) -> np.ndarray:
    out = np.zeros(n_features, dtype=np.int64)
    if column.null_count == len(column):
        return out
    flat = pc.list_flatten(pc.split_pattern(column.drop_null(), ","))
    idx = pc.cast(flat, pa.int64()).to_numpy(zero_copy_only=False)
    np.add.at(out, idx[idx < n_features], 1)
    return out


def conform_rows(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Shaped rows moved to another monitor schema (a new reference): shared features kept, others null.

    A feature whose type changed is null too. Type errors are re-indexed to the new feature order, and
    dropped for features that did not keep their column, so that counting the batch again stays exact.
    """
    if batch.schema.equals(schema):
        return batch
    old = batch.schema.names[:-1]
    kept: dict[int, int] = {}
    cols: list[pa.Array] = []
    for j, f in enumerate(list(schema)[:-1]):
        i = batch.schema.get_field_index(f.name)
        if 0 <= i < len(old) and batch.schema.field(i).type == f.type:
            kept[i] = j
            cols.append(batch.column(i))
        else:
            cols.append(pa.nulls(batch.num_rows, f.type))
    errors = batch.column(TYPE_ERRORS_COLUMN)
    if errors.null_count < len(errors):
        labels = []
        for value in errors.to_pylist():
            moved = [str(kept[int(i)]) for i in value.split(",") if int(i) in kept] if value else []
            labels.append(",".join(moved) or None)
        errors = pa.array(labels, pa.string())
    cols.append(errors)
    return pa.RecordBatch.from_arrays(cols, schema=schema)
