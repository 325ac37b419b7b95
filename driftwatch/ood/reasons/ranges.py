"""out_of_range: numeric values outside the reference's central range, widened by a tolerance."""

from __future__ import annotations

import numpy as np

from driftwatch.config.ood import OodSettings
from driftwatch.ood.reasons.base import Rule, register
from driftwatch.ood.rows import Column
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile


@register
class OutOfRange(Rule):
    """A finite value below the low quantile or above the high one, each moved out by tolerance x their gap."""

    name = "out_of_range"

    def __init__(self, profile: ReferenceProfile, settings: OodSettings):
        super().__init__(profile, settings)
        rule = settings.reasons.out_of_range
        # Per numeric feature with reference values, the (low, high) bounds values must stay within.
        self.bounds: dict[str, tuple[float, float]] = {}
        for f in profile.features:
            if f.numeric is None or f.numeric.values.size == 0:
                continue
            lo, hi = np.quantile(f.numeric.values, rule.quantiles)
            pad = rule.tolerance * (hi - lo)
            self.bounds[f.name] = (float(lo - pad), float(hi + pad))

    def applies(self, feature: FeatureProfile) -> bool:
        return feature.name in self.bounds

    def fires(self, j: int, column: Column) -> np.ndarray | None:
        limits = self.bounds.get(column.feature.name)
        if column.numbers is None or limits is None:
            return None
        # +-inf is outside any range; NaN (missing or unreadable) compares false: it is another reason's
        return (column.numbers < limits[0]) | (column.numbers > limits[1])
