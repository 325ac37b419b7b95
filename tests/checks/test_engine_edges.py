"""Known answers for the drift engine: too little data, absent and empty columns, data-quality rates,
multiple-testing corrections, the dataset-level verdict and the false-alarm rate on identical distributions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from driftwatch.checks.engine import CheckResult, FeatureResult, run_check
from driftwatch.config import DriftSettings, MonitorConfig
from driftwatch.reference.profile import ReferenceProfile, build_profile
from driftwatch.types import MultipleTesting, Status

# chisquare divides by the zero expected count of a new category (p = 0, as evidently intends).
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _table(columns: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)


def _profile(reference: dict[str, Any] | pa.Table, features: dict[str, Any]) -> ReferenceProfile:
    mon = MonitorConfig(name="edges", reference={"path": "unused"}, features=features)
    ref = reference if isinstance(reference, pa.Table) else _table(reference)
    return build_profile(ref, mon, "v1", "memory")


def _check(prof: ReferenceProfile, current: dict[str, Any] | pa.Table, **settings: Any) -> CheckResult:
    cur = current if isinstance(current, pa.Table) else _table(current)
    settings.setdefault("decision", "threshold")
    return run_check(prof, cur, DriftSettings(**settings))


def _by_name(result: CheckResult) -> dict[str, FeatureResult]:
    return {f.name: f for f in result.features}


@pytest.fixture(scope="module")
def mixed() -> ReferenceProfile:
    rng = np.random.default_rng(0)
    return _profile(
        {"a": rng.normal(size=1500), "b": rng.choice(["x", "y", "z"], 1500)},
        {"a": "numeric", "b": "categorical"},
    )


# ---- too little data, absent and empty columns --------------------------------------------------------------


def test_fewer_rows_than_min_rows_is_insufficient_data(mixed: ReferenceProfile) -> None:
    rng = np.random.default_rng(1)
    # Heavily drifted, but only 99 rows: nothing is judged.
    result = _check(mixed, {"a": rng.normal(50, 1, 99), "b": ["new"] * 99})
    assert result.status == Status.INSUFFICIENT_DATA
    assert result.rows == 99
    assert result.dataset_drift is False
    assert (result.drifted_features, result.judged_features, result.drift_share) == (0, 0, 0.0)
    for f in result.features:
        assert f.status == Status.INSUFFICIENT_DATA
        assert f.drifted is False
        assert (f.method, f.score, f.threshold) == (None, None, None)
        assert f.message == "99 rows < min_rows 100"
        assert f.current_rows == 99 and f.reference_rows == 1500


def test_min_rows_is_a_setting(mixed: ReferenceProfile) -> None:
    rng = np.random.default_rng(1)
    result = _check(mixed, {"a": rng.normal(50, 1, 99), "b": ["new"] * 99}, min_rows=99)
    assert result.status == Status.OK
    assert all(f.status == Status.OK and f.drifted for f in result.features)
    assert result.dataset_drift is True


def test_absent_column_without_enough_rows_is_not_drift(mixed: ReferenceProfile) -> None:
    result = _check(mixed, {"a": np.zeros(10)})
    b = _by_name(result)["b"]
    assert b.status == Status.MISSING_COLUMN and b.drifted is False
    assert result.status == Status.INSUFFICIENT_DATA and result.dataset_drift is False


def test_feature_absent_from_current_is_missing_column_and_drift(mixed: ReferenceProfile) -> None:
    rng = np.random.default_rng(2)
    result = _check(mixed, {"a": rng.normal(size=300)})
    a, b = _by_name(result)["a"], _by_name(result)["b"]
    assert b.status == Status.MISSING_COLUMN
    assert b.drifted is True
    assert (b.method, b.score, b.current_rows) == (None, None, 0)
    assert b.quality.missing_rate == 1.0 and b.quality.rows == 300
    assert b.message == "column absent from the current data"
    assert a.status == Status.OK and not a.drifted
    # A missing column is judged: 1 of 2 features drifted reaches the default share of 0.5.
    assert (result.drifted_features, result.judged_features, result.drift_share) == (1, 2, 0.5)
    assert result.dataset_drift is True


@pytest.mark.parametrize(
    "column",
    [
        pa.nulls(300, pa.float64()),
        pa.nulls(300),
        pa.array([np.nan] * 300),
        pa.array([None, np.nan, np.inf, -np.inf] * 75),
        pa.array(["not a number"] * 300),
    ],
    ids=["null-float", "null-type", "nan", "nan-inf", "strings"],
)
def test_no_usable_numeric_values_is_no_valid_values(mixed: ReferenceProfile, column: pa.Array) -> None:
    rng = np.random.default_rng(3)
    result = _check(mixed, pa.table({"a": column, "b": rng.choice(["x", "y", "z"], 300)}))
    a = _by_name(result)["a"]
    assert a.status == Status.NO_VALID_VALUES
    assert a.drifted is True
    assert (a.method, a.score, a.current_rows) == (None, None, 0)
    assert a.message == "no usable values (all missing, non-finite or of the wrong type)"
    assert result.judged_features == 2 and result.drifted_features == 1


def test_all_null_categorical_column(mixed: ReferenceProfile) -> None:
    result = _check(mixed, pa.table({"a": np.zeros(200), "b": pa.nulls(200, pa.string())}))
    b = _by_name(result)["b"]
    assert b.status == Status.NO_VALID_VALUES and b.drifted is True
    assert b.quality.missing_rate == 1.0
    assert b.quality.unseen_category_rate == 0.0


def test_too_few_usable_values_is_insufficient_data(mixed: ReferenceProfile) -> None:
    values = np.full(300, np.nan)
    values[:99] = 0.5
    result = _check(mixed, {"a": values, "b": ["x"] * 300})
    a = _by_name(result)["a"]
    assert a.status == Status.INSUFFICIENT_DATA and a.drifted is False
    assert a.message == "99 usable values < min_rows 100"
    assert a.current_rows == 99
    assert a.quality.missing_rate == pytest.approx(201 / 300, abs=1e-15)
    assert result.status == Status.OK and result.judged_features == 1


def test_reference_without_values_is_no_reference_values() -> None:
    prof = _profile(
        pa.table({"a": pa.nulls(500, pa.float64()), "b": np.arange(500.0)}), {"a": "numeric", "b": "numeric"}
    )
    result = _check(prof, {"a": np.arange(200.0), "b": np.arange(200.0)})
    a = _by_name(result)["a"]
    assert a.status == Status.NO_REFERENCE_VALUES and a.drifted is False and a.reference_rows == 0
    assert a.quality.reference_missing_rate == 1.0
    assert result.judged_features == 1


# ---- data-quality rates ---------------------------------------------------------------------------------------


def test_type_error_rate_counts_unparsable_strings_exactly(mixed: ReferenceProfile) -> None:
    rng = np.random.default_rng(4)
    good = [f"{v:.6f}" for v in rng.normal(size=190)]
    bad = ["abc", "1,5", "--", "12ab", "?", "one", "0x1G", "N/A", "1e", "x"]
    values = np.array(good + bad, dtype=object)
    result = _check(mixed, {"a": rng.permutation(values), "b": ["x"] * 200})
    a = _by_name(result)["a"]
    assert a.quality.type_error_rate == 10 / 200 == 0.05
    assert a.quality.missing_rate == 0.0
    assert a.current_rows == 190 and a.status == Status.OK


def test_type_errors_missing_and_non_finite_are_told_apart(mixed: ReferenceProfile) -> None:
    rng = np.random.default_rng(5)
    good = [f"{v:.4f}" for v in rng.normal(size=168)]
    values = good + ["abc"] * 10 + [None] * 8 + [""] * 4 + ["  "] * 2 + ["nan", "NaN", " NAN "] * 2 + ["inf", "-inf"]
    assert len(values) == 200
    result = _check(mixed, {"a": np.array(values, dtype=object), "b": ["x"] * 200})
    a = _by_name(result)["a"]
    assert a.quality.type_error_rate == 10 / 200
    assert a.quality.missing_rate == 20 / 200  # None, blanks and literal NaN
    assert a.current_rows == 168
    # +-inf are present but outside any reference range.
    assert a.quality.out_of_range_rate == pytest.approx(2 / 170, abs=1e-15)


def test_unseen_category_rate_is_exact(mixed: ReferenceProfile) -> None:
    rng = np.random.default_rng(6)
    labels = np.array(["x"] * 100 + ["y"] * 40 + ["z"] * 20 + ["w"] * 25 + ["v"] * 15, dtype=object)
    result = _check(mixed, {"a": rng.normal(size=200), "b": rng.permutation(labels)})
    b = _by_name(result)["b"]
    assert b.quality.unseen_category_rate == 40 / 200 == 0.2
    assert b.quality.out_of_range_rate is None
    assert _by_name(result)["a"].quality.unseen_category_rate is None


def test_unseen_category_rate_is_over_present_values(mixed: ReferenceProfile) -> None:
    labels = np.array(["x"] * 150 + ["new"] * 30 + [None] * 20, dtype=object)
    result = _check(mixed, {"a": np.zeros(200), "b": labels})
    b = _by_name(result)["b"]
    assert b.quality.unseen_category_rate == 30 / 180
    assert b.quality.missing_rate == 20 / 200


def test_out_of_range_rate_is_exact() -> None:
    rng = np.random.default_rng(7)
    ref = np.r_[0.0, 10.0, rng.uniform(0, 10, 998)]
    prof = _profile({"a": ref}, {"a": "numeric"})
    inside = np.r_[0.0, 10.0, rng.uniform(0, 10, 168)]  # the reference's min and max are in range
    above, below = rng.uniform(10.001, 20, 20), rng.uniform(-5, -0.001, 5)
    values = rng.permutation(np.r_[inside, above, below, [np.inf, -np.inf, np.inf, np.inf, -np.inf], [np.nan] * 10])
    a = _check(prof, {"a": values}).features[0]
    assert len(values) == 210
    assert a.quality.out_of_range_rate == 30 / 200 == 0.15  # NaN is missing, not out of range; inf is out
    assert a.quality.missing_rate == 10 / 210
    assert a.current_rows == 195


# ---- multiple testing -------------------------------------------------------------------------------------------

# Reference and current are exact normal quantile grids, the current one shifted: ks p-values known in advance.
_REF_GRID = stats.norm.ppf((np.arange(800) + 0.5) / 800)
_CUR_GRID = stats.norm.ppf((np.arange(200) + 0.5) / 200)


def _shifted_checks(shifts: list[float]) -> dict[MultipleTesting, CheckResult]:
    names = [f"f{i}" for i in range(len(shifts))]
    ref = {n: _REF_GRID for n in names} | {"dist": _REF_GRID}
    features: dict[str, Any] = dict.fromkeys(names, "numeric")
    features |= {"dist": {"kind": "numeric", "method": "wasserstein"}, "gone": "numeric"}
    ref["gone"] = _REF_GRID
    prof = _profile(ref, features)
    cur = {n: _CUR_GRID + s for n, s in zip(names, shifts, strict=True)} | {"dist": _CUR_GRID + 2.0}
    return {how: _check(prof, cur, multiple_testing=how) for how in MultipleTesting}


@pytest.fixture(scope="module")
def corrected() -> dict[MultipleTesting, CheckResult]:
    # Two features with raw p ~ 0.017 and 0.030, eight without drift.
    return _shifted_checks([0.30, 0.28, 0.0, 0.05, 0.1, -0.1, 0.12, 0.15, 0.18, 0.2])


def test_raw_p_values_flag_two_features(corrected: dict[MultipleTesting, CheckResult]) -> None:
    raw = _by_name(corrected[MultipleTesting.NONE])
    assert all(raw[f"f{i}"].method == "ks" for i in range(10))
    assert 0.01 < raw["f0"].score < raw["f1"].score < 0.05
    assert all(raw[f"f{i}"].score > 0.2 for i in range(2, 10))
    assert {n for n, f in raw.items() if f.drifted} == {"f0", "f1", "dist", "gone"}
    assert all(f.adjusted_p_value is None for f in raw.values())


def test_bonferroni_multiplies_by_the_number_of_p_value_tests(corrected: dict[MultipleTesting, CheckResult]) -> None:
    raw = _by_name(corrected[MultipleTesting.NONE])
    bon = _by_name(corrected[MultipleTesting.BONFERRONI])
    for i in range(10):
        name = f"f{i}"
        p = raw[name].score
        assert bon[name].score == p  # the raw p-value is kept
        # m = 10: the wasserstein distance and the missing column are not p-value tests.
        assert bon[name].adjusted_p_value == min(1.0, p * 10)
        assert bon[name].drifted is False
    assert bon["dist"].adjusted_p_value is None and bon["dist"].drifted is True
    assert bon["gone"].adjusted_p_value is None and bon["gone"].drifted is True
    assert corrected[MultipleTesting.BONFERRONI].drifted_features == 2


def test_bh_matches_scipy_false_discovery_control(corrected: dict[MultipleTesting, CheckResult]) -> None:
    raw = _by_name(corrected[MultipleTesting.NONE])
    bh = _by_name(corrected[MultipleTesting.BH])
    names = [f"f{i}" for i in range(10)]
    expected = stats.false_discovery_control([raw[n].score for n in names], method="bh")
    for name, adj in zip(names, expected, strict=True):
        assert bh[name].adjusted_p_value == pytest.approx(adj, abs=1e-15, rel=0)
        assert bh[name].drifted is False
    assert bh["f0"].adjusted_p_value == pytest.approx(raw["f1"].score * 10 / 2, abs=1e-15, rel=0)
    assert bh["dist"].adjusted_p_value is None and bh["dist"].drifted is True


def test_bh_is_less_strict_than_bonferroni() -> None:
    # Raw p ~ 0.0022, 0.0044 and 0.0061: Bonferroni keeps two, BH all three.
    checks = _shifted_checks([0.36, 0.34, 0.33, 0.0, 0.05, 0.1, -0.1, 0.12, 0.15, 0.2])
    flagged = {
        how: {f.name for f in result.features if f.drifted and f.name.startswith("f")} for how, result in checks.items()
    }
    assert flagged[MultipleTesting.NONE] == {"f0", "f1", "f2"}
    assert flagged[MultipleTesting.BONFERRONI] == {"f0", "f1"}
    assert flagged[MultipleTesting.BH] == {"f0", "f1", "f2"}


# ---- dataset-level verdict -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def four() -> tuple[ReferenceProfile, dict[str, np.ndarray]]:
    # Normal quantile grids: no sampling noise near wasserstein's 0.1 threshold.
    names = ["p", "q", "r", "s"]
    prof = _profile({n: stats.norm.ppf((np.arange(1500) + 0.5) / 1500) for n in names}, dict.fromkeys(names, "numeric"))
    cur = {n: stats.norm.ppf((np.arange(400) + 0.5) / 400) for n in names}
    return prof, cur


@pytest.mark.parametrize(
    ("drifting", "drift_share", "expected"),
    [
        (2, 0.5, True),
        (2, 0.51, False),
        (1, 0.25, True),
        (1, 0.26, False),
        (4, 1.0, True),
        (3, 1.0, False),
        (0, 0.01, False),
    ],
)
def test_dataset_drift_is_share_of_drifted_features_at_least_drift_share(
    four: tuple[ReferenceProfile, dict[str, np.ndarray]], drifting: int, drift_share: float, expected: bool
) -> None:
    prof, cur = four
    current = {n: v + (3.0 if i < drifting else 0.0) for i, (n, v) in enumerate(cur.items())}
    result = _check(prof, current, drift_share=drift_share)
    assert result.drifted_features == drifting
    assert result.judged_features == 4
    assert result.drift_share == drifting / 4
    assert result.drift_share_threshold == drift_share
    assert result.dataset_drift is expected


def test_unjudged_features_do_not_count_in_the_share(four: tuple[ReferenceProfile, dict[str, np.ndarray]]) -> None:
    prof, cur = four
    few = np.full(400, np.nan)
    few[:50] = 0.0
    current = {"p": cur["p"] + 3.0, "q": cur["q"], "r": few, "s": few}
    result = _check(prof, current, drift_share=0.5)
    assert [f.status for f in result.features] == ["ok", "ok", "insufficient_data", "insufficient_data"]
    assert (result.drifted_features, result.judged_features, result.drift_share) == (1, 2, 0.5)
    assert result.dataset_drift is True


def test_thresholds_and_methods_from_settings_and_features() -> None:
    rng = np.random.default_rng(9)
    ref = {"a": rng.normal(size=1500), "b": rng.normal(size=1500)}
    cur = {"a": rng.normal(0.15, 1, 500), "b": rng.normal(0.15, 1, 500)}
    prof = _profile(ref, {"a": "numeric", "b": {"kind": "numeric", "threshold": 0.5}})
    default = _by_name(_check(prof, cur))
    assert default["a"].method == "wasserstein" and default["a"].threshold == 0.1
    assert default["a"].drifted == (default["a"].score >= 0.1)
    assert default["b"].threshold == 0.5 and default["b"].drifted is False
    tuned = _by_name(_check(prof, cur, methods={"numeric": "ks"}, thresholds={"numeric": 0.2}))
    assert tuned["a"].method == tuned["b"].method == "ks"
    assert tuned["a"].threshold == 0.2
    assert tuned["b"].threshold == 0.5  # the feature's own threshold wins over the kind's


# ---- false alarms ---------------------------------------------------------------------------------------------


def test_false_alarm_rate_on_identical_distributions() -> None:
    """200 seeded checks of same-distribution samples with ks at 0.05 flag drift about 5% of the time."""
    alarms = 0
    runs = 200
    for seed in range(runs):
        rng = np.random.default_rng([2024, seed])
        prof = _profile({"x": rng.normal(3.0, 2.0, 800)}, {"x": "numeric"})
        f = _check(prof, {"x": rng.normal(3.0, 2.0, 200)}).features[0]
        assert f.status == Status.OK and f.method == "ks"
        alarms += f.drifted
    rate = alarms / runs
    # Binomial(200, 0.05): mean 10, sd 3.1; 0.09 is 2.6 sd above, 0.01 catches a test that never fires.
    assert 0.01 <= rate <= 0.09, rate
