"""The calibration benchmark's smoke test: its quick loaders, one tiny cell, and its rate arithmetic by hand."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from calibration_data import (
    Dataset,
    at_most,
    binomial_interval,
    design_effect,
    load_datasets,
    look_shares,
    shift_category,
    value_design_effect,
    within_band,
)
from calibration_runs import THRESHOLD, Plan, Tally, calibrated_available, monitor_config, run_dataset

from driftwatch.checks.results import CheckResult, FeatureQuality, FeatureResult
from driftwatch.reference.profile import build_profile
from driftwatch.types import Kind, MultipleTesting, Status


@pytest.fixture(scope="module")
def quick_datasets() -> list[Dataset]:
    return load_datasets(quick=True, seed=1)


def test_the_quick_loaders_return_tables_of_the_declared_kinds(quick_datasets: list[Dataset]) -> None:
    assert [d.name for d in quick_datasets] == ["breast_cancer", "fair", "triage"]
    for ds in quick_datasets:
        assert ds.rows > max(ds.ref_sizes) + 100
        assert set(ds.kinds) == set(ds.table.column_names)
        assert "categorical" in ds.kinds.values() and "numeric" in ds.kinds.values()
        profile = build_profile(ds.table.slice(0, 500), monitor_config(ds), "v", ds.source)
        assert {f.name: f.kind.value for f in profile.features} == ds.kinds
        for name, kind in ds.kinds.items():
            t = ds.table.schema.field(name).type
            fits = pa.types.is_string if kind == "categorical" else pa.types.is_floating
            assert fits(t) or pa.types.is_integer(t), (ds.name, name, t)
    fair = quick_datasets[1]
    assert pa.types.is_integer(fair.table.schema.field("religious").type)  # a coded answer declared categorical
    assert pa.types.is_string(quick_datasets[0].table.schema.field("diagnosis").type)


def test_one_tiny_cell_tallies_every_window(quick_datasets: list[Dataset]) -> None:
    ds = quick_datasets[0]
    plan = Plan(splits=2, windows_per_split=3, window_sizes=(100,), alphas=(0.05,), calibrated=calibrated_available())
    cells, power = run_dataset(ds, plan, seed=3, index=0)
    assert [(c.ref_rows, c.window) for c in cells] == [(250, 100)] and power == []
    for tally in cells[0].tallies.values():
        assert tally.windows == 6
        assert set(tally.flagged) == set(ds.kinds)
        assert 0 <= tally.any_flagged <= 6
        assert all(0 <= k <= 6 for k in tally.flagged.values())
    assert cells[0].tallies[THRESHOLD.key].methods["mean_radius"] == ["ks"]


def _result(drifted: dict[str, bool], dataset_drift: bool = False) -> CheckResult:
    quality = FeatureQuality(100, 0.0, 0.0, 0.0)
    features = [
        FeatureResult(n, Kind.NUMERIC, "ks", 0.5, 0.05, d, Status.OK, 100, 100, quality) for n, d in drifted.items()
    ]
    return CheckResult(
        "m", "v", 100, Status.OK, dataset_drift, sum(drifted.values()), len(features), 0.0, 0.5,
        MultipleTesting.NONE, 0.0, 0.0, features,
    )  # fmt: skip


def test_rates_and_bounds_on_a_hand_made_case() -> None:
    tally = Tally()
    for a, b in ((True, False), (False, True), (False, True), (False, False)):
        tally.add(_result({"a": a, "b": b}, dataset_drift=a), 0.001)
    assert tally.windows == 4
    assert tally.rates() == {"a": 0.25, "b": 0.5}
    assert tally.any_flagged == 3 and tally.dataset_drift == 1

    # Exact 99% interval of 0/200 is [0, 1 - 0.005 ** (1/200)].
    lo, hi = binomial_interval(0, 200)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.005 ** (1 / 200))
    assert within_band(0, 200, 0.025, 0.075)  # 0.0261 still reaches the band
    assert not within_band(0, 400, 0.025, 0.075)  # 0.0132 does not
    assert within_band(10, 200, 0.025, 0.075) and not within_band(60, 200, 0.025, 0.075)
    assert at_most(19, 200, 0.05) and not at_most(20, 200, 0.05)  # lower bounds 0.0493 and 0.0529


def test_the_design_effect_widens_intervals_when_windows_of_a_reference_flag_together() -> None:
    # Every window of a flagged reference flagged: 200 windows in 20 references count as 20 trials.
    assert design_effect([10, 10] + [0] * 18, 10) == pytest.approx(10.0)
    # Alarms spread evenly over the references: no correlation, no widening.
    assert design_effect([1] * 20, 10) == 1.0
    assert design_effect([0] * 20, 10) == 1.0
    rng = np.random.default_rng(5)
    independent = [int(k) for k in rng.binomial(10, 0.05, size=2000)]
    assert design_effect(independent, 10) < 1.1
    # 30 of 200 reaches [0.025, 0.075] only when the windows count as fewer, clustered trials.
    assert not within_band(30, 200, 0.025, 0.075) and within_band(30, 200, 0.025, 0.075, deff=10.0)
    lo, hi = binomial_interval(20, 200, deff=10.0)
    lo1, hi1 = binomial_interval(2, 20)
    assert (lo, hi) == pytest.approx((lo1, hi1))


def test_the_value_design_effect_sees_correlated_windows_that_were_never_flagged() -> None:
    rng = np.random.default_rng(6)
    shared = [list(m + rng.normal(0, 0.1, 4)) for m in rng.normal(0, 1, 60)]  # windows follow their reference
    assert value_design_effect(shared) > 3.5
    alone = [list(rng.normal(0, 1, 4)) for _ in range(60)]
    assert value_design_effect(alone) < 1.5
    assert value_design_effect([[0.1], [0.2]]) == 1.0


def test_look_shares_follow_the_spending_rule() -> None:
    shares = look_shares(15, 0.5)
    assert len(shares) == 15 and math.isclose(sum(shares), 1.0)
    assert shares[0] == pytest.approx(0.5 * math.log1p((math.e - 1) / 15))
    assert sum(shares[:-1]) == pytest.approx(0.5 * math.log1p((math.e - 1) * 14 / 15))
    assert all(a > b for a, b in itertools.pairwise(shares[:14]))  # Pocock-type: early open looks get more


def test_a_category_share_moves_by_the_asked_points() -> None:
    table = pa.table({"c": pa.array(["x"] * 200 + ["y"] * 800)})
    moved = shift_category(np.random.default_rng(0), table, "c", "x", 0.10)
    assert moved.column("c").to_pylist().count("x") == 300
