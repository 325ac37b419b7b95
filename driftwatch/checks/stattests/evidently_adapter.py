"""The one place driftwatch imports evidently's stat tests (their module paths move between releases)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from driftwatch.checks.stattests.base import CountedLabels, CurrentValues, StatTest
from driftwatch.reference.profile import FeatureProfile
from driftwatch.types import Kind


@cache
def _evidently() -> tuple[Any, Any]:
    # Imported on first use: evidently costs seconds and hundreds of MB to import.
    from evidently.legacy.calculations.stattests import registry
    from evidently.legacy.core import ColumnType

    return registry, ColumnType


def registered_tests() -> dict[str, dict[str, float]]:
    """evidently's registry as {name: {kind value: default threshold}}, for checking our catalogue."""
    registry, _ = _evidently()
    return {
        name: {ct.value: st.default_threshold for ct, st in by_type.items()}
        for name, by_type in registry._registered_stat_tests.items()
    }


def random_classifier_percentile(labels: np.ndarray, p_value: float) -> float:
    """evidently's 1 - p_value percentile of 1000 seeded random classifiers' ROC AUC on these labels."""
    # Looked up per call, not bound at import: it is a pure function of its arguments and may be memoized.
    from evidently.legacy.utils import data_drift_utils

    return float(data_drift_utils.roc_auc_random_classifier_percentile(labels, p_value=p_value))


def column_type(kind: Kind) -> Any:
    """evidently's ColumnType for a driftwatch kind."""
    _, ColumnType = _evidently()
    return {Kind.NUMERIC: ColumnType.Numerical, Kind.CATEGORICAL: ColumnType.Categorical, Kind.TEXT: ColumnType.Text}[
        kind
    ]


def reference_series(reference: FeatureProfile) -> pd.Series:
    """The reference column rebuilt from its profile (sorted numbers, expanded category counts, or texts)."""
    if reference.numeric is not None:
        return pd.Series(reference.numeric.values, copy=False)
    if reference.categorical is not None:
        return pd.Series(np.repeat(reference.categorical.categories, reference.categorical.counts))
    assert reference.text is not None
    return pd.Series(reference.text.values.to_numpy(zero_copy_only=False))


def current_series(current: CurrentValues) -> pd.Series:
    """Current values as the pandas Series evidently's functions take."""
    if isinstance(current, CountedLabels):
        return pd.Series(np.repeat(current.values, current.counts))
    if isinstance(current, pa.Array | pa.ChunkedArray):
        return pd.Series(current.to_numpy(zero_copy_only=False))
    return pd.Series(current, copy=False)


class EvidentlyStatTest(StatTest):
    """Runs evidently's own implementation of a stat test on the reference rebuilt from the profile."""

    def compare(
        self, reference: FeatureProfile, current: CurrentValues, kind: Kind, threshold: float
    ) -> tuple[float, bool]:
        registry, _ = _evidently()
        by_type = registry._registered_stat_tests[self.name]
        ctype = column_type(kind)
        # evidently's default rule runs chisquare and z on numeric columns with few values, outside their
        # declared types; any registered variant runs the same function.
        test = by_type.get(ctype) or next(iter(by_type.values()))
        result = test(reference_series(reference), current_series(current), ctype, threshold)
        return float(result.drift_score), bool(result.drifted)
