"""type_error: a value that cannot be read as its feature's kind."""

from __future__ import annotations

import numpy as np

from driftwatch.ood.reasons.base import Flags, Reason, register
from driftwatch.ood.rows import RowFrame


@register
class Unreadable(Reason):
    """Text where a number belongs, a list or object where a label belongs."""

    name = "type_error"

    def evaluate(self, frame: RowFrame) -> Flags:
        if not frame.columns:
            return Flags(np.zeros((frame.rows, 0), dtype=bool))
        return Flags(np.stack([c.unreadable for c in frame.columns], axis=1))
