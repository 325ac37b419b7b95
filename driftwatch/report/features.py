"""The feature parts of a report: the verdict table, one section per feature with its chart, data quality."""

from __future__ import annotations

import math

from driftwatch.checks.explain import CategoricalExplanation, NumericExplanation
from driftwatch.checks.render import display_name
from driftwatch.checks.results import CheckResult, FeatureResult
from driftwatch.report import charts
from driftwatch.report.format import esc, label, num, pct


def anchor(index: int) -> str:
    """The id of a feature's section: by position, since a name may hold any character."""
    return f"feature-{index}"


def verdict(f: FeatureResult) -> str:
    """A feature's verdict as a badge: drifted, not drifted, or the status that kept it from a test."""
    if f.drifted:
        return '<span class="badge bad">drifted</span>'
    if f.status.value in ("ok", "signals"):
        text = "judged through its signals" if f.status.value == "signals" else "not drifted"
        return f'<span class="badge good">{text}</span>'
    return f'<span class="badge warn">{esc(f.status.value)}</span>'


def _p_value(f: FeatureResult) -> str:
    out = num(f.p_value)
    return out + (f" (adjusted {num(f.adjusted_p_value)})" if f.adjusted_p_value is not None else "")


def _line(result: CheckResult, f: FeatureResult) -> str:
    """What decided: p-value against the level, or score against the threshold."""
    if result.decision == "calibrated":
        line = f"p-value {_p_value(f)} against level {num(f.level if f.p_value is not None else None)}"
        # The p-value combines the distribution's and the missing share's tests (calibrate.combine): when it is
        # twice the missing share's, that test gave the smaller one, however little the values' distribution moved.
        m = f.missing_p_value
        if m is not None and f.p_value is not None and math.isclose(f.p_value, min(1.0, 2 * m), rel_tol=1e-9):
            line += (
                f": set by the share of missing or unusable values ({pct(f.quality.missing_rate)} now, "
                f"{pct(f.quality.reference_missing_rate)} in the reference; its test's p-value {num(m)})"
            )
        return line
    score = num(f.score) + (f" (adjusted {num(f.adjusted_p_value)})" if f.adjusted_p_value is not None else "")
    return f"score {score} against threshold {num(f.threshold)}"


def table(result: CheckResult, ordered: list[FeatureResult]) -> str:
    """Every feature, worst first, each linking to its section."""
    calibrated = result.decision == "calibrated"
    rule = ("score", "p-value", "level") if calibrated else ("score", "threshold")
    head = "".join(f"<th>{c}</th>" for c in ("feature", "kind", "method", *rule, "verdict"))
    rows = []
    for i, f in enumerate(ordered):
        if calibrated:
            cells = (num(f.score), _p_value(f), num(f.level if f.p_value is not None else None))
        else:
            cells = (num(f.score), num(f.threshold))
        numbers = "".join(f'<td class="n">{esc(c)}</td>' for c in cells)
        rows.append(
            f'<tr><td><a href="#{anchor(i)}">{esc(display_name(f))}</a></td><td>{esc(f.kind.value)}</td>'
            f"<td>{esc(f.method or '-')}</td>{numbers}<td>{verdict(f)}</td></tr>"
        )
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def sections(result: CheckResult, ordered: list[FeatureResult]) -> str:
    """One section per feature, worst first: its test, verdict and what explains it."""
    return "".join(_section(result, i, f) for i, f in enumerate(ordered))


def _section(result: CheckResult, index: int, f: FeatureResult) -> str:
    facts = [
        ("kind", f.kind.value),
        ("method", f.method or "-"),
        ("decided by", _line(result, f) if f.decision != "none" else "not judged"),
        ("rows", f"{f.current_rows:,} current values against {f.reference_rows:,} reference values"),
    ]
    if f.calibration:
        facts.append(("p-value from", f.calibration))
    if f.threshold_drifted is not None and f.threshold_drifted != f.drifted:
        facts.append(("threshold rule", "drifted" if f.threshold_drifted else "not drifted"))
    if f.message:
        facts.append(("note", f.message))
    listed = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    return (
        f'<section class="feature" id="{anchor(index)}"><h3>{esc(display_name(f))} {verdict(f)}</h3>'
        f'<dl class="facts">{listed}</dl>{explanation(f)}</section>'
    )


def explanation(f: FeatureResult) -> str:
    """The chart and tables of a feature's explanation; a line saying there is none otherwise."""
    e = f.explanation
    if isinstance(e, NumericExplanation):
        return charts.legend() + charts.histogram(e.bins) + _quantiles(e)
    if isinstance(e, CategoricalExplanation):
        return _categorical(e)
    return '<p class="empty">no distributions kept for this feature</p>'


def _quantiles(e: NumericExplanation) -> str:
    rows = "".join(
        f'<tr><td>p{esc(num(level * 100, 3))}</td><td class="n">{esc(num(r))}</td><td class="n">{esc(num(c))}</td>'
        f'<td class="n">{esc(num(c - r))}</td></tr>'
        for level, r, c in zip(e.levels, e.reference, e.current, strict=True)
    )
    return (
        '<table class="grid quantiles"><thead><tr><th>quantile</th><th>reference</th><th>current</th>'
        f"<th>change</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _categorical(e: CategoricalExplanation) -> str:
    moved = [(s.value, s.reference, s.current) for s in e.moved]
    out = "<h4>Categories whose share moved most</h4>" + charts.legend() + charts.paired_bars(moved, "categories")
    if e.unseen_values:
        rows = "".join(
            f'<tr><td>{esc(label(u.value) if not u.value else u.value)}</td><td class="n">{u.count:,}</td></tr>'
            for u in e.unseen
        )
        shown = f", the {len(e.unseen)} most frequent listed" if e.unseen_values > len(e.unseen) else ""
        out += (
            f"<h4>Values the reference never had: {e.unseen_values:,} distinct in {e.unseen_rows:,} rows{shown}</h4>"
            '<table class="grid"><thead><tr><th>value</th><th>rows</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    return out


def quality(ordered: list[FeatureResult]) -> str:
    """Per feature, the shares of missing, unreadable, unseen and out-of-range values in the current sample."""
    cols = ("feature", "missing", "reference missing", "type errors", "unseen", "out of range", "missing-rate p")
    head = "".join(f"<th>{c}</th>" for c in cols)
    rows = []
    for f in ordered:
        q = f.quality
        cells = (
            pct(q.missing_rate),
            pct(q.reference_missing_rate),
            pct(q.type_error_rate),
            pct(q.unseen_category_rate),
            pct(q.out_of_range_rate),
            num(f.missing_p_value),
        )
        numbers = "".join(f'<td class="n">{esc(c)}</td>' for c in cells)
        rows.append(f"<tr><td>{esc(display_name(f))}</td>{numbers}</tr>")
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
