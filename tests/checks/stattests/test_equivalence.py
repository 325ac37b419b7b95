"""The engine's scores equal evidently's own Report, and each fast path equals evidently's implementation."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from driftwatch.checks.engine import CheckResult
from driftwatch.checks.stattests import STAT_TESTS, get_stat_test
from driftwatch.checks.stattests.fast import FAST_TESTS
from driftwatch.types import Kind

from .helpers import FINANCE, HOME, check, converging_text_classifier, feature, profile, report_scores, texts

TOL = 1e-9
SEEDS = (0, 1, 2)

# evidently's chisquare and psi divide by zero for categories one side lacks (inf statistic, p = 0, as intended).
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

# ---- engine vs Report ------------------------------------------------------------------------------------

# Column prefix -> the default method evidently picks for it (and the feature kind).
PREFIXES = {
    "w_": ("wasserstein", Kind.NUMERIC),
    "jsc_": ("jensenshannon", Kind.CATEGORICAL),
    "jsn_": ("jensenshannon", Kind.NUMERIC),
    "abs_": ("abs_text_content_drift", Kind.TEXT),
    "ks_": ("ks", Kind.NUMERIC),
    "chic_": ("chisquare", Kind.CATEGORICAL),
    "chin_": ("chisquare", Kind.NUMERIC),
    "zc_": ("z", Kind.CATEGORICAL),
    "zn_": ("z", Kind.NUMERIC),
    "perc_": ("perc_text_content_drift", Kind.TEXT),
}
# Per seed: (large reference rows, its current rows, small reference rows, its current rows).
SIZES = {0: (1031, 400, 1000, 300), 1: (1200, 600, 600, 250), 2: (3000, 500, 800, 400)}
SHIFT = {0: 0.0, 1: 0.3, 2: -0.6}
CATS = np.array(["alpha", "beta", "gamma", "delta"])


def _expected(column: str) -> tuple[str, Kind]:
    return next(v for p, v in PREFIXES.items() if column.startswith(p))


def _numeric_columns(rng: np.random.Generator, prefix: str, n: int, shift: float, current: bool) -> dict:
    normal = rng.normal(10.0 + 2.0 * shift * current, 2.0, n)  # shifted by `shift` standard deviations
    # Missing values on both sides. In the large reference exactly 30, so that 1031 rows leave 1001 valid ones:
    # evidently counts the reference rows after dropping NaN, and so must the engine.
    if prefix == "w_" and not current:
        normal[rng.choice(n, 30, replace=False)] = np.nan
    else:
        normal[rng.random(n) < 0.03] = np.nan
    if current and shift < 0:
        normal[rng.random(n) < 0.02] = np.inf  # dropped by the Report and the engine alike
    # Skewed with many ties: lognormal rounded to one decimal.
    skew = np.round(rng.lognormal(0.5 + shift * current, 0.8, n), 1)
    # Integers; the current range extends past the reference's when shifted.
    ints = rng.integers(int(10 * shift * current), 40 + int(10 * abs(shift) * current), n).astype(float)
    return {f"{prefix}normal": normal, f"{prefix}skew": skew, f"{prefix}int": ints}


def _categorical(rng: np.random.Generator, n: int, seed: int, current: bool, levels: int = 4) -> np.ndarray:
    cats = CATS[:levels]
    p = np.linspace(1.0, 2.0, levels)
    if current and seed == 1:  # a category the reference never had
        cats, p = np.append(cats, "epsilon"), np.append(p, 0.5)
    if current and seed == 2:  # a category missing from the current data, other shares moved
        cats, p = cats[1:], p[::-1][1:]
    out = rng.choice(cats, n, p=p / p.sum()).astype(object)
    if current and seed == 1:
        out[rng.random(n) < 0.05] = None
    return out


def _texts(rng: np.random.Generator, n: int, seed: int, current: bool) -> np.ndarray:
    share = {0: 0.0, 1: 0.5, 2: 0.15}[seed] if current else 0.0
    k = int(n * share)
    return rng.permutation(np.r_[texts(rng, n - k, HOME), texts(rng, k, FINANCE)])


def _frames(seed: int, large: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1000 + seed)
    n_large, c_large, n_small, c_small = SIZES[seed]
    shift = SHIFT[seed]
    frames = []
    for current in (False, True):
        n = (c_large if current else n_large) if large else (c_small if current else n_small)
        cols: dict = {}
        if large:
            cols.update(_numeric_columns(rng, "w_", n, shift, current))
            cols["jsc_cat"] = _categorical(rng, n, seed, current)
            # Numeric with at most 5 distinct values in reference and current together.
            cols["jsn_few"] = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0 if current and seed == 1 else 4.0], n)
            cols["abs_text"] = _texts(rng, n, seed, current)
        else:
            cols.update(_numeric_columns(rng, "ks_", n, shift, current))
            cols["chic_cat"] = _categorical(rng, n, seed, current)
            cols["chin_few"] = rng.choice([0.0, 1.0, 2.0, 3.0 if current and seed != 0 else 2.0], n)
            cols["zc_flag"] = rng.choice(np.array(["no", "yes"], dtype=object), n, p=[0.7 - shift / 4, 0.3 + shift / 4])
            cols["zn_flag"] = rng.choice([0, 1], n, p=[0.6, 0.4] if not current else [0.5 + shift / 4, 0.5 - shift / 4])
            cols["perc_text"] = _texts(rng, n, seed, current)
        frames.append(pd.DataFrame(cols))
    return frames[0], frames[1]


@cache
def _compare(seed: int, large: bool) -> tuple[CheckResult, dict[str, tuple[str, float]]]:
    ref, cur = _frames(seed, large)
    kinds = {c: _expected(c)[1] for c in ref.columns}
    prof = profile(ref, {c: k.value for c, k in kinds.items()})
    result = check(prof, cur)
    by_kind = {k: [c for c in ref.columns if kinds[c] == k and not c.startswith("perc_")] for k in Kind}
    # The engine trains the text classifier to convergence; the Report is held to the same (see test_text.py).
    with converging_text_classifier():
        scores = report_scores(
            ref, cur, numerical=by_kind[Kind.NUMERIC], categorical=by_kind[Kind.CATEGORICAL], text=by_kind[Kind.TEXT]
        )
        slow = [c for c in ref.columns if c.startswith("perc_")]
        if slow:  # one stat-test run per column rather than the preset's three
            scores |= report_scores(ref[slow], cur[slow], text=slow, per_column=True)
    return result, scores


CASES = [
    (seed, large, column) for seed in SEEDS for large in (True, False) for column in _frames(seed, large)[0].columns
]


@pytest.mark.parametrize(("seed", "large", "column"), CASES, ids=[f"{c}-seed{s}" for s, _, c in CASES])
def test_engine_score_equals_report(seed: int, large: bool, column: str) -> None:
    result, scores = _compare(seed, large)
    method, _ = _expected(column)
    fr = feature(result, column)
    assert fr.status == "ok", fr.message
    assert fr.method == method
    display, value = scores[column]
    assert STAT_TESTS[fr.method].display_name == display
    assert fr.score is not None
    assert abs(fr.score - value) <= TOL, (fr.score, value)
    if method != "perc_text_content_drift":  # compares with a bootstrap percentile, not the threshold
        assert fr.drifted == STAT_TESTS[method].drifted(value, fr.threshold)


def test_datasets_cover_shifted_and_unshifted_data() -> None:
    """The equivalence data must include drift and no drift for the scores to be worth comparing."""
    drifted = {seed: {f.name for f in _compare(seed, True)[0].features if f.drifted} for seed in SEEDS}
    assert "w_normal" not in drifted[0]
    assert {"w_normal", "w_skew", "w_int", "abs_text"} <= drifted[1]
    assert {"jsc_cat", "w_normal"} <= drifted[2]
    small = {seed: {f.name for f in _compare(seed, False)[0].features if f.drifted} for seed in SEEDS}
    assert not small[0] & {"ks_normal", "ks_skew", "chic_cat"}
    assert {"ks_normal", "chic_cat", "chin_few", "perc_text"} <= small[1]


# ---- fast paths vs evidently's implementation --------------------------------------------------------------


def _numeric_datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(77)
    return {
        "normal": (rng.normal(size=1500), rng.normal(0.3, 1.0, 400)),
        "beyond-range": (rng.uniform(0, 1, 1200), rng.uniform(-0.5, 1.7, 300)),
        "wide": (rng.normal(size=1000), rng.normal(0.0, 10.0, 200)),
        "ties": (np.round(rng.lognormal(0, 1, 2000), 1), np.round(rng.lognormal(0.2, 1.1, 500), 1)),
        "ints-20-distinct": (rng.integers(0, 20, 1500).astype(float), rng.integers(0, 25, 300).astype(float)),
        "ints-21-distinct": (rng.integers(0, 21, 1500).astype(float), rng.integers(-3, 21, 300).astype(float)),
        "few": (rng.integers(0, 4, 1200).astype(float), rng.integers(1, 6, 300).astype(float)),
        "constant-current": (rng.normal(size=1000), np.full(200, 0.25)),
        "few-ref-continuous-current": (rng.integers(0, 11, 1000).astype(float), rng.normal(5, 3, 300)),
        "tiny-std": (rng.normal(0, 1e-5, 1100), rng.normal(1e-5, 1e-5, 300)),
        # Over 10000 rows, so some bin shares fall to 1e-4 or below: psi's zero filling switches rule there.
        "heavy-tail": (rng.standard_t(2, 12000), rng.standard_t(2, 400) * 1.3),
    }


def _categorical_datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(78)
    cats = np.array(["a", "b", "c", "d", "e"], dtype=object)
    p = np.array([0.4, 0.25, 0.2, 0.1, 0.05])
    return {
        "similar": (rng.choice(cats, 2000, p=p), rng.choice(cats, 500, p=[0.35, 0.3, 0.2, 0.1, 0.05])),
        "new-category": (rng.choice(cats, 2000, p=p), rng.choice(np.append(cats, "f"), 500)),
        "missing-category": (rng.choice(cats, 2000, p=p), rng.choice(cats[:3], 500)),
        "one-category": (rng.choice(cats, 1500, p=p), np.full(300, "b", dtype=object)),
        "binary": (rng.choice(cats[:2], 1500), rng.choice(cats[:2], 300, p=[0.6, 0.4])),
        # A category seen once in 12000 rows (share <= 1e-4) and absent from current: psi fills zeros differently.
        "rare-category": (
            np.r_[rng.choice(cats[:4], 11999), ["e"]].astype(object),
            rng.choice(cats[:3], 500, p=[0.5, 0.3, 0.2]),
        ),
    }


FAST_CASES = [(name, Kind.NUMERIC, ds) for name in sorted(FAST_TESTS) for ds in _numeric_datasets()] + [
    (name, Kind.CATEGORICAL, ds)
    for name in sorted(FAST_TESTS)
    if name not in ("wasserstein", "ks")
    for ds in _categorical_datasets()
]


def test_the_fast_tests_are_the_five_defaults_and_psi() -> None:
    assert {"wasserstein", "jensenshannon", "psi", "chisquare", "ks"} == FAST_TESTS


@pytest.mark.parametrize(("name", "kind", "dataset"), FAST_CASES)
def test_fast_path_equals_evidently(name: str, kind: Kind, dataset: str) -> None:
    ref, cur = (_numeric_datasets() if kind == Kind.NUMERIC else _categorical_datasets())[dataset]
    feat = profile({"x": ref}, {"x": kind.value}).feature("x")
    current = cur if kind == Kind.NUMERIC else pa.array(cur.tolist(), pa.string())
    threshold = STAT_TESTS[name].default_threshold
    fast = get_stat_test(name, fast=True)
    slow = get_stat_test(name, fast=False)
    assert type(fast).__name__ == "FastStatTest"
    assert type(slow).__name__ == "EvidentlyStatTest"
    fast_score, fast_drifted = fast.compare(feat, current, kind, threshold)
    slow_score, slow_drifted = slow.compare(feat, current, kind, threshold)
    assert abs(fast_score - slow_score) <= TOL, (fast_score, slow_score)
    assert fast_drifted == slow_drifted


def test_fast_and_evidently_engine_runs_agree() -> None:
    """The same check through run_check with fast=True and fast=False, every fast method, mixed kinds."""
    rng = np.random.default_rng(79)
    ref = {"n": rng.normal(size=1500), "c": rng.choice(list("abc"), 1500)}
    cur = {"n": rng.normal(0.2, 1.2, 400), "c": rng.choice(list("abcd"), 400)}
    for method in sorted(FAST_TESTS):
        # chisquare is declared for categorical features only (the default rule alone runs it on numbers).
        features = {"n": {"kind": "numeric", "method": method if method != "chisquare" else None}}
        features["c"] = {"kind": "categorical", "method": method if method not in ("wasserstein", "ks") else None}
        prof = profile(ref, features)
        fast, slow = check(prof, cur, fast=True), check(prof, cur, fast=False)
        for a, b in zip(fast.features, slow.features, strict=True):
            assert a.status == b.status == "ok"
            assert a.method == b.method
            stand_ins = ("wasserstein", "ks") if a.kind == "categorical" else ("chisquare",)
            assert method == a.method or method in stand_ins
            assert abs(a.score - b.score) <= TOL
            assert a.drifted == b.drifted
