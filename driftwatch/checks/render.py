"""Render check results for people (rich table, markdown) and machines (JSON)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from driftwatch.checks.engine import CheckResult, FeatureResult
from driftwatch.types import Status

if TYPE_CHECKING:
    from rich.table import Table

# JSON output schema version; bump on incompatible changes (docs/configuration.md describes the fields).
JSON_SCHEMA_VERSION = 1
_STATUS_ORDER = {
    Status.MISSING_COLUMN: 0,
    Status.NO_VALID_VALUES: 1,
    Status.OK: 2,
    Status.ERROR: 3,
    Status.NO_REFERENCE_VALUES: 4,
    Status.INSUFFICIENT_DATA: 5,
}


def severity(result: FeatureResult) -> float:
    """How far past (or short of) its threshold a score is: > 1 means drifted, larger is worse."""
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
        "started_at": result.started_at,
        "duration_seconds": result.duration_seconds,
        "features": [feature_dict(f) for f in by_severity(result.features)],
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
    }


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _quality_notes(f: FeatureResult) -> str:
    q = f.quality
    notes = []
    if q.missing_rate > 0:
        notes.append(f"missing {_pct(q.missing_rate)} (ref {_pct(q.reference_missing_rate)})")
    if q.unseen_category_rate:
        notes.append(f"unseen {_pct(q.unseen_category_rate)}")
    if q.out_of_range_rate:
        notes.append(f"out of range {_pct(q.out_of_range_rate)}")
    if q.type_error_rate:
        notes.append(f"type errors {_pct(q.type_error_rate)}")
    return ", ".join(notes)


PREDICTION_MARK = " (prediction)"


def display_name(f: FeatureResult) -> str:
    """The feature's name, marked when the column is a model prediction rather than an input."""
    return f.name + PREDICTION_MARK if f.prediction else f.name


def summary_line(result: CheckResult) -> str:
    """One sentence with the dataset verdict."""
    if result.status == Status.INSUFFICIENT_DATA:
        return f"{result.monitor}: insufficient data ({result.rows} rows), no verdict"
    verdict = "DATASET DRIFT" if result.dataset_drift else "no dataset drift"
    return (
        f"{result.monitor}: {verdict}: {result.drifted_features} of {result.judged_features} features drifted "
        f"({result.drift_share:.0%}, threshold {result.drift_share_threshold:.0%}) on {result.rows} rows"
    )


def to_table(result: CheckResult) -> Table:
    """A rich table sorted by severity."""
    from rich.table import Table

    table = Table(title=summary_line(result), title_justify="left")
    for col in ("feature", "kind", "method", "score", "threshold", "drifted", "status", "quality"):
        table.add_column(col, justify="right" if col in {"score", "threshold"} else "left")
    for f in by_severity(result.features):
        drifted = "[bold red]yes[/]" if f.drifted else "no"
        score = _fmt(f.score)
        if f.adjusted_p_value is not None:
            score += f" (adj {_fmt(f.adjusted_p_value)})"
        status = f.status.value + (f": {f.message}" if f.message and f.status != "ok" else "")
        table.add_row(
            display_name(f), f.kind.value, f.method or "-", score, _fmt(f.threshold), drifted, status, _quality_notes(f)
        )
    return table


def to_markdown(result: CheckResult) -> str:
    """A markdown report suitable for a pull-request comment."""
    icon = "🔴" if result.dataset_drift else "🟢"
    lines = [
        f"### {icon} driftwatch: {summary_line(result)}",
        "",
        f"Reference version `{result.reference_version}`, multiple testing: {result.multiple_testing.value}.",
        "",
        "| feature | kind | method | score | threshold | drifted | status | quality |",
        "|---|---|---|---:|---:|---|---|---|",
    ]
    for f in by_severity(result.features):
        mark = PREDICTION_MARK if f.prediction else ""
        lines.append(
            f"| `{f.name}`{mark} | {f.kind.value} | {f.method or '-'} | {_fmt(f.score)} | {_fmt(f.threshold)} | "
            f"{'**yes**' if f.drifted else 'no'} | {f.status.value} | {_quality_notes(f) or '-'} |"
        )
    return "\n".join(lines) + "\n"
