"""Check results to ORM rows and ORM rows to records: the one place that knows how each field is stored."""

from __future__ import annotations

import math

from driftwatch.checks.results import CheckResult, FeatureResult
from driftwatch.storage.models import Check, FeatureResultRow
from driftwatch.storage.records import PRE_DECISION_RULE, CheckRecord, FeatureRecord, pre_decision_feature_rule
from driftwatch.types import Kind, MultipleTesting, Status


def finite(x: float | None) -> float | None:
    """`x` as a float, or None for None and non-finite values (stored as NULL)."""
    return None if x is None or not math.isfinite(x) else float(x)


def required(name: str, x: float) -> float:
    """`x` as a float; ValueError when it is missing or not finite."""
    if x is None or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


def check_row(
    result: CheckResult, *, window_start: float | None, window_end: float | None, trigger: str, error: str | None
) -> Check:
    """The checks row of a result, its feature rows attached; monitor and reference ids are the caller's."""
    return Check(
        started_at=required("started_at", result.started_at),
        duration_seconds=required("duration_seconds", result.duration_seconds),
        window_start=window_start,
        window_end=window_end,
        rows=int(result.rows),
        status=Status(result.status).value,
        dataset_drift=bool(result.dataset_drift),
        drift_share=required("drift_share", result.drift_share),
        drift_share_threshold=required("drift_share_threshold", result.drift_share_threshold),
        drifted_features=int(result.drifted_features),
        judged_features=int(result.judged_features),
        multiple_testing=MultipleTesting(result.multiple_testing).value,
        decision=str(result.decision),
        alpha=finite(result.alpha),
        look_share=finite(result.look_share),
        level=finite(result.level),
        trigger=trigger,
        error=error,
        features=[feature_row(f) for f in result.features],
    )


def feature_row(f: FeatureResult) -> FeatureResultRow:
    """The feature_results row of one feature's result."""
    q = f.quality
    return FeatureResultRow(
        name=f.name,
        kind=Kind(f.kind).value,
        method=f.method,
        score=finite(f.score),
        score_kind=f.score_kind,
        p_value=finite(f.p_value),
        adjusted_p_value=finite(f.adjusted_p_value),
        threshold=finite(f.threshold),
        threshold_drifted=None if f.threshold_drifted is None else bool(f.threshold_drifted),
        decision=str(f.decision),
        calibration=f.calibration,
        missing_p_value=finite(f.missing_p_value),
        level=finite(f.level),
        drifted=bool(f.drifted),
        status=Status(f.status).value,
        reference_rows=int(f.reference_rows),
        current_rows=int(f.current_rows),
        prediction=bool(f.prediction),
        message=f.message,
        missing_rate=finite(q.missing_rate),
        reference_missing_rate=finite(q.reference_missing_rate),
        type_error_rate=finite(q.type_error_rate),
        unseen_category_rate=finite(q.unseen_category_rate),
        out_of_range_rate=finite(q.out_of_range_rate),
    )


def feature_record(f: FeatureResultRow) -> FeatureRecord:
    """A stored feature result; a row from before revision 0002 reads as a threshold decision."""
    status = Status(f.status)
    return FeatureRecord(
        id=f.id,
        name=f.name,
        kind=Kind(f.kind),
        method=f.method,
        score=f.score,
        score_kind=f.score_kind,
        p_value=f.p_value,
        adjusted_p_value=f.adjusted_p_value,
        threshold=f.threshold,
        threshold_drifted=f.threshold_drifted,
        decision=f.decision if f.decision is not None else pre_decision_feature_rule(status),
        calibration=f.calibration,
        missing_p_value=f.missing_p_value,
        level=f.level,
        drifted=f.drifted,
        status=status,
        reference_rows=f.reference_rows,
        current_rows=f.current_rows,
        prediction=f.prediction,
        message=f.message,
        missing_rate=f.missing_rate,
        reference_missing_rate=f.reference_missing_rate,
        type_error_rate=f.type_error_rate,
        unseen_category_rate=f.unseen_category_rate,
        out_of_range_rate=f.out_of_range_rate,
    )


def check_record(
    c: Check, monitor: str, reference_version: str, features: tuple[FeatureRecord, ...] | None
) -> CheckRecord:
    """A stored check; a row from before revision 0002 reads as a single-look threshold decision."""
    return CheckRecord(
        id=c.id,
        monitor=monitor,
        reference_version=reference_version,
        started_at=c.started_at,
        duration_seconds=c.duration_seconds,
        window_start=c.window_start,
        window_end=c.window_end,
        rows=c.rows,
        status=Status(c.status),
        dataset_drift=c.dataset_drift,
        drift_share=c.drift_share,
        drift_share_threshold=c.drift_share_threshold,
        drifted_features=c.drifted_features,
        judged_features=c.judged_features,
        multiple_testing=MultipleTesting(c.multiple_testing),
        decision=c.decision if c.decision is not None else PRE_DECISION_RULE,
        alpha=c.alpha,
        look_share=c.look_share if c.look_share is not None else 1.0,
        level=c.level,
        trigger=c.trigger,
        error=c.error,
        features=features,
    )
