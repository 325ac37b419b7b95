"""From per-feature scores and p-values to `drifted`: evidently's thresholds, or calibrated p-values against alpha."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from driftwatch.checks.results import FeatureResult
from driftwatch.checks.stattests import lookup
from driftwatch.types import MultipleTesting, Status

# Statuses that carry a verdict; the others (too little data, errors) neither count as drift nor against it.
JUDGED = frozenset({Status.OK, Status.MISSING_COLUMN, Status.NO_VALID_VALUES, Status.MOSTLY_MISSING})


def adjust(ps: np.ndarray, how: MultipleTesting) -> np.ndarray:
    """p-values adjusted across one check's features (Bonferroni or Benjamini-Hochberg), or unchanged."""
    if how == MultipleTesting.BONFERRONI:
        return np.minimum(ps * len(ps), 1.0)
    if how == MultipleTesting.BH:
        from scipy.stats import false_discovery_control

        return false_discovery_control(ps, method="bh")
    return ps


def by_threshold(results: list[FeatureResult], how: MultipleTesting) -> list[FeatureResult]:
    """evidently's rule: each test's score against its threshold, p-value tests after the correction, if any."""
    out = [replace(r, decision="threshold" if r.status in JUDGED else "none") for r in results]
    if how == MultipleTesting.NONE:
        return out
    idx = [i for i, r in enumerate(out) if r.status == Status.OK and r.score_kind == "p_value"]
    if not idx:
        return out
    adjusted = adjust(np.array([out[i].score for i in idx], dtype=np.float64), how)
    for i, adj in zip(idx, adjusted, strict=True):
        r = out[i]
        assert r.method is not None and r.threshold is not None
        out[i] = replace(r, adjusted_p_value=float(adj), drifted=lookup(r.method).drifted(float(adj), r.threshold))
    return out


def by_calibration(results: list[FeatureResult], how: MultipleTesting, level: float) -> list[FeatureResult]:
    """A feature drifts when its calibrated p-value, corrected across the judged features, is at most `level`."""
    idx = [i for i, r in enumerate(results) if r.status in JUDGED and r.p_value is not None]
    out = [replace(r, decision="none", drifted=False) for r in results]
    if not idx:
        return out
    adjusted = adjust(np.array([results[i].p_value for i in idx], dtype=np.float64), how)
    for i, adj in zip(idx, adjusted, strict=True):
        out[i] = replace(
            results[i],
            adjusted_p_value=None if how == MultipleTesting.NONE else float(adj),
            drifted=bool(adj <= level) and level > 0,
            decision="calibrated",
            level=level,
        )
    return out
