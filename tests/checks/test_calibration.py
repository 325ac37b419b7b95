"""Calibrated verdicts: p-values from the reference's own null, missing data judged one way, threshold mode as was."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from driftwatch.checks.engine import run_check
from driftwatch.checks.nulls import grid_sizes, simulate
from driftwatch.checks.pvalues import empirical_p, interpolate, null_p, tail_p
from driftwatch.config import DriftSettings, MonitorConfig
from driftwatch.reference.profile import build_profile, load_profile
from driftwatch.types import Status

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _profile(columns: dict, features: dict, version: str = "v1"):
    mon = MonitorConfig(name="cal", reference={"path": "unused"}, features=features)
    return build_profile(pa.table(columns), mon, version, "memory")


def test_empirical_p_is_the_randomised_monte_carlo_p_value() -> None:
    null = np.array([1.0, 2.0, 3.0, 4.0])
    assert empirical_p(null, 3.5, 0.5) == ((1 + 0.5 * 1) / 5, 1)
    # A tie with one null score: the observed one and the tied one are ordered at random.
    assert empirical_p(null, 3.0, 0.25) == ((1 + 0.25 * 2) / 5, 2)
    assert empirical_p(null, 9.0, 1.0) == (1 / 5, 0)


def test_far_scores_get_a_fitted_tail_not_the_monte_carlo_floor() -> None:
    null = np.sort(np.random.default_rng(0).exponential(size=1000))
    p = tail_p(null, 12.0)
    # Below the Monte Carlo floor 1/1001, and of the right order (a tail fitted on 100 points errs high, not low).
    assert p is not None and math.exp(-12) / 4 < p < math.exp(-12) * 20 < 1 / 1001
    assert null_p(null, 12.0, 0.5) == min(p, 1 / 1001)
    # Inside the bulk the empirical p-value is used.
    assert null_p(null, 1.0, 0.5) == pytest.approx(math.exp(-1), abs=0.04)


def test_sample_size_grid_and_interpolation() -> None:
    assert grid_sizes(50_000) == (50_000, 50_000)
    assert grid_sizes(25_000) == (25_000, 25_000)
    lo, hi = grid_sizes(1000)
    assert lo < 1000 < hi and hi / lo == pytest.approx(math.sqrt(2), rel=0.01)
    assert interpolate(1000, 1000, 1000, 0.2, 0.9) == 0.2
    mid = interpolate(round(math.sqrt(lo * hi)), lo, hi, 0.01, 0.04)
    assert mid == pytest.approx(0.02, rel=0.01)


def test_null_is_seeded_and_sorted() -> None:
    rng = np.random.default_rng(1)
    prof = _profile({"x": rng.normal(size=2000)}, {"x": "numeric"})
    a = simulate(prof.features[0], "wasserstein", 200, 200, seed=7)
    b = simulate(prof.features[0], "wasserstein", 200, 200, seed=7)
    assert np.array_equal(a, b) and np.all(np.diff(a) >= 0) and a.size == 200


def test_ks_and_z_nulls_rank_by_statistic_as_their_p_values_do() -> None:
    """The cheap statistics ks and z are calibrated on order replicates exactly as the tests' own p-values would."""
    from driftwatch.checks.nulls import calibration_statistic
    from driftwatch.checks.stattests import get_stat_test
    from driftwatch.checks.stattests.fast import ks_scaled_distance
    from driftwatch.types import Kind

    rng = np.random.default_rng(11)
    prof = _profile(
        {"x": np.round(rng.normal(size=700), 1), "c": rng.choice(["no", "yes"], 700, p=[0.7, 0.3])},
        {"x": "numeric", "c": "categorical"},
    )
    x, c = prof.features
    stat_p: dict[str, list[tuple[float, float]]] = {"ks": [], "z": []}
    for _ in range(60):
        xs = np.round(rng.normal(rng.normal(0, 0.1), size=400), 1)
        e = rng.normal(0, 0.03)
        cs = pa.array(rng.choice(["no", "yes"], 400, p=[0.7 + e, 0.3 - e]))
        for method, feature, values, kind in (("ks", x, xs, Kind.NUMERIC), ("z", c, cs, Kind.CATEGORICAL)):
            p, _ = get_stat_test(method).compare(feature, values, kind, 0.05)
            stat_p[method].append((calibration_statistic(method, feature, values, kind), p))
        d = stats.ks_2samp(x.numeric.values, xs).statistic
        assert ks_scaled_distance(x, xs) == pytest.approx(d * math.sqrt(700 * 400 / 1100), rel=1e-12)
    for method, pairs in stat_p.items():
        s, p = np.array(pairs).T
        assert stats.spearmanr(s, -np.log(p)).statistic > 0.999, method


def test_clean_windows_give_uniform_p_values_and_shifts_are_caught() -> None:
    """Over references and windows both drawn afresh (the null includes the reference's own noise)."""
    rng = np.random.default_rng(2)
    settings = DriftSettings(multiple_testing="none")
    ps: dict[str, list[float]] = {"x": [], "c": []}
    for i in range(150):
        if i % 10 == 0:
            data = {"x": rng.normal(size=2000), "c": rng.choice(list("abcd"), 2000, p=[0.4, 0.3, 0.2, 0.1])}
            prof = _profile(data, {"x": "numeric", "c": "categorical"}, version=f"v{i}")
        cur = pa.table({"x": rng.normal(size=300), "c": rng.choice(list("abcd"), 300, p=[0.4, 0.3, 0.2, 0.1])})
        for f in run_check(prof, cur, settings).features:
            assert f.calibration == "bootstrap" and f.decision == "calibrated"
            ps[f.name].append(f.p_value)
    for name, values in ps.items():
        assert stats.kstest(values, "uniform").pvalue > 0.001, name
        assert 1 <= sum(p <= 0.05 for p in values) <= 16, name
    shifted = pa.table({"x": rng.normal(0.3, 1, 1000), "c": rng.choice(list("abcd"), 1000, p=[0.3, 0.3, 0.3, 0.1])})
    result = run_check(prof, shifted, settings)
    assert all(f.drifted and f.p_value < 0.001 for f in result.features)
    assert result.decision == "calibrated" and result.level == 0.05


def test_an_unseen_category_is_calibrated_not_p_zero() -> None:
    rng = np.random.default_rng(3)
    prof = _profile({"c": rng.choice(list("abc"), 800)}, {"c": "categorical"})
    ps = []
    for unseen in (1, 3, 30):
        cur = pa.table({"c": np.r_[rng.choice(list("abc"), 500 - unseen), ["z"] * unseen]})
        (f,) = run_check(prof, cur, DriftSettings()).features
        # evidently's goodness-of-fit chisquare says p = 0; its two-sample (homogeneity) form, calibrated, does not.
        assert f.method == "chisquare" and f.score == 0.0 and f.threshold_drifted
        ps.append(f.p_value)
    assert ps[0] > 0.1 and 1e-6 < ps[1] < ps[0] and ps[2] < 1e-6


def test_threshold_mode_is_evidentlys_rule_and_scores_do_not_change() -> None:
    rng = np.random.default_rng(4)
    prof = _profile(
        {"x": rng.normal(size=3000), "c": rng.choice(list("ab"), 3000)}, {"x": "numeric", "c": "categorical"}
    )
    cur = pa.table({"x": rng.normal(0.05, 1, 150), "c": rng.choice(list("ab"), 150)})
    cal = run_check(prof, cur, DriftSettings())
    thr = run_check(prof, cur, DriftSettings(decision="threshold"))
    assert thr.decision == "threshold" and thr.multiple_testing == "none" and cal.multiple_testing == "bh"
    for a, b in zip(cal.features, thr.features, strict=True):
        assert a.score == b.score and a.threshold == b.threshold
        assert a.threshold_drifted == b.drifted and b.decision == "threshold" and b.p_value is None


@pytest.mark.parametrize(
    ("share", "status"), [(0.5, Status.OK), (0.95, Status.MOSTLY_MISSING), (1.0, Status.NO_VALID_VALUES)]
)
def test_missing_data_is_judged_one_way(share: float, status: Status) -> None:
    rng = np.random.default_rng(5)
    prof = _profile({"x": rng.normal(size=2000)}, {"x": "numeric"})
    values = rng.normal(size=1000)
    values[: int(share * 1000)] = np.nan
    (f,) = run_check(prof, pa.table({"x": values}), DriftSettings()).features
    assert f.status == status and f.drifted and f.decision == "calibrated"
    assert f.missing_p_value is not None and f.missing_p_value < 1e-10


def test_a_missing_share_like_the_reference_is_not_drift() -> None:
    rng = np.random.default_rng(6)
    ref = rng.normal(size=4000)
    ref[rng.random(4000) < 0.3] = np.nan
    prof = _profile({"x": ref}, {"x": "numeric"})
    cur = rng.normal(size=1000)
    cur[rng.random(1000) < 0.3] = np.nan
    (f,) = run_check(prof, pa.table({"x": cur}), DriftSettings()).features
    assert f.missing_p_value is not None and f.missing_p_value > 0.01 and not f.drifted


def test_open_window_looks_share_alpha_and_keep_clean_windows_quiet() -> None:
    """15 looks at a filling window: with spending, few clean windows are ever flagged; without, many more."""
    from driftwatch.checks.looks import look_share

    rng = np.random.default_rng(8)
    prof = _profile({"x": rng.normal(size=3000), "y": rng.exponential(size=3000)}, {"x": "numeric", "y": "numeric"})
    settings = DriftSettings()
    spending = repeated = 0
    windows = 60
    for _ in range(windows):
        rows = pa.table({"x": rng.normal(size=1500), "y": rng.exponential(size=1500)})
        spent, flagged_spending, flagged_repeated = 0.0, False, False
        for look in range(1, 16):
            share = look_share(look / 15, spent, 0.5, closed=look == 15)
            spent += share
            sample = rows.slice(0, 100 * look)
            flagged_spending |= run_check(prof, sample, settings, look_share=share).drifted_features > 0
            flagged_repeated |= run_check(prof, sample, settings).drifted_features > 0
        assert spent == pytest.approx(1.0)
        spending += flagged_spending
        repeated += flagged_repeated
    assert spending <= 0.05 * windows + 6
    assert repeated > spending


def test_nulls_are_cached_beside_the_profile(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    ref = tmp_path / "ref.csv"
    ref.write_text("x\n" + "\n".join(str(v) for v in rng.normal(size=1500)))
    mon = MonitorConfig(name="cal", reference={"path": str(ref)}, features={"x": "numeric"})
    prof = load_profile(mon, tmp_path / "data")
    cur = pa.table({"x": rng.normal(size=500)})
    first = run_check(prof, cur, DriftSettings()).features[0].p_value
    files = list((tmp_path / "data" / "profiles" / "cal").glob("*/nulls/*.npy"))
    assert files
    again = run_check(load_profile(mon, tmp_path / "data"), cur, DriftSettings()).features[0].p_value
    assert again == first


def test_an_unreadable_null_file_is_rebuilt(tmp_path: Path) -> None:
    from driftwatch.checks import nulls

    rng = np.random.default_rng(10)
    ref = tmp_path / "ref.csv"
    ref.write_text("x\n" + "\n".join(str(v) for v in rng.normal(size=1500)))
    mon = MonitorConfig(name="cal", reference={"path": str(ref)}, features={"x": "numeric"})
    cur = pa.table({"x": rng.normal(size=500)})
    first = run_check(load_profile(mon, tmp_path / "data"), cur, DriftSettings()).features[0]
    files = list((tmp_path / "data" / "profiles" / "cal").glob("*/nulls/*.npy"))
    for f in files:
        f.write_bytes(b"")  # a disk that filled up mid-write, say
    nulls._CACHES.clear()  # as a new process
    again = run_check(load_profile(mon, tmp_path / "data"), cur, DriftSettings()).features[0]
    assert again.status == Status.OK and again.p_value == first.p_value
    assert all(f.stat().st_size > 0 for f in files)
