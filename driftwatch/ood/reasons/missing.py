"""unexpected_missing: a missing value where the reference (almost) never misses one."""

from __future__ import annotations

import numpy as np

from driftwatch.ood.reasons.base import Rule, register
from driftwatch.ood.rows import Column
from driftwatch.reference.profile import FeatureProfile


@register
class UnexpectedMissing(Rule):
    """A missing value in a feature whose reference missing share is at most max_reference_rate."""

    name = "unexpected_missing"

    def applies(self, feature: FeatureProfile) -> bool:
        ceiling = self.settings.reasons.unexpected_missing.max_reference_rate
        return feature.schema.signal_of is None and feature.missing_rate <= ceiling

    def fires(self, j: int, column: Column) -> np.ndarray | None:
        return column.missing if self.applies(column.feature) else None
