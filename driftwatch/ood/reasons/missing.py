"""unexpected_missing: a missing value where the reference (almost) never misses one."""

from __future__ import annotations

import numpy as np

from driftwatch.ood.reasons.base import Flags, Reason, register
from driftwatch.ood.rows import RowFrame


@register
class UnexpectedMissing(Reason):
    """A missing value in a feature whose reference missing share is at most max_reference_rate."""

    name = "unexpected_missing"

    def evaluate(self, frame: RowFrame) -> Flags:
        ceiling = self.settings.reasons.unexpected_missing.max_reference_rate
        fired = np.zeros((frame.rows, len(frame.columns)), dtype=bool)
        for j, col in enumerate(frame.columns):
            if col.feature.missing_rate <= ceiling:
                fired[:, j] = col.missing
        return Flags(fired)
