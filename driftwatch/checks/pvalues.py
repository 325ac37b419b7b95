"""Calibrated p-values: where an observed score falls in its null distribution, at the window's own sample size."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

# Empirical p-values need this many null scores at least as extreme; beyond, the upper tail is a fitted generalized
# Pareto distribution (peaks over threshold, as Knijnenburg et al. 2009 do for permutation p-values).
MIN_EXCEEDANCES = 10
# Extrapolated p-values are not reported below this: a fitted tail says "far out", not how far.
P_FLOOR = 1e-10


def empirical_p(null: np.ndarray, observed: float, u: float) -> tuple[float, int]:
    """Randomised Monte Carlo p-value (G + u (E + 1)) / (B + 1), exactly uniform with ties; and G + E."""
    b = null.size
    left = int(np.searchsorted(null, observed, "left"))
    right = int(np.searchsorted(null, observed, "right"))
    greater, equal = b - right, right - left
    return (greater + u * (equal + 1)) / (b + 1), greater + equal


@lru_cache(maxsize=4096)
def _tail(null_bytes: bytes) -> tuple[float, float, float, int] | None:
    null = np.frombuffer(null_bytes)
    b = null.size
    k = max(25, b // 10)
    if b < 2 * k:
        return None
    threshold = float(null[b - k - 1])
    excess = null[b - k :] - threshold
    if np.unique(excess).size < 20 or not np.all(np.isfinite(excess)):
        return None  # a discrete or degenerate tail: empirical p-values only
    from scipy.stats import genpareto

    try:
        shape, _, scale = genpareto.fit(excess, floc=0)
    except (ValueError, RuntimeError, FloatingPointError):
        return None
    if not (math.isfinite(shape) and math.isfinite(scale) and scale > 0):
        return None
    return threshold, shape, scale, k


def tail_p(null: np.ndarray, observed: float) -> float | None:
    """The p-value of a score beyond most of the null, from a generalized Pareto fit to its top 10% (None: no fit)."""
    fit = _tail(np.ascontiguousarray(null, dtype=np.float64).tobytes())
    if fit is None:
        return None
    threshold, shape, scale, k = fit
    if observed <= threshold:
        return None
    from scipy.stats import genpareto

    sf = float(genpareto.sf(observed - threshold, shape, 0, scale))
    return max(P_FLOOR, k / (null.size + 1) * sf)


def null_p(null: np.ndarray, observed: float, u: float) -> float:
    """Calibrated p-value of `observed` (extremeness scale) against one null, randomised over ties by `u`."""
    if null.size == 0 or math.isnan(observed):
        return math.nan
    p, at_least = empirical_p(null, observed, u)
    if at_least < MIN_EXCEEDANCES:
        fitted = tail_p(null, observed)
        if fitted is not None:
            return fitted
    return p


def interpolate(m: int, lo: int, hi: int, p_lo: float, p_hi: float) -> float:
    """The p-value at size `m` between grid sizes `lo` and `hi`, linear in log size on the log p scale."""
    if lo == hi:
        return p_lo
    w = (math.log(m) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return float(math.exp((1 - w) * math.log(p_lo) + w * math.log(p_hi)))
