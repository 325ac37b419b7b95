"""A feature's calibrated p-value: its test's score against the reference's own null at the window's size."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.checks.nulls import calibration_statistic, grid_sizes, null_cache
from driftwatch.checks.pvalues import interpolate, null_p
from driftwatch.checks.stattests.base import CurrentValues, Outcome
from driftwatch.config import DriftSettings
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile

# Tests whose own p-value is already a two-sample permutation p-value (and costly enough that resampling them B
# times per grid size is not worth it): their p-value is the calibrated one.
OWN_NULL = frozenset({"empirical_mmd", "TVD"})


def score_p_value(
    profile: ReferenceProfile,
    feature: FeatureProfile,
    method: str,
    values: CurrentValues,
    outcome: Outcome,
    settings: DriftSettings,
) -> tuple[float, str]:
    """The calibrated p-value of one test outcome on the current values, and how it was obtained."""
    if outcome.exact_p_value is not None:
        return outcome.exact_p_value, "exact"
    if method in OWN_NULL:
        return outcome.score, "exact"
    single = single_value_p(feature, values)
    if single is not None:
        return single, "exact"
    m = len(values)
    observed = calibration_statistic(method, feature, values, feature.kind, outcome.score)
    cache = null_cache(profile)
    cal = settings.calibration
    lo, hi = grid_sizes(m)
    u = _tie_breaker(profile.version, feature.name, values, cal.seed)
    p_lo = null_p(cache.get(feature, method, lo, cal.replicates, cal.seed), observed, u)
    p_hi = p_lo if hi == lo else null_p(cache.get(feature, method, hi, cal.replicates, cal.seed), observed, u)
    return interpolate(m, lo, hi, p_lo, p_hi), "bootstrap"


def single_value_p(feature: FeatureProfile, values: CurrentValues) -> float | None:
    """One-sided Fisher exact test of the share of current values other than the reference's only value (None: the
    reference has several values).

    A reference with one distinct value (one category; a text signal of a monolingual reference: one language, one
    script, no OOV) has a constant null, which puts every score above zero at the same Monte Carlo floor 1 / (B + 1)
    whatever its size; its evidence is the count of current values unlike the reference's, which this test weighs.
    """
    if feature.categorical is not None and feature.categorical.n_unique == 1:
        only = str(feature.categorical.categories[0])
        labels = values if isinstance(values, pa.Array) else pa.array(values)
        same = int(pc.sum(pc.equal(labels.cast(pa.string()), only)).as_py() or 0)
    elif feature.numeric is not None and feature.numeric.n_unique == 1:
        same = int(np.count_nonzero(np.asarray(values) == feature.numeric.values[0]))
    else:
        return None
    other = len(values) - same
    if other == 0:
        return 1.0
    from scipy.stats import fisher_exact

    return float(fisher_exact([[0, feature.valid], [other, same]], alternative="less").pvalue)


def missing_p_value(feature: FeatureProfile, rows: int, usable: int) -> float | None:
    """Two-sided Fisher exact test of the share of unusable values against the reference's (None: none on either side).

    Unusable values are missing, non-finite or of the wrong type: what the stat tests drop.
    """
    ref_bad = feature.rows - feature.valid
    cur_bad = rows - usable
    if ref_bad == 0 and cur_bad == 0:
        return None
    from scipy.stats import fisher_exact

    table = [[ref_bad, feature.valid], [cur_bad, usable]]
    return float(fisher_exact(table).pvalue)


def combine(*p_values: float | None) -> float | None:
    """One p-value for a feature from its informative components (Bonferroni: the smallest times their number)."""
    present = [p for p in p_values if p is not None and not math.isnan(p)]
    if not present:
        return None
    return min(1.0, len(present) * min(present))


def _tie_breaker(version: str, feature: str, values: CurrentValues, seed: int) -> float:
    # Uniform over windows but deterministic in the data: the same window gives the same p-value on every run.
    h = hashlib.sha256(f"{version}\0{feature}\0{len(values)}\0{seed}".encode())
    if isinstance(values, np.ndarray):
        h.update(np.ascontiguousarray(values).tobytes())
    elif isinstance(values, pa.Array):
        for buf in values.buffers():
            if buf is not None:
                h.update(memoryview(buf))
    digest = h.digest()
    return (int.from_bytes(digest[:8], "little") + 1) / 2.0**64
