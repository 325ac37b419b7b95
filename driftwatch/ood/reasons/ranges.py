"""out_of_range: numeric values outside the reference's central range, widened by a tolerance."""

from __future__ import annotations

import numpy as np

from driftwatch.config.ood import OodSettings
from driftwatch.ood.reasons.base import Flags, Reason, register
from driftwatch.ood.rows import RowFrame
from driftwatch.reference.profile import ReferenceProfile


@register
class OutOfRange(Reason):
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

    def evaluate(self, frame: RowFrame) -> Flags:
        fired = np.zeros((frame.rows, len(frame.columns)), dtype=bool)
        bounds = self.bounds
        for j, col in enumerate(frame.columns):
            limits = bounds.get(col.feature.name)
            if col.numbers is None or limits is None:
                continue
            with np.errstate(invalid="ignore"):
                # +-inf is outside any range; NaN (missing or unreadable) is another reason's
                fired[:, j] = (col.numbers < limits[0]) | (col.numbers > limits[1])
        return Flags(fired)
