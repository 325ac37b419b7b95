"""What a check returns: per-feature results and the dataset verdict, and their documented JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from driftwatch.checks.explain import Explanation
from driftwatch.ood.results import OodResult
from driftwatch.text.summary import TextSummary
from driftwatch.types import Kind, MultipleTesting, Status

# JSON output schema version; bump on incompatible changes (docs/configuration.md describes the fields).
JSON_SCHEMA_VERSION = 2
_STATUS_ORDER = {
    Status.MISSING_COLUMN: 0,
    Status.NO_VALID_VALUES: 1,
    Status.MOSTLY_MISSING: 2,
    Status.OK: 3,
    Status.ERROR: 4,
    Status.NO_REFERENCE_VALUES: 5,
    Status.INSUFFICIENT_DATA: 6,
    Status.SIGNALS: 7,
}


def severity(result: FeatureResult) -> float:
    """How far past (or short of) its decision line a feature is: > 1 means drifted, larger is worse."""
    if result.decision == "calibrated" and result.p_value is not None and result.level:
        p = result.adjusted_p_value if result.adjusted_p_value is not None else result.p_value
        return result.level / max(p, 1e-300)
    if result.score is None or result.threshold is None:
        return math.inf if result.drifted else 0.0
    if result.score_kind == "p_value":
        p = result.adjusted_p_value if result.adjusted_p_value is not None else result.score
        return result.threshold / max(p, 1e-300)
    return result.score / result.threshold


def by_severity(results: list[FeatureResult]) -> list[FeatureResult]:
    """Drifted features first, worst first; then the rest; features without a test last."""
    return sorted(results, key=lambda r: (not r.drifted, _STATUS_ORDER[r.status], -severity(r), r.name))


def _num(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None


def to_dict(result: CheckResult) -> dict[str, Any]:
    """The documented JSON form of a check result."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "monitor": result.monitor,
        "reference_version": result.reference_version,
        "status": result.status.value,
        "rows": result.rows,
        "dataset_drift": result.dataset_drift,
        "drift_share": result.drift_share,
        "drift_share_threshold": result.drift_share_threshold,
        "drifted_features": result.drifted_features,
        "judged_features": result.judged_features,
        "multiple_testing": result.multiple_testing.value,
        "decision": {
            "rule": result.decision,
            "alpha": result.alpha,
            "look_share": result.look_share,
            "level": result.level,
        },
        "started_at": result.started_at,
        "duration_seconds": result.duration_seconds,
        "features": [feature_dict(f) for f in by_severity(result.features)],
        "ood": result.ood.to_dict() if result.ood is not None else None,
        "text": {name: t.to_dict() for name, t in result.text.items()},
    }


def feature_dict(f: FeatureResult) -> dict[str, Any]:
    """One feature's JSON object."""
    q = f.quality
    return {
        "name": f.name,
        "kind": f.kind.value,
        "method": f.method,
        "score": _num(f.score),
        "score_kind": f.score_kind,
        "p_value": _num(f.p_value),
        "adjusted_p_value": _num(f.adjusted_p_value),
        "threshold": f.threshold,
        "threshold_drifted": f.threshold_drifted,
        "decision": f.decision,
        "calibration": f.calibration,
        "missing_p_value": _num(f.missing_p_value),
        "level": f.level,
        "drifted": f.drifted,
        "status": f.status.value,
        "reference_rows": f.reference_rows,
        "current_rows": f.current_rows,
        "prediction": f.prediction,
        "message": f.message,
        "quality": {
            "rows": q.rows,
            "missing_rate": q.missing_rate,
            "reference_missing_rate": q.reference_missing_rate,
            "type_error_rate": q.type_error_rate,
            "unseen_category_rate": q.unseen_category_rate,
            "out_of_range_rate": q.out_of_range_rate,
        },
        "explanation": f.explanation.to_dict() if f.explanation is not None else None,
    }


@dataclass(frozen=True)
class FeatureQuality:
    """Data quality of one feature in the current sample; rates are 0-1, None where they do not apply."""

    rows: int
    missing_rate: float
    reference_missing_rate: float
    type_error_rate: float
    unseen_category_rate: float | None = None
    out_of_range_rate: float | None = None


@dataclass(frozen=True)
class FeatureResult:
    """One feature's comparison: the test that ran, its score, and whether it counts as drift."""

    name: str
    kind: Kind
    method: str | None
    score: float | None
    threshold: float | None
    drifted: bool
    status: Status
    reference_rows: int
    current_rows: int
    quality: FeatureQuality
    score_kind: str | None = None
    # calibrated decision: the calibrated p-value; threshold decision: the test's own p-value, if it has one
    p_value: float | None = None
    adjusted_p_value: float | None = None
    # evidently's verdict from `score` and `threshold`, kept beside a calibrated decision for comparison
    threshold_drifted: bool | None = None
    # the rule that set `drifted`: "calibrated", "threshold" or "none" (not judged)
    decision: str = "none"
    # how `p_value` was obtained: "bootstrap", "exact", "missing_rate" (judged on usable values alone) or None
    calibration: str | None = None
    # two-sample test of the share of unusable values (missing, non-finite, wrong type) against the reference
    missing_p_value: float | None = None
    # the level `adjusted_p_value` was compared with: alpha times this look's share of the window's alpha
    level: float | None = None
    prediction: bool = False
    message: str = ""
    # what explains the verdict (distributions then and now, checks/explain.py); None where nothing was judged
    explanation: Explanation | None = None


@dataclass(frozen=True)
class CheckResult:
    """A whole check: per-feature results and the dataset-level verdict."""

    monitor: str
    reference_version: str
    rows: int
    status: Status
    dataset_drift: bool
    drifted_features: int
    judged_features: int
    drift_share: float
    drift_share_threshold: float
    multiple_testing: MultipleTesting
    started_at: float
    duration_seconds: float
    features: list[FeatureResult] = field(default_factory=list)
    # "calibrated" or "threshold": the rule behind every feature's `drifted`
    decision: str = "threshold"
    alpha: float | None = None
    # this look's share of the window's alpha (1 for a single look: a file, a closed window never looked at)
    look_share: float = 1.0
    level: float | None = None
    # rows of the checked sample out of distribution (None: OOD scoring disabled, or no rows)
    ood: OodResult | None = None
    # per text feature with derived signals: its languages, code-switching, scripts and vocabulary
    text: dict[str, TextSummary] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form, exactly what `driftwatch check --format json` prints."""
        return to_dict(self)
