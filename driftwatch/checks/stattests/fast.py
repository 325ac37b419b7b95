"""Exact fast paths for evidently's default tests, computed from the cached profile without re-sorting it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats
from scipy.spatial import distance

from driftwatch.checks.stattests.base import CountedLabels, CurrentValues, StatTest
from driftwatch.reference.profile import FeatureProfile
from driftwatch.types import Kind

# Each function restates one evidently 0.7.23 computation step by step (same arrays, same order of
# floating-point operations where it matters); tests/stattests/test_equivalence.py holds them to 1e-9.


def wasserstein_norm(reference: FeatureProfile, current: np.ndarray) -> float:
    """Wasserstein-1 distance divided by the reference std (floored at 0.001), as evidently's `wasserstein`."""
    assert reference.numeric is not None
    u = reference.numeric.values  # already sorted
    v = np.sort(current)
    merged = np.concatenate((u, v))
    # Stable argsort of two sorted runs is a linear merge; counting u's elements along it gives the same CDF
    # indices as scipy's two searchsorted calls everywhere the step width (delta) is non-zero, so the sum of
    # |F_u - F_v| * delta is bit-for-bit the same.
    order = np.argsort(merged, kind="stable")
    all_values = merged[order]
    del merged
    deltas = np.diff(all_values)
    del all_values
    u_idx = np.cumsum(order[:-1] < u.size)
    del order
    v_idx = np.arange(1, u_idx.size + 1)
    v_idx -= u_idx
    # In-place steps from here on: the same arithmetic as scipy's, without a dozen live 1M-element temporaries.
    u_cdf = u_idx / u.size
    del u_idx
    v_cdf = v_idx / v.size
    del v_idx
    u_cdf -= v_cdf
    del v_cdf
    np.abs(u_cdf, out=u_cdf)
    u_cdf *= deltas
    wd = float(np.sum(u_cdf))
    return wd / max(reference.numeric.std, 0.001)


def _fill_zeroes(percents: np.ndarray) -> np.ndarray:
    nonzero = percents[percents != 0]
    smallest = nonzero.min()
    np.place(percents, percents == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return percents


def binned_percents(
    reference: FeatureProfile, current: CurrentValues, kind: Kind, feel_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Shares per bin (numeric with > 20 distinct values: Sturges bins) or per value, as evidently bins them."""
    n_ref = reference.valid
    if kind == Kind.NUMERIC and reference.numeric is not None and reference.numeric.n_unique > 20:
        u = reference.numeric.values
        cur = np.asarray(current)
        lo, hi = min(u[0], cur.min()), max(u[-1], cur.max())
        edges = _sturges_edges(lo, hi, u.size + cur.size)
        left = u.searchsorted(edges[:-1], "left")
        ref_counts = np.diff(np.append(left, u.size))
        ref_pct = ref_counts / n_ref
        cur_pct = np.histogram(cur, edges)[0] / len(cur)
    else:
        ref_values, ref_counts = _value_counts_reference(reference)
        cur_values, cur_counts = _value_counts(current)
        keys = list(set(ref_values.tolist()) | set(cur_values.tolist()))
        ref_map = dict(zip(ref_values.tolist(), ref_counts.tolist(), strict=True))
        cur_map = dict(zip(cur_values.tolist(), cur_counts.tolist(), strict=True))
        ref_pct = np.array([ref_map.get(k, 0) / n_ref for k in keys])
        cur_pct = np.array([cur_map.get(k, 0) / len(current) for k in keys])
    if feel_zeroes:
        ref_pct, cur_pct = _fill_zeroes(ref_pct), _fill_zeroes(cur_pct)
    return ref_pct, cur_pct


def _sturges_edges(lo: float, hi: float, n: int) -> np.ndarray:
    # numpy's histogram_bin_edges(combined, "sturges") needs only the combined min, max and size.
    first, last = float(lo), float(hi)
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (float(hi) - float(lo)) / (np.log2(n) + 1.0)
    bins = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, bins + 1, endpoint=True)


def _value_counts_reference(reference: FeatureProfile) -> tuple[np.ndarray, np.ndarray]:
    if reference.categorical is not None:
        return reference.categorical.categories, reference.categorical.counts
    assert reference.numeric is not None
    return np.unique(reference.numeric.values, return_counts=True)


def _value_counts(current: CurrentValues) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(current, CountedLabels):
        return current.values, current.counts
    if isinstance(current, pa.Array | pa.ChunkedArray):
        vc = pc.value_counts(current)
        return vc.field("values").to_numpy(zero_copy_only=False), vc.field("counts").to_numpy()
    return np.unique(current, return_counts=True)


def chisquare_p(reference: FeatureProfile, current: CurrentValues) -> float:
    """Chi-square goodness of fit of current counts to reference shares, as evidently's `chisquare`."""
    ref_values, ref_counts = _value_counts_reference(reference)
    cur_values, cur_counts = _value_counts(current)
    keys = list(set(ref_values.tolist()) | set(cur_values.tolist()))
    ref_map = dict(zip(ref_values.tolist(), ref_counts.tolist(), strict=True))
    cur_map = dict(zip(cur_values.tolist(), cur_counts.tolist(), strict=True))
    k_norm = len(current) / reference.valid
    f_exp = [ref_map.get(k, 0) * k_norm for k in keys]
    f_obs = [cur_map.get(k, 0) for k in keys]
    # A category unseen in the reference has zero expected count: the statistic is inf and p is 0, as in evidently.
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.chisquare(f_obs, f_exp)[1])


def homogeneity_chi2(reference: FeatureProfile, current: CurrentValues) -> float:
    """Pearson's chi-square of the 2 x k table of reference and current counts: a two-sample homogeneity statistic.

    Unlike the goodness-of-fit form, expected counts pool both samples, so a category one side lacks adds a finite
    amount instead of an infinite statistic.
    """
    ref_values, ref_counts = _value_counts_reference(reference)
    cur_values, cur_counts = _value_counts(current)
    ref_map = dict(zip(ref_values.tolist(), ref_counts.tolist(), strict=True))
    cur_map = dict(zip(cur_values.tolist(), cur_counts.tolist(), strict=True))
    keys = list(set(ref_map) | set(cur_map))
    observed = np.array([[ref_map.get(k, 0) for k in keys], [cur_map.get(k, 0) for k in keys]], dtype=np.float64)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    return float(np.sum((observed - expected) ** 2 / expected))


def ks_scaled_distance(reference: FeatureProfile, current: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance times sqrt(n m / (n + m)): ks's statistic, put on one scale across window sizes.

    At fixed sample sizes its order is that of ks_2samp's p-value, so it ranks a null the same way; scipy's exact
    p-value costs milliseconds per call, which 500 replicates per null cannot afford, and only the rank is needed.
    """
    assert reference.numeric is not None
    u = reference.numeric.values  # already sorted
    v = np.sort(np.asarray(current))
    both = np.concatenate((u, v))
    d = np.max(np.abs(u.searchsorted(both, "right") / u.size - v.searchsorted(both, "right") / v.size))
    return float(d * np.sqrt(u.size * v.size / (u.size + v.size)))


def z_squared(reference: FeatureProfile, current: CurrentValues) -> float:
    """The square of evidently's two-proportion z statistic (first sorted label against the rest), from counts.

    Monotone in the z-test's p-value; evidently's own relabels each value through pandas, which is too slow per
    replicate.
    """
    ref_values, ref_counts = _value_counts_reference(reference)
    cur_values, cur_counts = _value_counts(current)
    ref_map = dict(zip(ref_values.tolist(), ref_counts.tolist(), strict=True))
    cur_map = dict(zip(cur_values.tolist(), cur_counts.tolist(), strict=True))
    first = min(set(ref_map) | set(cur_map))
    n1, n2 = float(sum(ref_map.values())), float(sum(cur_map.values()))
    # evidently scores the indicator "not the first label"; its share is what the z statistic compares
    p1, p2 = 1.0 - ref_map.get(first, 0) / n1, 1.0 - cur_map.get(first, 0) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    return 0.0 if var == 0.0 else float((p1 - p2) ** 2 / var)


class FastStatTest(StatTest):
    """Profile-based implementations of wasserstein, jensenshannon, psi, chisquare and ks."""

    def compare(
        self, reference: FeatureProfile, current: CurrentValues, kind: Kind, threshold: float
    ) -> tuple[float, bool]:
        if self.name == "wasserstein":
            score = wasserstein_norm(reference, np.asarray(current))
        elif self.name == "jensenshannon":
            ref_pct, cur_pct = binned_percents(reference, current, kind, feel_zeroes=False)
            score = float(distance.jensenshannon(ref_pct, cur_pct, None))
        elif self.name == "psi":
            ref_pct, cur_pct = binned_percents(reference, current, kind, feel_zeroes=True)
            score = float(np.sum((ref_pct - cur_pct) * np.log(ref_pct / cur_pct)))
        elif self.name == "chisquare":
            score = chisquare_p(reference, current)
        elif self.name == "ks":
            assert reference.numeric is not None
            score = float(stats.ks_2samp(reference.numeric.values, np.asarray(current))[1])
        else:
            raise KeyError(self.name)
        return score, self.spec.drifted(score, threshold)


FAST_TESTS = frozenset({"wasserstein", "jensenshannon", "psi", "chisquare", "ks"})
