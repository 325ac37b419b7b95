"""Render check results for people: a rich table, markdown, a summary line (JSON is `results.to_dict`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from driftwatch.checks.results import CheckResult, FeatureResult, by_severity
from driftwatch.types import Status

if TYPE_CHECKING:
    from rich.table import Table


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
