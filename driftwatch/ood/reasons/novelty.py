"""novel: a row far from every reference row, at a conformal p-value below ood.alpha."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from driftwatch.ood.detector import Detector, detector_for, encode
from driftwatch.ood.reasons.base import Flags, Reason, register
from driftwatch.ood.rows import RowFrame

# A novel row names the features that carry at least this share of its distance to the nearest reference row.
CONTRIBUTION_SHARE = 0.2
TOP_FEATURES = 3


@register
class Novel(Reason):
    """Nearest-neighbour distance in the encoded feature space, calibrated on held-out reference rows."""

    name = "novel"

    @cached_property
    def detector(self) -> Detector | str:
        return detector_for(self.profile, self.settings.reasons.novel, self.settings.alpha)

    @property
    def unavailable(self) -> str | None:
        found = self.detector
        return found if isinstance(found, str) else None

    def evaluate(self, frame: RowFrame) -> Flags:
        detector = self.detector
        fired = frame.blank()
        if isinstance(detector, str):
            return Flags(fired)
        x = encode(detector.enc, frame)
        scores, nearest = detector.score(x)
        p = detector.p_values(scores)
        novel = np.flatnonzero(p <= self.settings.alpha)
        if novel.size:
            share = detector.contributions(x[novel], nearest[novel], len(frame.columns))
            top = np.argsort(-share, axis=1, kind="stable")[:, :TOP_FEATURES]
            ranked = np.zeros_like(share, dtype=bool)
            np.put_along_axis(ranked, top, True, axis=1)
            named = ranked & (share >= CONTRIBUTION_SHARE)
            named[np.arange(novel.size), top[:, 0]] = True  # the largest share is always named
            fired[novel] = named
        return Flags(fired, p_values=p, scores=scores)
