"""Incoming rows in a monitor's fixed shape: one typed column per feature, plus which values were unreadable."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from driftwatch.config.ood import OodSettings
from driftwatch.ood.reasons import RULES, Rule
from driftwatch.ood.reasons.categories import UnseenCategory
from driftwatch.ood.reasons.ranges import OutOfRange
from driftwatch.ood.rows import read_column, shaped_errors
from driftwatch.ood.score import fitted_reasons
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.reference.values import labels_aligned, numeric_aligned
from driftwatch.types import TYPE_ERRORS_COLUMN, Kind

# Columns of the count matrix: data quality (unseen and out of range against everything the reference had), then
# rows each per-value OOD rule fired on (driftwatch.ood.reasons.RULES order), then rows any of them fired on. Its
# rows are the features, and a last row counting the rows where the column's condition held for any feature.
MISSING, TYPE_ERRORS, UNSEEN, OUT_OF_RANGE = range(4)
RULE_COLUMNS = {name: 4 + k for k, name in enumerate(RULES)}
ANY_RULE = 4 + len(RULES)
COUNT_COLUMNS = ANY_RULE + 1
# The quality counts' ranges and categories: the reference's whole range, every category it had.
_WHOLE_REFERENCE = OodSettings.model_validate(
    {"reasons": {"out_of_range": {"quantiles": (0, 1), "tolerance": 0}, "unseen_category": {"min_frequency": 0}}}
)


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
    """Turns arbitrary incoming tables into the monitor's schema and counts their quality and OOD rules exactly."""

    def __init__(self, profile: ReferenceProfile, ood: OodSettings | None = None):
        self.profile = profile
        self.schema = monitor_schema(profile)
        self.names = [f.name for f in profile.features]
        self._range = OutOfRange(profile, _WHOLE_REFERENCE)
        self.rules: list[Rule] = []
        if ood is not None and ood.enabled:
            self.rules = [r for r in fitted_reasons(profile, ood, RULES)[0] if isinstance(r, Rule)]
        # unseen_category at min_frequency 0 flags what the quality count does: one mask serves both
        self._unseen = next(
            (r for r in self.rules if isinstance(r, UnseenCategory) and r.min_frequency == 0),
            UnseenCategory(profile, _WHOLE_REFERENCE),
        )
        # Per feature, the rules that can fire on it.
        self._rules_by_feature = [[r for r in self.rules if r.applies(f)] for f in profile.features]
        # What the counts depend on besides the features: a checkpoint counted under other rules is stale.
        self.counting = json.dumps(ood.reasons.model_dump(include=set(RULES)) if self.rules else None, sort_keys=True)

    def zero_counts(self) -> np.ndarray:
        """The count matrix of no rows."""
        return np.zeros((len(self.names) + 1, COUNT_COLUMNS), dtype=np.int64)

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
        """The count matrix of a normalized batch: every row's quality and OOD rules, counted exactly."""
        out = self.zero_counts()
        rows = batch.num_rows
        errors = shaped_errors(batch, len(self.names))
        assert errors is not None, "counts takes normalized batches"
        # per count column, the rows where it held for some feature (allocated once a feature has such a row)
        any_feature: dict[int, np.ndarray] = {}
        for j, f in enumerate(self.profile.features):
            col = read_column(f, batch.column(j), rows, errors[j])
            unseen = self._unseen.fires(j, col)
            hits = [
                (MISSING, col.missing),
                (TYPE_ERRORS, col.unreadable),
                (UNSEEN, unseen),
                (OUT_OF_RANGE, self._range.fires(j, col)),
            ]
            # A rule often flags what a quality column does (type_error, unexpected_missing, unseen_category at
            # min_frequency 0): such masks are the same object, counted once.
            rules = [
                (RULE_COLUMNS[r.name], unseen if r is self._unseen else r.fires(j, col))
                for r in self._rules_by_feature[j]
            ]
            counted: dict[int, int] = {}
            fired_any: np.ndarray | None = None
            for is_rule, (c, mask) in [(False, h) for h in hits] + [(True, r) for r in rules]:
                if mask is None:
                    continue
                n = counted.get(id(mask))
                if n is None:
                    n = counted[id(mask)] = np.count_nonzero(mask)
                if not n:
                    continue
                out[j, c] = n
                _union(any_feature, c, mask)
                if is_rule:
                    fired_any = mask if fired_any is None else fired_any | mask
            if fired_any is not None:
                out[j, ANY_RULE] = np.count_nonzero(fired_any)
                _union(any_feature, ANY_RULE, fired_any)
        for c, union in any_feature.items():
            out[-1, c] = np.count_nonzero(union)
        return out


def _union(into: dict[int, np.ndarray], column: int, mask: np.ndarray) -> None:
    if column in into:
        into[column] |= mask
    else:
        into[column] = mask.copy()


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
