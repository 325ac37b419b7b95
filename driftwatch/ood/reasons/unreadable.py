"""type_error: a value that cannot be read as its feature's kind."""

from __future__ import annotations

import numpy as np

from driftwatch.ood.reasons.base import Rule, register
from driftwatch.ood.rows import Column


@register
class Unreadable(Rule):
    """Text where a number belongs, a list or object where a label belongs."""

    name = "type_error"

    def fires(self, j: int, column: Column) -> np.ndarray | None:
        return column.unreadable if self.applies(column.feature) else None
