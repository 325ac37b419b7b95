"""Check results built by hand, field by field, for tests of what carries them (storage, API, rendering, metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from driftwatch.checks.results import CheckResult, FeatureQuality, FeatureResult
from driftwatch.types import Kind, MultipleTesting, Status

ROWS = 200
LEVEL = 0.025


@dataclass(frozen=True)
class Reference:
    """What the history store keeps of a reference profile (fits driftwatch.storage.ReferenceLike)."""

    monitor: str = "t"
    version: str = "v1"
    source: str = "memory"
    rows: int = 200
    created_at: float = 1_700_000_000.5


def _quality(
    missing: float = 0.0, ref_missing: float = 0.0, unseen: float | None = None, out_of_range: float | None = None
) -> FeatureQuality:
    return FeatureQuality(ROWS, missing, ref_missing, 0.0, unseen, out_of_range)


def calibrated_check(monitor: str = "t", started_at: float = 1_700_000_100.25) -> CheckResult:
    """A calibrated check at its second look: every status, calibration and optional field a result can carry."""
    common = dict(decision="calibrated", level=LEVEL)
    features = [
        FeatureResult(
            name="a",
            kind=Kind.NUMERIC,
            method="wasserstein",
            score=0.31,
            threshold=0.1,
            drifted=True,
            status=Status.OK,
            reference_rows=ROWS,
            current_rows=198,
            quality=_quality(0.01, 0.0, out_of_range=0.04),
            score_kind="distance",
            p_value=0.0004,
            adjusted_p_value=0.0016,
            threshold_drifted=True,
            calibration="bootstrap",
            missing_p_value=0.12,
            **common,
        ),
        FeatureResult(
            name="b",
            kind=Kind.CATEGORICAL,
            method="chisquare",
            score=0.03,
            threshold=0.05,
            drifted=False,
            status=Status.OK,
            reference_rows=ROWS,
            current_rows=ROWS,
            quality=_quality(unseen=0.02),
            score_kind="p_value",
            p_value=0.21,
            adjusted_p_value=0.28,
            threshold_drifted=True,  # evidently's fixed threshold says drift, the calibrated p-value does not
            calibration="exact",
            missing_p_value=1.0,
            **common,
        ),
        FeatureResult(
            name="c",
            kind=Kind.NUMERIC,
            method=None,
            score=None,
            threshold=None,
            drifted=True,
            status=Status.MISSING_COLUMN,
            reference_rows=ROWS,
            current_rows=0,
            quality=_quality(1.0, 0.0),
            message="column absent from the current data",
            **common,
        ),
        FeatureResult(
            name="m",
            kind=Kind.NUMERIC,
            method=None,
            score=None,
            threshold=None,
            drifted=True,
            status=Status.MOSTLY_MISSING,
            reference_rows=ROWS,
            current_rows=12,
            quality=_quality(0.94, 0.02),
            p_value=2e-9,
            adjusted_p_value=1e-8,
            calibration="missing_rate",
            missing_p_value=2e-9,
            message="12 usable values < min_rows 100: judged on the missing rate",
            **common,
        ),
        FeatureResult(
            name="p",
            kind=Kind.CATEGORICAL,
            method="jensenshannon",
            score=0.02,
            threshold=0.1,
            drifted=False,
            status=Status.OK,
            reference_rows=ROWS,
            current_rows=ROWS,
            quality=_quality(unseen=0.0),
            score_kind="distance",
            p_value=0.64,
            adjusted_p_value=0.64,
            threshold_drifted=False,
            calibration="bootstrap",
            missing_p_value=1.0,
            prediction=True,
            **common,
        ),
        FeatureResult(
            name="x",
            kind=Kind.NUMERIC,
            method="wasserstein",
            score=None,
            threshold=0.1,
            drifted=False,
            status=Status.ERROR,
            reference_rows=ROWS,
            current_rows=ROWS,
            quality=_quality(out_of_range=0.0),
            score_kind="distance",
            message="ValueError: boom",
        ),
    ]
    return CheckResult(
        monitor=monitor,
        reference_version="v1",
        rows=ROWS,
        status=Status.OK,
        dataset_drift=True,
        drifted_features=3,
        judged_features=5,
        drift_share=0.6,
        drift_share_threshold=0.5,
        multiple_testing=MultipleTesting.BH,
        started_at=started_at,
        duration_seconds=0.125,
        features=features,
        decision="calibrated",
        alpha=0.05,
        look_share=0.5,
        level=LEVEL,
    )


def threshold_check(monitor: str = "t", started_at: float = 1_700_000_200.5) -> CheckResult:
    """A check decided by evidently's thresholds: a distance, a p-value test with its own p-value, a missing column."""
    features = [
        FeatureResult(
            name="a",
            kind=Kind.NUMERIC,
            method="wasserstein",
            score=0.31,
            threshold=0.1,
            drifted=True,
            status=Status.OK,
            reference_rows=ROWS,
            current_rows=ROWS,
            quality=_quality(out_of_range=0.04),
            score_kind="distance",
            decision="threshold",
        ),
        FeatureResult(
            name="k",
            kind=Kind.NUMERIC,
            method="ks",
            score=0.01,
            threshold=0.05,
            drifted=True,
            status=Status.OK,
            reference_rows=ROWS,
            current_rows=ROWS,
            quality=_quality(out_of_range=0.0),
            score_kind="p_value",
            p_value=0.01,
            decision="threshold",
        ),
        FeatureResult(
            name="c",
            kind=Kind.CATEGORICAL,
            method=None,
            score=None,
            threshold=None,
            drifted=True,
            status=Status.MISSING_COLUMN,
            reference_rows=ROWS,
            current_rows=0,
            quality=_quality(1.0, 0.0),
            message="column absent from the current data",
            decision="threshold",
        ),
    ]
    return CheckResult(
        monitor=monitor,
        reference_version="v1",
        rows=ROWS,
        status=Status.OK,
        dataset_drift=True,
        drifted_features=3,
        judged_features=3,
        drift_share=1.0,
        drift_share_threshold=0.5,
        multiple_testing=MultipleTesting.NONE,
        started_at=started_at,
        duration_seconds=0.0625,
        features=features,
    )
