"""One contract for every stat test in the catalogue, on every kind it applies to.

(a) a sample of the reference is not drift, (b) a clearly shifted sample is, and (c) odd current data (empty,
constant, all null, NaN/inf-laden, wrong type) never makes run_check raise and always ends in a sensible status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest

from driftwatch.checks.engine import FeatureResult
from driftwatch.checks.stattests import STAT_TESTS
from driftwatch.types import Kind, Status

from .helpers import FINANCE, HOME, check, feature, profile, table, texts

CASES = [(name, kind) for name, spec in STAT_TESTS.items() for kind in sorted(spec.kinds)]
IDS = [f"{n}-{k}" for n, k in CASES]

# Reference and current sizes. The default is a 500-row sample of 2000 reference rows; exceptions:
SIZES: dict[str, tuple[int, int]] = {
    # An n x n kernel matrix permuted 100 times, and 1000 permutations of the pooled labels: keep them small.
    "empirical_mmd": (400, 100),
    "TVD": (400, 100),
    # evidently's fisher_exact needs equal-length samples; g_test compares raw current counts with raw reference
    # counts, which scipy only accepts when both sum to the same total. Both need current rows == reference rows.
    "fisher_exact": (800, 800),
    "g_test": (800, 800),
    # Sizes the text equivalence tests use too, so the random-classifier percentile is computed once.
    "perc_text_content_drift": (1000, 300),
}
SAME_SIZE = {"fisher_exact", "g_test"}
# The tests that cannot run on a current sample of another size than the reference: error, with evidently's words.
SIZE_ERRORS = {
    "fisher_exact": "reference_data and current_data are not of equal length",
    "g_test": "the sum of the observed frequencies must agree with the sum of the expected frequencies",
}
CATS = np.array(["a", "b", "c", "d"], dtype=object)
CAT_P = [0.4, 0.3, 0.2, 0.1]

# evidently's chisquare/g_test divide by zero for new categories; anderson warns that it caps its p-value.
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


@pytest.fixture(autouse=True)
def _seed_global_numpy() -> None:
    np.random.seed(1234)  # empirical_mmd permutes with numpy's global generator


@dataclass(frozen=True)
class Data:
    reference: np.ndarray
    same: np.ndarray  # a sample of the reference
    shifted: np.ndarray
    n_cur: int


def _data(name: str, kind: Kind) -> Data:
    n_ref, n_cur = SIZES.get(name, (2000, 500))
    rng = np.random.default_rng(sum(map(ord, name + kind)))
    if kind == Kind.NUMERIC:
        ref = rng.normal(5.0, 2.0, n_ref)
        same = rng.choice(ref, n_cur, replace=False)
        return Data(ref, same, same + 1.5 * ref.std(), n_cur)
    if kind == Kind.TEXT:
        ref = texts(rng, n_ref, HOME)
        return Data(ref, rng.choice(ref, n_cur, replace=False), texts(rng, n_cur, FINANCE), n_cur)
    if name == "fisher_exact":
        # Binary data only: a third category is an error (see test_fisher_exact_rejects_a_third_category).
        ref = rng.choice(CATS[:2], n_ref, p=[0.6, 0.4])
        return Data(ref, rng.choice(ref, n_cur), rng.choice(CATS[:2], n_cur, p=[0.3, 0.7]), n_cur)
    ref = rng.choice(CATS, n_ref, p=CAT_P)
    # Equal sizes take a resample with replacement; the others a sample without.
    same = rng.choice(ref, n_cur, replace=name not in SAME_SIZE)
    shifted = rng.choice(np.append(CATS, "e"), n_cur, p=[0.05, 0.1, 0.2, 0.3, 0.35])
    return Data(ref, same, shifted, n_cur)


def _run(name: str, kind: Kind, reference: np.ndarray, current: pa.Table | dict) -> FeatureResult:
    prof = profile({"x": reference}, {"x": {"kind": kind.value, "method": name}})
    return feature(check(prof, current), "x")


def _assert_scored(r: FeatureResult, name: str) -> None:
    spec = STAT_TESTS[name]
    assert r.status == Status.OK, r.message
    assert r.method == name
    assert r.threshold == spec.default_threshold
    assert r.score_kind == spec.score_kind
    assert r.score is not None and math.isfinite(r.score)
    if spec.score_kind == "p_value":
        assert 0.0 <= r.score <= 1.0
    else:
        assert r.score >= 0.0
    if name != "perc_text_content_drift":  # flags drift against a bootstrap percentile, not the threshold
        assert r.drifted == spec.drifted(r.score, r.threshold)


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_no_drift_on_a_sample_of_the_reference(name: str, kind: Kind) -> None:
    d = _data(name, kind)
    r = _run(name, kind, d.reference, {"x": d.same})
    _assert_scored(r, name)
    assert r.current_rows == d.n_cur
    assert not r.drifted, (r.score, r.threshold)


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_drift_on_a_shifted_sample(name: str, kind: Kind) -> None:
    d = _data(name, kind)
    r = _run(name, kind, d.reference, {"x": d.shifted})
    _assert_scored(r, name)
    assert r.drifted, (r.score, r.threshold)


def test_fisher_exact_rejects_a_third_category() -> None:
    """evidently's fisher_exact takes binary data only: a new category is an error, not a verdict."""
    d = _data("fisher_exact", Kind.CATEGORICAL)
    cur = d.same.copy()
    cur[:50] = "c"
    r = _run("fisher_exact", Kind.CATEGORICAL, d.reference, {"x": cur})
    assert r.status == Status.ERROR
    assert "Expects binary data" in r.message
    assert r.score is None and not r.drifted


@pytest.mark.parametrize("name", sorted(SIZE_ERRORS))
def test_equal_size_tests_report_an_error_on_other_sizes(name: str) -> None:
    """fisher_exact and g_test cannot compare a 300-row window with an 800-row reference: an error, not a crash."""
    d = _data(name, Kind.CATEGORICAL)
    result = check(profile({"x": d.reference}, {"x": {"kind": "categorical", "method": name}}), {"x": d.same[:300]})
    r = result.features[0]
    assert r.status == Status.ERROR
    assert r.message.startswith("ValueError: ") and SIZE_ERRORS[name] in r.message
    assert r.score is None and not r.drifted and r.current_rows == 300
    assert result.judged_features == 0 and not result.dataset_drift


def test_mannw_only_detects_an_upward_shift() -> None:
    """evidently runs Mann-Whitney with alternative='less' (reference below current): one-sided by design."""
    d = _data("mannw", Kind.NUMERIC)
    up = _run("mannw", Kind.NUMERIC, d.reference, {"x": d.same + 3.0})
    down = _run("mannw", Kind.NUMERIC, d.reference, {"x": d.same - 3.0})
    assert up.drifted and up.score < 1e-10
    assert not down.drifted and down.score > 0.99


# ---- (c) odd current data ------------------------------------------------------------------------------------


def _edge_tables(name: str, kind: Kind, d: Data) -> dict[str, pa.Table]:
    rng = np.random.default_rng(7)
    n = d.n_cur
    typ = pa.float64() if kind == Kind.NUMERIC else pa.string()
    # NaN/inf-laden: the valid values of the no-drift sample, with 30% more rows that are NaN, null or +-inf.
    bad = np.array([np.nan, np.inf, -np.inf] if kind == Kind.NUMERIC else [None, np.nan], dtype=object)
    extra = int(n * 0.3)
    laden = np.r_[d.same.astype(object), rng.choice(bad, extra)]
    laden = rng.permutation(laden).astype(float if kind == Kind.NUMERIC else object)
    few = np.r_[d.same[:20].astype(object), np.full(n - 20, None, dtype=object)]
    tables = {
        "empty": pa.table({"x": pa.array([], typ)}),
        "constant": table({"x": np.full(n, d.reference[0], dtype=d.reference.dtype)}),
        "all-null": pa.table({"x": pa.nulls(n, typ)}),
        "all-null-untyped": pa.table({"x": pa.nulls(n)}),
        "all-nan": table({"x": np.full(n, np.nan)}),
        "nan-inf-laden": table({"x": laden}),
        "few-valid": table({"x": few.astype(float) if kind == Kind.NUMERIC else few}),
        "wrong-type": pa.table({"x": pa.array([[1.0]] * n)}),  # lists are no kind's values
    }
    if kind == Kind.TEXT:
        tables["numbers"] = pa.table({"x": pa.array(np.arange(n))})  # text takes strings only
    if kind == Kind.NUMERIC:
        tables["all-inf"] = table({"x": np.where(np.arange(n) % 2, np.inf, -np.inf)})
        tables["strings"] = table({"x": np.array(["abc", "", "NaN"] * n, dtype=object)[:n]})
    return tables


def _expected_edge(name: str, kind: Kind, case: str, valid: int, n_ref: int) -> set[Status]:
    if case == "empty":
        return {Status.INSUFFICIENT_DATA}
    if case in {"all-null", "all-null-untyped", "all-nan", "all-inf", "wrong-type", "strings", "numbers"}:
        return {Status.NO_VALID_VALUES}
    if case == "few-valid":
        return {Status.INSUFFICIENT_DATA}
    if name in SIZE_ERRORS and valid != n_ref:
        return {Status.ERROR}
    # The test runs: a verdict, or an error caught and reported with its message.
    return {Status.OK, Status.ERROR}


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_odd_current_data_never_raises(name: str, kind: Kind) -> None:
    d = _data(name, kind)
    prof = profile({"x": d.reference}, {"x": {"kind": kind.value, "method": name}})
    n_ref = len(d.reference)
    outcomes = {}
    for case, cur in _edge_tables(name, kind, d).items():
        result = check(prof, cur)  # must not raise
        assert len(result.features) == 1
        r = result.features[0]
        outcomes[case] = r.status
        assert r.status in _expected_edge(name, kind, case, r.current_rows, n_ref), (case, r.status, r.message)
        assert r.reference_rows == n_ref
        if r.status == Status.OK:
            _assert_scored(r, name)
            continue
        assert r.score is None, case
        assert r.message, case
        if r.status == Status.ERROR:
            assert r.method == name and r.threshold == STAT_TESTS[name].default_threshold
            assert not r.drifted
            if name in SIZE_ERRORS:
                assert SIZE_ERRORS[name] in r.message
        elif r.status == Status.NO_VALID_VALUES:
            assert r.drifted and r.method is None and r.current_rows == 0
            assert result.status == Status.OK and result.judged_features == 1 and result.dataset_drift
        else:
            assert r.status == Status.INSUFFICIENT_DATA
            assert not r.drifted and r.method is None
            assert result.judged_features == 0 and not result.dataset_drift
    assert outcomes["empty"] == Status.INSUFFICIENT_DATA
    # The constant sample has as many rows as the reference where the test needs it, so it always runs.
    assert outcomes["constant"] == Status.OK


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_odd_current_data_never_raises_when_calibrated(name: str, kind: Kind) -> None:
    """The same odd windows through the calibrated decision: p-values in [0, 1] or none, never an exception."""
    d = _data(name, kind)
    prof = profile({"x": d.reference}, {"x": {"kind": kind.value, "method": name}})
    for case, cur in _edge_tables(name, kind, d).items():
        result = check(prof, cur, decision="calibrated", calibration={"replicates": 100})
        (r,) = result.features
        assert r.decision in ("calibrated", "none"), case
        if r.decision == "calibrated":
            assert r.p_value is not None and 0.0 <= r.p_value <= 1.0, (case, r.p_value)
            assert r.calibration in ("bootstrap", "exact", "missing_rate"), case
            assert r.drifted == (r.adjusted_p_value <= r.level), case
        else:
            assert not r.drifted and r.status in (Status.INSUFFICIENT_DATA, Status.ERROR, Status.NO_REFERENCE_VALUES)
