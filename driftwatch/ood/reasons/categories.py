"""unseen_category: labels the reference never had, or had too rarely to count as known."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.config.ood import OodSettings
from driftwatch.ood.reasons.base import Rule, register
from driftwatch.ood.rows import Column
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile


@register
class UnseenCategory(Rule):
    """A categorical value outside the reference's categories with at least min_frequency of its rows."""

    name = "unseen_category"
    # The text signal whose derived features this reason judges (None: the monitored categorical features).
    signal: ClassVar[str | None] = None
    # Values that are not categories of that signal ("none" for a text without letters), never unseen.
    not_values: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, profile: ReferenceProfile, settings: OodSettings):
        super().__init__(profile, settings)
        floor = self.min_frequency = getattr(settings.reasons, self.name).min_frequency
        # Per categorical feature, the categories that count as seen.
        self.known: dict[str, pa.Array] = {}
        for f in profile.judged:
            if f.categorical is None or not self._judges(f):
                continue
            cats, counts = f.categorical.categories, f.categorical.counts
            keep = counts >= floor * f.rows if floor > 0 else counts > 0
            known = [str(c) for c in cats[keep]]
            self.known[f.name] = pa.array(sorted({*known, *self.not_values}), pa.string())

    def _judges(self, f: FeatureProfile) -> bool:
        if self.signal is None:
            return f.schema.signal_of is None
        return f.schema.signal_of is not None and f.name == f"{f.schema.signal_of}.{self.signal}"

    def applies(self, feature: FeatureProfile) -> bool:
        return feature.name in self.known

    def fires(self, j: int, column: Column) -> np.ndarray | None:
        seen = self.known.get(column.feature.name)
        if column.labels is None or seen is None or column.absent:
            return None
        # is_in says false, not null, for a missing label: missing values are unexpected_missing's to judge
        inside = pc.is_in(column.labels, value_set=seen).to_numpy(zero_copy_only=False)
        return ~inside & column.labels.is_valid().to_numpy(zero_copy_only=False)
