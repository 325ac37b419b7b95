"""What the history store returns and raises: frozen records, never ORM objects."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from driftwatch.checks.explain import Explanation
from driftwatch.checks.results import CheckResult, FeatureQuality, FeatureResult, by_severity, feature_dict
from driftwatch.errors import DriftwatchError
from driftwatch.ood.results import Exemplar, OodResult
from driftwatch.text.summary import TextSummary
from driftwatch.types import Kind, MultipleTesting, Status

# What started a check; kept short and closed so dashboards can group by it.
TRIGGERS = ("schedule", "window_close", "manual", "cli")
# The rule of checks recorded before results carried one (NULL decision columns, outbox entries without the key).
PRE_DECISION_RULE = "threshold"
# Statuses the threshold rule judged (drifted or not) before results carried their decision.
_PRE_DECISION_JUDGED = frozenset({Status.OK, Status.MISSING_COLUMN, Status.NO_VALID_VALUES})


class StorageError(DriftwatchError):
    """The history database is unreachable, misconfigured or out of date; `url` has its password masked."""

    def __init__(self, url: str, problem: str):
        self.url = url
        self.problem = problem
        super().__init__(f"history database {url}: {problem}")


class StorageUnavailableError(StorageError):
    """The database could not be reached or refused the connection: worth retrying later, not a misconfiguration."""


class UnknownReferenceError(StorageError, LookupError):
    """A check names a reference version that was never recorded."""


class ReferenceLike(Protocol):
    """The parts of a reference profile the store keeps (driftwatch.reference.profile.ReferenceProfile fits)."""

    @property
    def monitor(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def rows(self) -> int: ...

    @property
    def created_at(self) -> float: ...


@dataclass(frozen=True)
class FeatureRecord:
    """One stored feature result; non-finite floats come back as None, results stored before 0002 as threshold ones."""

    id: int
    name: str
    kind: Kind
    method: str | None
    score: float | None
    score_kind: str | None
    p_value: float | None
    adjusted_p_value: float | None
    threshold: float | None
    threshold_drifted: bool | None
    decision: str
    calibration: str | None
    missing_p_value: float | None
    level: float | None
    drifted: bool
    status: Status
    reference_rows: int
    current_rows: int
    prediction: bool
    message: str
    missing_rate: float | None
    reference_missing_rate: float | None
    type_error_rate: float | None
    unseen_category_rate: float | None
    out_of_range_rate: float | None
    explanation: Explanation | None = None

    def to_result(self, rows: int) -> FeatureResult:
        """The feature as the engine's FeatureResult of a check of `rows` rows, for severity and the renderers."""
        return _feature_result(self, rows)


@dataclass(frozen=True)
class CheckRecord:
    """One stored check; times are UTC epoch seconds and `features` is None when not loaded (list views by default)."""

    id: int
    monitor: str
    reference_version: str
    started_at: float
    duration_seconds: float
    window_start: float | None
    window_end: float | None
    rows: int
    status: Status
    dataset_drift: bool
    drift_share: float
    drift_share_threshold: float
    drifted_features: int
    judged_features: int
    multiple_testing: MultipleTesting
    decision: str
    alpha: float | None
    look_share: float
    level: float | None
    trigger: str
    error: str | None
    features: tuple[FeatureRecord, ...] | None = None
    # The OOD summary (None: scoring was off, or stored before revision 0003); its exemplars only with `features`.
    ood: OodResult | None = None
    # Exemplars stored with the check, also when they are not loaded.
    ood_exemplars: int = 0
    text: dict[str, TextSummary] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The check as GET /v1/checks/{id} answers it; features (worst first) only when they were loaded."""
        out: dict[str, Any] = {
            "id": self.id,
            "monitor": self.monitor,
            "reference_version": self.reference_version,
            "started_at": self.started_at,
            "duration_seconds": self.duration_seconds,
            "window_start": _finite(self.window_start),
            "window_end": _finite(self.window_end),
            "rows": self.rows,
            "status": self.status.value,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "drift_share_threshold": self.drift_share_threshold,
            "drifted_features": self.drifted_features,
            "judged_features": self.judged_features,
            "multiple_testing": self.multiple_testing.value,
            "decision": {
                "rule": self.decision,
                "alpha": self.alpha,
                "look_share": self.look_share,
                "level": self.level,
            },
            "trigger": self.trigger,
            "error": self.error,
            # The count stored, also in list views where the exemplars themselves are not loaded.
            "ood": None if self.ood is None else {**self.ood.to_dict(), "exemplars": self.ood_exemplars},
            "text": {name: t.to_dict() for name, t in self.text.items()},
        }
        if self.features is not None:
            out["features"] = [feature_dict(f) for f in by_severity(self.to_result().features)]
        return out

    def to_result(self) -> CheckResult:
        """The check as the engine's CheckResult, so the renderers can show past checks; NULL rates become NaN."""
        if self.features is None:
            raise ValueError(f"check {self.id} was loaded without its features; use HistoryStore.get_check")
        return CheckResult(
            monitor=self.monitor,
            reference_version=self.reference_version,
            rows=self.rows,
            status=self.status,
            dataset_drift=self.dataset_drift,
            drifted_features=self.drifted_features,
            judged_features=self.judged_features,
            drift_share=self.drift_share,
            drift_share_threshold=self.drift_share_threshold,
            multiple_testing=self.multiple_testing,
            started_at=self.started_at,
            duration_seconds=self.duration_seconds,
            features=[f.to_result(self.rows) for f in self.features],
            decision=self.decision,
            alpha=self.alpha,
            look_share=self.look_share,
            level=self.level,
            ood=self.ood,
            text=dict(self.text),
        )


@dataclass(frozen=True)
class ExemplarRecord:
    """One stored OOD exemplar: `values` are as redacted before it was kept; rank 0 is its check's most novel row."""

    id: int
    check_id: int
    monitor: str
    started_at: float
    rank: int
    p_value: float | None
    score: float | None
    reasons: tuple[str, ...]
    features: tuple[str, ...]
    values: dict[str, Any]
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        """The exemplar as GET /v1/checks/{id}/exemplars and `driftwatch exemplars CHECK_ID` list it."""
        return {
            "rank": self.rank,
            "reasons": list(self.reasons),
            "features": list(self.features),
            "p_value": self.p_value,
            "score": self.score,
            "values": self.values,
            "fingerprint": self.fingerprint,
        }

    def to_exemplar(self) -> Exemplar:
        """The exemplar as OOD scoring returned it."""
        return Exemplar(
            values=dict(self.values),
            reasons=list(self.reasons),
            features=list(self.features),
            p_value=self.p_value,
            score=self.score,
        )


@dataclass(frozen=True)
class MonitorSummary:
    """A monitor and its latest check, if any."""

    name: str
    last_check_id: int | None
    last_check_at: float | None
    last_status: Status | None
    last_dataset_drift: bool | None


def _feature_result(f: FeatureRecord, rows: int) -> FeatureResult:
    # The engine's quality rows is always the check's row count, so it is not stored per feature.
    quality = FeatureQuality(
        rows=rows,
        missing_rate=_nan(f.missing_rate),
        reference_missing_rate=_nan(f.reference_missing_rate),
        type_error_rate=_nan(f.type_error_rate),
        unseen_category_rate=f.unseen_category_rate,
        out_of_range_rate=f.out_of_range_rate,
    )
    return FeatureResult(
        name=f.name,
        kind=f.kind,
        method=f.method,
        score=f.score,
        threshold=f.threshold,
        drifted=f.drifted,
        status=f.status,
        reference_rows=f.reference_rows,
        current_rows=f.current_rows,
        quality=quality,
        score_kind=f.score_kind,
        p_value=f.p_value,
        adjusted_p_value=f.adjusted_p_value,
        threshold_drifted=f.threshold_drifted,
        decision=f.decision,
        calibration=f.calibration,
        missing_p_value=f.missing_p_value,
        level=f.level,
        prediction=f.prediction,
        message=f.message,
        explanation=f.explanation,
    )


def pre_decision_feature_rule(status: Status) -> str:
    """The decision of a feature result recorded before results carried one: thresholds judged, or nothing."""
    return PRE_DECISION_RULE if status in _PRE_DECISION_JUDGED else "none"


def _finite(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None


def _nan(x: float | None) -> float:
    return math.nan if x is None else x
