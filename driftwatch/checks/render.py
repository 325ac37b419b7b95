"""Render check results for people: a rich table, markdown, a summary line (JSON is `results.to_dict`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from driftwatch.checks.results import CheckResult, FeatureResult, by_severity
from driftwatch.types import Status

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

# Widest a table gets when stdout is not a terminal; far past any real row, it only bounds the measurement.
MAX_LOG_WIDTH = 100_000


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
    # Evidence beside the distribution test; a feature judged on its missing rate shows it as its p-value.
    unusable = q.missing_rate > 0 or q.type_error_rate > 0
    if unusable and f.missing_p_value is not None and f.calibration != "missing_rate":
        notes.append(f"missing-rate p {_fmt(f.missing_p_value)}")
    return ", ".join(notes)


PREDICTION_MARK = " (prediction)"
_NUMBERS = frozenset({"score", "p-value", "level", "threshold"})


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


def decision_line(result: CheckResult) -> str:
    """One sentence with the rule behind every feature's verdict."""
    correction = f"multiple testing: {result.multiple_testing.value}"
    if not _calibrated(result):
        return f"Decision: each test's score against its threshold; {correction}."
    how = sorted({f.calibration for f in result.features if f.calibration})
    level = f"level {_fmt(result.level)}"
    if result.alpha is not None and result.look_share != 1:
        level += f" (alpha {_fmt(result.alpha)} times this look's share {_fmt(result.look_share)})"
    calibrations = f" ({', '.join(how)})" if how else ""
    return f"Decision: calibrated p-values{calibrations} against {level}; {correction}."


def ood_line(result: CheckResult) -> str | None:
    """One sentence with the out-of-distribution rate, its reasons and the features they name (None: not scored)."""
    ood = result.ood
    if ood is None:
        return None
    line = f"Out of distribution: {_pct(ood.rate)} of {ood.rows} rows"
    reasons = sorted(((r, ood.reason_rate(r)) for r in ood.reasons), key=lambda x: -x[1])
    if any(rate for _, rate in reasons):
        line += ": " + ", ".join(f"{r} {_pct(rate)}" for r, rate in reasons if rate)
    top = sorted(((n, k) for n, k in ood.features.items() if k), key=lambda x: (-x[1], x[0]))[:5]
    if top:
        line += "; features " + ", ".join(f"{n} {_pct(k / ood.rows)}" for n, k in top)
    line += f" (novelty at alpha {_fmt(ood.alpha)})" if "novel" in ood.reasons else ""
    if ood.rules is not None:
        line += f"; the value rules, counted on all {ood.rules.rows} window rows: {_pct(ood.rules.rate)}"
    for reason, why in ood.disabled.items():
        line += f"; {reason} disabled: {why}"
    return line + "."


def text_lines(result: CheckResult) -> list[str]:
    """Per text feature, its languages now (and in the reference), the new ones, and its code-switching rate."""
    out = []
    for name, t in result.text.items():
        langs = sorted(t.languages.items(), key=lambda kv: -(kv[1][1] or 0))[:5]
        shown = ", ".join(f"{k} {_pct(cur or 0)} (ref {_pct(ref or 0)})" for k, (ref, cur) in langs)
        line = f"Text {name}: languages {shown}"
        if t.new_languages:
            line += "; new: " + ", ".join(f"{k} {_pct(v)}" for k, v in list(t.new_languages.items())[:5])
        ref, cur = t.code_switching
        if cur is not None:
            line += f"; code-switching {_pct(cur)} (ref {_pct(ref or 0)})"
        out.append(line + ".")
    return out


def _caption(result: CheckResult) -> str:
    return "\n".join(x for x in (decision_line(result), ood_line(result), *text_lines(result)) if x)


def _calibrated(result: CheckResult) -> bool:
    return result.decision == "calibrated"


def _columns(result: CheckResult) -> tuple[str, ...]:
    """The table's columns: what decided (p-value and level, or score and threshold) sits before `drifted`."""
    rule = ("score", "p-value", "level") if _calibrated(result) else ("score", "threshold")
    return ("feature", "kind", "method", *rule, "drifted", "status", "quality")


def _with_adjusted(x: float | None, adjusted: float | None) -> str:
    return _fmt(x) + (f" (adj {_fmt(adjusted)})" if adjusted is not None else "")


def _rule_cells(result: CheckResult, f: FeatureResult) -> tuple[str, ...]:
    if _calibrated(result):
        level = f.level if f.p_value is not None else None  # a level with nothing to compare is noise
        return _fmt(f.score), _with_adjusted(f.p_value, f.adjusted_p_value), _fmt(level)
    return _with_adjusted(f.score, f.adjusted_p_value), _fmt(f.threshold)


def _drifted(f: FeatureResult, yes: str) -> str:
    cell = yes if f.drifted else "no"
    # Evidently's verdict, where it differs from the calibrated one.
    if f.threshold_drifted is not None and f.threshold_drifted != f.drifted:
        cell += f" (threshold: {'yes' if f.threshold_drifted else 'no'})"
    return cell


def to_table(
    result: CheckResult,
    extra_columns: tuple[str, ...] = (),
    extra_cells: Callable[[FeatureResult], tuple[str, ...]] | None = None,
) -> Table:
    """A rich table sorted by severity, the decision rule below it; `extra_cells` fills `extra_columns` per feature."""
    from rich.table import Table

    table = Table(title=summary_line(result), title_justify="left", caption=_caption(result), caption_justify="left")
    for col in (*_columns(result), *extra_columns):
        table.add_column(col, justify="right" if col in _NUMBERS else "left")
    for f in by_severity(result.features):
        status = f.status.value + (f": {f.message}" if f.message and f.status != "ok" else "")
        table.add_row(
            display_name(f),
            f.kind.value,
            f.method or "-",
            *_rule_cells(result, f),
            _drifted(f, "[bold red]yes[/]"),
            status,
            _quality_notes(f),
            *(extra_cells(f) if extra_cells is not None else ()),
        )
    return table


def to_markdown(result: CheckResult) -> str:
    """A markdown report suitable for a pull-request comment."""
    icon = "🔴" if result.dataset_drift else "🟢"
    columns = _columns(result)
    lines = [
        f"### {icon} driftwatch: {summary_line(result)}",
        "",
        f"Reference version `{result.reference_version}`. {decision_line(result)}",
        *(["", line] if (line := ood_line(result)) else []),
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---:" if c in _NUMBERS else "---" for c in columns) + "|",
    ]
    for f in by_severity(result.features):
        mark = PREDICTION_MARK if f.prediction else ""
        cells = (
            f"`{f.name}`{mark}",
            f.kind.value,
            f.method or "-",
            *_rule_cells(result, f),
            _drifted(f, "**yes**"),
            f.status.value,
            _quality_notes(f) or "-",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def print_table(console: Console, table: Table) -> None:
    """Print a table; off a terminal (CI logs) at its natural width, so no name or method is cut or wrapped."""
    from rich.console import Console
    from rich.measure import Measurement

    if console.is_terminal:
        console.print(table)
        return
    width = Measurement.get(console, console.options.update_width(MAX_LOG_WIDTH), table).maximum
    # Console.print never exceeds the console's own width (80 off a terminal), so print through a wider one.
    Console(file=console.file, width=max(width, console.width)).print(table)
