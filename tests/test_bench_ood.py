"""The OOD benchmark's smoke test: quick flags, one tiny fit and scoring run, the daemon config, the arithmetic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_ood import check_table, fit_table, ingest_table, judge, parse_args, score_table
from ood_ingest import IngestCell, IngestResult, write_config
from ood_measure import (
    ALIGNMENT,
    FULL,
    FULL_ONE_THREAD,
    RULES,
    VARIANTS,
    CheckCost,
    FitRow,
    ScoreRow,
    current_table,
    feature_kinds,
    measure_fit,
    measure_scoring,
    reference_table,
    score_ratio,
)

from driftwatch.config import load_config


def test_quick_flags_pick_the_small_run() -> None:
    quick, full = parse_args(["--quick"]), parse_args([])
    assert (quick.ref_sizes, quick.check_rows, quick.repeats, quick.ingest_rounds) == ([20_000], 5_000, 1, 1)
    assert (full.ref_sizes, full.check_rows, full.batch_sizes) == ([100_000, 1_000_000], 50_000, [1, 10_000])
    assert parse_args(["--quick", "--check-rows", "700"]).check_rows == 700


def test_one_tiny_fit_and_scoring_run_measures_every_variant() -> None:
    kinds = feature_kinds()
    assert len(kinds) == 25 and sum(k == "categorical" for k in kinds.values()) == 5
    fit, profile = measure_fit(reference_table(2_000, 1), 1, repeats=1)
    # Half the 2,000 sampled rows to measure distances to, the rest to calibrate; 20 numeric columns + one-hots.
    assert (fit.sample_rows, fit.fit_rows, fit.calibration_rows) == (2_000, 1_000, 1_000)
    assert fit.width == 20 + sum(levels + 1 for levels in (5, 10, 15, 20, 30))
    assert fit.build_s > 0 and fit.detector_s > 0 and fit.detector_share == fit.detector_s / fit.build_s

    rows = measure_scoring(profile, current_table(400, 1), [1, 100], seconds=0.0, min_calls=3)
    assert [(r.variant, r.batch) for r in rows] == [(v, b) for b in (1, 100) for v in VARIANTS]
    for r in rows:
        assert r.calls >= 3 and r.rows == r.calls * r.batch and r.rows_per_s > 0
        assert 0 <= r.ood_rows <= r.rows
    by = {(r.variant, r.batch): r for r in rows}
    assert by[(ALIGNMENT, 100)].ood_rows == 0
    assert by[(RULES, 100)].ood_rows > 0  # the current rows carry a category new to the reference
    assert by[(FULL, 100)].ood_rows >= by[(RULES, 100)].ood_rows
    assert by[(FULL_ONE_THREAD, 100)].ood_rows == by[(FULL, 100)].ood_rows  # same rows, same verdicts
    assert score_ratio(rows, ALIGNMENT, ALIGNMENT, 1) == 1.0
    assert all(len(row) == len(score_table(rows)[1]) for row in score_table(rows)[2])
    assert fit_table([fit])[2][0][:4] == ["2,000", "2,000", "1,000 / 1,000", str(fit.width)]


def test_the_daemon_config_switches_ood_and_lists_every_feature(tmp_path: Path) -> None:
    for enabled in (False, True):
        config = load_config(write_config(tmp_path / str(enabled), tmp_path / "reference.parquet", enabled))
        (monitor,) = config.monitors
        assert monitor.ood.enabled is enabled
        assert {name: f.kind.value for name, f in monitor.features.items()} == feature_kinds()
        assert monitor.schedule.interval == 86_400


def _check(added: float) -> CheckCost:
    return CheckCost(50_000, 50_000, 3, 60.0, 2.0, 1.0, 1.1, 1.0 + added, added, 100)


def _ingest(on_rows: int) -> IngestResult:
    off = IngestCell("arrow x10000", "ood off", 2, 100, 1_000_000, 2.0, 1.0, 0.0, [10.0, 12.0])
    on = IngestCell("arrow x10000", "ood on", 2, 100, on_rows, 2.0, 1.0, 0.0, [11.0, 13.0, 15.0])
    return IngestResult([off, on], {"ood off": 3.0, "ood on": 3.5}, {"ood off": 300.0, "ood on": 310.0})


def test_targets_and_ratios_on_hand_made_figures() -> None:
    c = _check(0.5)
    assert (c.added_s, c.ratio, c.rules_ratio) == (0.5, 1.5, pytest.approx(1.1))
    assert c.novelty_s == pytest.approx(0.4)
    ingest = _ingest(900_000)
    assert ingest.ratio("arrow x10000") == pytest.approx(0.9)
    assert ingest.ratio("arrow x10000", per_cpu=True) == pytest.approx(0.9)
    assert ingest.cells[1].median_p50_ms == 13.0
    targets, _ = judge(c, ingest, [])
    assert [t.passed for t in targets] == [True, True]
    targets, _ = judge(_check(2.5), _ingest(800_000), [])
    assert [t.passed for t in targets] == [False, False]
    assert "+2.50 s (3.50x" in targets[0].measured
    assert ingest_table(ingest)[2][1][-2:] == ["0.900", "0.900"]
    assert check_table(c)[2][0][5:7] == ["+0.500", "1.50x"]
    assert FitRow(100_000, 20_000, 2_000, 10_000, 105, 3, 0.5, 0.01, 0.25).detector_share == 0.5


def test_a_slow_threaded_novelty_gets_a_note() -> None:
    rows = [ScoreRow(v, 1, 10, 1.0, 0) for v in VARIANTS[:3]] + [ScoreRow(FULL_ONE_THREAD, 1, 30, 1.0, 0)]
    _, notes = judge(None, None, rows)
    assert any("3.0x faster with OpenMP limited to one thread" in n for n in notes)
    _, notes = judge(None, None, [*rows[:3], ScoreRow(FULL_ONE_THREAD, 1, 11, 1.0, 0)])
    assert not any("OpenMP" in n for n in notes)
