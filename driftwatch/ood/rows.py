"""A table's feature columns aligned row by row, read once and shared by every OOD reason and the live counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.reference.profile import FeatureProfile, ReferenceProfile
from driftwatch.reference.values import labels_aligned, numeric_aligned
from driftwatch.types import TYPE_ERRORS_COLUMN, Kind


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

    def blank(self) -> np.ndarray:
        """A (rows, features) mask with nothing set, column-major: each feature's rows are contiguous."""
        return np.zeros((self.rows, len(self.columns)), dtype=bool, order="F")


def read_rows(profile: ReferenceProfile, table: pa.Table | pa.RecordBatch) -> RowFrame:
    """Align `table` (raw input, or rows the live window shaped) to the profile's features.

    The derived text signals the profile's row sample holds (`<feature>.<signal>`, added to a check's rows) follow
    the monitored features, in profile order, so that the frame's columns are always the novelty encoding's.
    """
    rows = table.num_rows
    errors = shaped_errors(table, len(profile.features))
    names = set(table.schema.names)
    columns = [
        read_column(f, table.column(f.name) if f.name in names else None, rows, None if errors is None else errors[i])
        for i, f in enumerate(profile.features)
    ]
    # absent (a file without the text column): missing, as an absent feature is
    columns += [
        read_column(f, table.column(f.name) if f.name in names else None, rows, None) for f in profile.row_signals
    ]
    return RowFrame(rows, columns)


def read_column(
    f: FeatureProfile, raw: pa.Array | pa.ChunkedArray | None, rows: int, shaped: np.ndarray | None
) -> Column:
    """One feature's values (`raw` None: the table has none); `shaped`: the unreadable rows of live-window rows.

    Rows a live window shaped are in the feature's type already (float64 or string) and carry their type errors,
    so they are read as they are; other tables are converted, and their unreadable values found, here.
    """
    if raw is None:
        missing = np.ones(rows, dtype=bool)
        none = np.zeros(rows, dtype=bool)
        if f.kind == Kind.NUMERIC:
            return Column(f, np.full(rows, np.nan), None, missing, none, True)
        return Column(f, None, pa.nulls(rows, pa.string()), missing, none, True)
    if shaped is not None and isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    numbers = labels = None
    if f.kind == Kind.NUMERIC:
        if shaped is None:
            numbers, unreadable = numeric_aligned(raw)
        else:
            numbers, unreadable = raw.to_numpy(zero_copy_only=False), shaped
        missing = np.isnan(numbers)
    else:
        if shaped is None:
            labels, unreadable = labels_aligned(raw, f.kind)
        else:
            labels, unreadable = raw, shaped
        missing = labels.is_null().to_numpy(zero_copy_only=False)
    if unreadable.any():
        missing &= ~unreadable
    return Column(f, numbers, labels, missing, unreadable, False)


def shaped_errors(table: pa.Table | pa.RecordBatch, n_features: int) -> dict[int, np.ndarray] | None:
    """The rows a live window marked unreadable, per feature that has any (None for a table that was not shaped)."""
    if TYPE_ERRORS_COLUMN not in table.schema.names:
        return None
    rows = table.num_rows
    none = np.zeros(rows, dtype=bool)
    col = table.column(TYPE_ERRORS_COLUMN)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    out = dict.fromkeys(range(n_features), none)
    if col.null_count == len(col):
        return out
    lists = pc.split_pattern(col, ",")
    at = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    idx = pc.cast(pc.list_flatten(lists), pa.int64()).to_numpy(zero_copy_only=False)
    for i in np.unique(idx[idx < n_features]).tolist():
        mask = np.zeros(rows, dtype=bool)
        mask[at[idx == i]] = True
        out[i] = mask
    return out
