"""Check results to ORM rows and ORM rows to records: the one place that knows how each field is stored."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, replace
from typing import Any

from driftwatch.checks.explain import from_dict as explanation_from_dict
from driftwatch.checks.results import CheckResult, FeatureResult
from driftwatch.ood.results import Exemplar, OodResult, RuleCounts
from driftwatch.storage.models import Check, ExemplarRow, FeatureResultRow
from driftwatch.storage.records import (
    PRE_DECISION_RULE,
    CheckRecord,
    ExemplarRecord,
    FeatureRecord,
    pre_decision_feature_rule,
)
from driftwatch.text.summary import TextSummary
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
    """The checks row of a result with its feature and exemplar rows; monitor and reference ids are the caller's."""
    row = Check(
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
        **ood_columns(result.ood),
        text={name: t.to_json() for name, t in result.text.items()} or None,
    )
    for e in row.exemplars:
        e.started_at = row.started_at
    return row


def without_exemplars(result: CheckResult) -> CheckResult:
    """The result with its OOD summary but no exemplars, for monitors with `ood.store_exemplars: false`."""
    if result.ood is None or not result.ood.exemplars:
        return result
    return replace(result, ood=replace(result.ood, exemplars=[]))


def ood_columns(ood: OodResult | None) -> dict[str, Any]:
    """The checks columns of an OOD summary, and its exemplar rows (monitor id and time are set when stored)."""
    if ood is None:
        return {"ood_rate": None, "ood_rows": None, "ood": None, "exemplars": []}
    summary = {
        "rows": int(ood.rows),
        "alpha": float(ood.alpha),
        "by_reason": {k: int(v) for k, v in ood.by_reason.items()},
        "features": {k: int(v) for k, v in ood.features.items()},
        "reasons": list(ood.reasons),
        "disabled": dict(ood.disabled),
        "duration_seconds": finite(ood.duration_seconds) or 0.0,
        "exemplars": len(ood.exemplars),
        "rules": None if ood.rules is None else asdict(ood.rules),
    }
    exemplars = [exemplar_row(e, rank) for rank, e in enumerate(ood.exemplars)]
    return {"ood_rate": finite(ood.rate), "ood_rows": int(ood.ood_rows), "ood": summary, "exemplars": exemplars}


def plain_values(values: dict[str, Any]) -> dict[str, Any]:
    """Redacted values as JSON holds them (dates and other objects as text, NaN as null)."""
    text = json.dumps(values, default=str, sort_keys=True)
    return json.loads(text, parse_constant=lambda _: None)


def fingerprint(values: dict[str, Any]) -> str:
    """SHA-256 of the redacted values as canonical JSON: equal rows, equal fingerprints, across checks."""
    canonical = json.dumps(plain_values(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def exemplar_row(e: Exemplar, rank: int) -> ExemplarRow:
    """The exemplars row of one exemplar; its values are the redacted ones OOD scoring kept."""
    values = plain_values(e.values)
    return ExemplarRow(
        rank=rank,
        p_value=finite(e.p_value),
        score=finite(e.score),
        reasons=list(e.reasons),
        features=list(e.features),
        redacted_values=values,
        fingerprint=fingerprint(values),
    )


def exemplar_record(e: ExemplarRow, monitor: str) -> ExemplarRecord:
    """A stored exemplar."""
    return ExemplarRecord(
        id=e.id,
        check_id=e.check_id,
        monitor=monitor,
        started_at=e.started_at,
        rank=e.rank,
        p_value=e.p_value,
        score=e.score,
        reasons=tuple(e.reasons),
        features=tuple(e.features),
        values=dict(e.redacted_values),
        fingerprint=e.fingerprint,
    )


def ood_result(c: Check, exemplars: tuple[ExemplarRecord, ...] | None) -> OodResult | None:
    """The stored OOD summary of a check, with its exemplars when they were loaded."""
    if c.ood is None:
        return None
    s = c.ood
    return OodResult(
        rows=int(s["rows"]),
        ood_rows=int(c.ood_rows or 0),
        alpha=float(s["alpha"]),
        by_reason=dict(s["by_reason"]),
        features=dict(s["features"]),
        reasons=list(s["reasons"]),
        disabled=dict(s["disabled"]),
        exemplars=[e.to_exemplar() for e in exemplars or ()],
        duration_seconds=float(s.get("duration_seconds", 0.0)),
        rules=RuleCounts(**s["rules"]) if s.get("rules") else None,
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
        explanation=f.explanation.to_dict() if f.explanation is not None else None,
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
        explanation=explanation_from_dict(f.explanation),
    )


def check_record(
    c: Check,
    monitor: str,
    reference_version: str,
    features: tuple[FeatureRecord, ...] | None,
    exemplars: tuple[ExemplarRecord, ...] | None = None,
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
        ood=ood_result(c, exemplars),
        ood_exemplars=int(c.ood["exemplars"]) if c.ood is not None else 0,
        text={name: TextSummary.from_json(t) for name, t in (c.text or {}).items()},
    )
