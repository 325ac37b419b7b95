"""A table's feature columns aligned row by row, read once and shared by every OOD reason."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.live.rowbatch import TYPE_ERRORS_COLUMN
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile
from driftwatch.reference.values import labels_aligned, numeric_aligned
from driftwatch.types import Kind


@dataclass(frozen=True)
class Column:
    """One feature over the rows: numbers (NaN where missing or unreadable) or labels, and the masks of both."""

    feature: FeatureProfile
    numbers: np.ndarray | None
    labels: pa.Array | None
    missing: np.ndarray  # bool per row: absent or null (not unreadable)
    unreadable: np.ndarray  # bool per row: present but not readable as the feature's kind
    absent: bool  # the table had no such column


@dataclass(frozen=True)
class RowFrame:
    """Every profiled feature of a table, row-aligned."""

    rows: int
    columns: list[Column]

    @property
    def names(self) -> list[str]:
        return [c.feature.name for c in self.columns]


def read_rows(profile: ReferenceProfile, table: pa.Table) -> RowFrame:
    """Align `table` (raw input, or rows the live window shaped) to the profile's features."""
    rows = table.num_rows
    shaped = _shaped_errors(table, len(profile.features))
    columns = []
    for i, f in enumerate(profile.features):
        if f.name not in table.column_names:
            columns.append(_absent(f, rows))
            continue
        raw = table.column(f.name)
        if f.kind == Kind.NUMERIC:
            numbers, unreadable = numeric_aligned(raw)
            if shaped is not None:
                unreadable = shaped[i]
            missing = np.isnan(numbers) & ~unreadable
            columns.append(Column(f, numbers, None, missing, unreadable, False))
        else:
            labels, unreadable = labels_aligned(raw, f.kind)
            if shaped is not None:
                unreadable = shaped[i]
            nulls = labels.is_null().to_numpy(zero_copy_only=False)
            columns.append(Column(f, None, labels, nulls & ~unreadable, unreadable, False))
    return RowFrame(rows, columns)


def _absent(f: FeatureProfile, rows: int) -> Column:
    none = np.zeros(rows, dtype=bool)
    if f.kind == Kind.NUMERIC:
        return Column(f, np.full(rows, np.nan), None, ~none, none, True)
    return Column(f, None, pa.nulls(rows, pa.string()), ~none, none, True)


def _shaped_errors(table: pa.Table, n_features: int) -> np.ndarray | None:
    """Per feature, the rows a live window marked unreadable (None for a table that was not shaped)."""
    if TYPE_ERRORS_COLUMN not in table.column_names:
        return None
    out = np.zeros((n_features, table.num_rows), dtype=bool)
    col = table.column(TYPE_ERRORS_COLUMN).combine_chunks()
    if col.null_count == len(col):
        return out
    lists = pc.split_pattern(col, ",")
    rows = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    idx = pc.cast(pc.list_flatten(lists), pa.int64()).to_numpy(zero_copy_only=False)
    keep = idx < n_features
    out[idx[keep], rows[keep]] = True
    return out
