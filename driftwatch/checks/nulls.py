"""Null distributions of a test's score: what it looks like with no drift at one sample size, from the reference alone.

Each replicate draws a pseudo-reference and a pseudo-window from the reference's empirical distribution and scores
them with the same test and the same code as a live check, so the null carries both sources of noise a real check
has: the window's and the finite reference's. Two regimes bound the cost:

- two-sample bootstrap (reference of n rows and window of m rows both resampled) when n <= 50,000 or n <= 20 m;
  exact in both sample sizes;
- a fixed reference with a window of m' = n m / (n + m) rows, where the reference is large: the score's first-order
  variance is proportional to 1/n + 1/m, so drawing m' rows against the real reference matches it without
  resampling n rows per replicate.

Categorical replicates are multinomial counts (O(categories)), so unseen categories arise at the rate the reference's
rare categories imply, instead of giving p = 0.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from driftwatch.checks.stattests import get_stat_test, lookup
from driftwatch.checks.stattests.base import CountedLabels, CurrentValues
from driftwatch.checks.stattests.fast import homogeneity_chi2, ks_scaled_distance, z_squared
from driftwatch.reference.profile import CategoricalProfile, FeatureProfile, NumericProfile, ReferenceProfile
from driftwatch.types import Kind

log = logging.getLogger(__name__)

# Above this many reference rows a replicate keeps the real reference (second regime), unless n <= 20 m.
RESAMPLE_MAX_REFERENCE = 50_000
# A null costs at most about this many sampled values; past it the replicates shrink, never below MIN_REPLICATES.
VALUE_BUDGET = 300_000_000
MIN_REPLICATES = 100
# A null stops growing after this many seconds, once it has MIN_REPLICATES scores (a slow user-chosen test).
TIME_BUDGET_SECONDS = 30.0
# Sample-size grid: half-octaves anchored at 50,000 (the default max_sample_rows), so a saturated window needs one null.
_ANCHOR = 50_000


def grid_sizes(m: int) -> tuple[int, int]:
    """The grid sizes just below and above `m` (equal when `m` is on the grid or below the grid's floor of 8)."""
    if m <= 8:
        return m, m
    k = 2 * math.log2(m / _ANCHOR)
    lo, hi = round(_ANCHOR * 2 ** (math.floor(k) / 2)), round(_ANCHOR * 2 ** (math.ceil(k) / 2))
    if abs(m - lo) <= 0.01 * m:
        return lo, lo
    if abs(m - hi) <= 0.01 * m:
        return hi, hi
    return max(lo, 8), hi


def extremeness(score: float, score_kind: str) -> float:
    """A score on one scale where larger is further from the reference (p-values as -log p, floored)."""
    if score_kind == "p_value":
        return -math.log(max(score, 1e-300)) if math.isfinite(score) else math.nan
    return score


# Bumped when a calibration statistic changes, so that nulls kept on disk on the old scale are rebuilt.
STATISTIC_VERSION = 2
# Goodness-of-fit tests that treat the reference shares as exact are calibrated on the homogeneity form of their table.
HOMOGENEITY = frozenset({"chisquare", "g_test"})


def calibration_statistic(
    method: str, reference: FeatureProfile, current: CurrentValues, kind: Kind, score: float | None = None
) -> float:
    """The statistic a calibrated p-value is taken on, on the extremeness scale: the test's score, or its table's.

    ks and z are ranked by their statistic (scaled distance, z squared), in the same order as their p-value at fixed
    sample sizes and without a p-value's cost or its underflow to 0.
    """
    if method in HOMOGENEITY:
        return homogeneity_chi2(reference, current)
    if method == "ks":
        return ks_scaled_distance(reference, np.asarray(current))
    if method == "z":
        return z_squared(reference, current)
    if score is None:
        score, _ = get_stat_test(method).compare(reference, current, kind, lookup(method).default_threshold)
    return extremeness(float(score), lookup(method).score_kind)


def simulate(feature: FeatureProfile, method: str, m: int, replicates: int, seed: int) -> np.ndarray:
    """Sorted extremeness of `replicates` null scores of `method` at window size `m` (NaN replicates dropped)."""
    n = feature.valid
    resample = n <= RESAMPLE_MAX_REFERENCE or n <= 20 * m
    m_sim = m if resample else max(1, round(n * m / (n + m)))
    per = (n if resample else 0) + m_sim
    replicates = max(MIN_REPLICATES, min(replicates, VALUE_BUDGET // max(per, 1)))
    rng = np.random.default_rng(seed)
    draw = _numeric_draw if feature.numeric is not None else _categorical_draw
    out = np.full(replicates, np.nan)
    started = time.monotonic()
    for i in range(replicates):
        if i >= MIN_REPLICATES and time.monotonic() - started > TIME_BUDGET_SECONDS:
            break
        ref, cur = draw(feature, m_sim, resample, rng)
        try:
            out[i] = calibration_statistic(method, ref, cur, feature.kind)
        except (ValueError, ZeroDivisionError, FloatingPointError):
            out[i] = math.nan
    out = out[~np.isnan(out)]
    out.sort()
    return out


def _numeric_draw(
    feature: FeatureProfile, m: int, resample: bool, rng: np.random.Generator
) -> tuple[FeatureProfile, CurrentValues]:
    assert feature.numeric is not None
    u = feature.numeric.values
    n = u.size
    current = u[rng.integers(0, n, m)]
    if not resample:
        return feature, current
    # A sorted bootstrap resample of a sorted array, without sorting: repeat each value by its draw count.
    values = np.repeat(u, np.bincount(rng.integers(0, n, n), minlength=n))
    n_unique = int(np.count_nonzero(np.diff(values))) + 1
    profile = NumericProfile(
        values, n_unique, float(values[0]), float(values[-1]), float(values.mean()), float(values.std()), {}
    )
    return FeatureProfile(feature.schema, n, 0, 0, 0, numeric=profile), current


def _categorical_draw(
    feature: FeatureProfile, m: int, resample: bool, rng: np.random.Generator
) -> tuple[FeatureProfile, CurrentValues]:
    assert feature.categorical is not None
    cats, counts = feature.categorical.categories, feature.categorical.counts
    shares = counts / counts.sum()
    drawn = rng.multinomial(m, shares)
    current = CountedLabels(cats[drawn > 0], drawn[drawn > 0])
    if not resample:
        return feature, current
    ref = rng.multinomial(feature.valid, shares)
    keep = ref > 0
    profile = CategoricalProfile(cats[keep], ref[keep])
    return FeatureProfile(feature.schema, feature.valid, 0, 0, 0, categorical=profile), current


class NullCache:
    """Null distributions of one reference version, in memory and (when the profile has a cache folder) on disk."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._store_warned = False

    def get(self, feature: FeatureProfile, method: str, m: int, replicates: int, seed: int) -> np.ndarray:
        """The null of `method` on `feature` at size `m`, simulated once and then reused."""
        key = f"{_slug(feature.name)}-{method}-{m}-{replicates}-{seed}-s{STATISTIC_VERSION}"
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                return found
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:  # two checks needing the same null build it once
            with self._lock:
                found = self._memory.get(key)
            if found is None:
                found = self._load(key)
            if found is None:
                found = simulate(feature, method, m, replicates, _seed(feature.name, method, m, seed))
                self._store(key, found)
            with self._lock:
                self._memory[key] = found
        return found

    def _load(self, key: str) -> np.ndarray | None:
        if self.folder is None:
            return None
        try:
            values = np.load(self.folder / f"{key}.npy", allow_pickle=False)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a truncated or foreign file is rebuilt (np.load raises EOFError on an empty one)
            log.warning("null distribution rebuilt: unreadable file", extra={"file": f"{key}.npy", "error": repr(exc)})
            return None
        if values.ndim != 1 or values.dtype != np.float64:
            return None
        return values

    def _store(self, key: str, values: np.ndarray) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{key}.tmp{threading.get_ident()}.npy"
            np.save(tmp, values, allow_pickle=False)
            tmp.replace(self.folder / f"{key}.npy")
        except OSError as exc:  # a full or read-only disk costs a rebuild after restart, not the check
            if not self._store_warned:
                self._store_warned = True
                log.warning(
                    "null distributions not kept on disk: rebuilt after a restart",
                    extra={"folder": str(self.folder), "error": exc.strerror or repr(exc)},
                )


def _slug(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:12]


def _seed(feature: str, method: str, m: int, seed: int) -> int:
    digest = hashlib.sha256(f"{feature}\0{method}\0{m}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


_CACHES: OrderedDict[tuple[str, str, str], NullCache] = OrderedDict()
_CACHES_LOCK = threading.Lock()
_MAX_CACHED_PROFILES = 16


def null_cache(profile: ReferenceProfile) -> NullCache:
    """The cache of one profile (by monitor, reference version and cache folder); the last 16 stay in memory."""
    folder = Path(profile.cache_dir) / "nulls" if profile.cache_dir else None
    key = (profile.monitor, profile.version, str(folder))
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = NullCache(folder)
            while len(_CACHES) > _MAX_CACHED_PROFILES:
                _CACHES.popitem(last=False)
        _CACHES.move_to_end(key)
        return cache
