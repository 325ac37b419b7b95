"""A check as one self-contained HTML page: inline CSS and SVG, no script, font or image fetched from anywhere.

Built by string joining with html.escape (format.esc) on every value: Jinja2 is not a dependency of driftwatch,
and a page this regular needs no template engine. The page's Content-Security-Policy forbids scripts besides.
"""

from __future__ import annotations

from collections.abc import Sequence

from driftwatch.checks.render import decision_line, summary_line
from driftwatch.checks.results import CheckResult, by_severity
from driftwatch.ood.results import Exemplar
from driftwatch.report import features, ood, text
from driftwatch.report.format import esc, num, pct, when
from driftwatch.storage.records import CheckRecord, ExemplarRecord
from driftwatch.types import Status

# Part of every cached report's name: bump it whenever the page changes, so cached pages are rendered again.
RENDERER_VERSION = 1
# Nothing but inline styles: a value that escaped escaping still could not run or fetch anything.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def report_path(check_id: int, base: str = "") -> str:
    """Where the daemon serves a check's report."""
    return f"{base}/v1/checks/{check_id}/report"


def render_report(
    check: CheckRecord | CheckResult,
    exemplars: Sequence[Exemplar | ExemplarRecord] | None = None,
    *,
    previous_id: int | None = None,
    next_id: int | None = None,
    source: str | None = None,
    link_base: str = "",
) -> str:
    """The HTML report of one check: a stored one (CheckRecord) or one just run (CheckResult).

    `exemplars` default to those the result's OOD block holds; `previous_id` and `next_id` are the monitor's
    neighbouring checks, linked as `{link_base}/v1/checks/{id}/report`; `source` says what was compared.
    """
    record = check if isinstance(check, CheckRecord) else None
    result = check.to_result() if isinstance(check, CheckRecord) else check
    if exemplars is None:
        exemplars = result.ood.exemplars if result.ood is not None else []
    ordered = by_severity(result.features)
    title = f"check {record.id}: {result.monitor}" if record is not None else f"check of {result.monitor}"
    body = [
        f"<header><h1>driftwatch {esc(title)}</h1>{_nav(previous_id, next_id, link_base) if record else ''}</header>",
        _summary(result, record, source),
        "<h2>Features, worst first</h2>",
        features.table(result, ordered),
        "<h2>Out of distribution</h2>",
        ood.summary(result.ood),
    ]
    if result.text:
        body.append("<h2>Text</h2>")
        body += [text.block(t) for t in result.text.values()]
    body += [
        "<h2>Feature details</h2>",
        features.sections(result, ordered),
        "<h2>Data quality</h2>",
        features.quality(ordered),
        "<h2>Exemplars</h2>",
        ood.exemplars(exemplars),
        f"<footer>driftwatch report v{RENDERER_VERSION}. Times are UTC.</footer>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>driftwatch {esc(title)}</title><style>{STYLE}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )


def _nav(previous_id: int | None, next_id: int | None, base: str) -> str:
    def link(check_id: int | None, rel: str, text: str) -> str:
        if check_id is None:
            return f'<span class="off">{text}</span>'
        return f'<a rel="{rel}" href="{esc(report_path(check_id, base))}">{text} (check {check_id})</a>'

    return f"<nav>{link(previous_id, 'prev', '← previous')} · {link(next_id, 'next', 'next →')}</nav>"


def sampled_rows(result: CheckResult) -> int | None:
    """Rows of the sample the check compared: those OOD scored, else a text block's, else the most values read."""
    if result.ood is not None:
        return result.ood.rows
    if result.text:
        return next(iter(result.text.values())).rows
    return max(
        (f.quality.rows if f.status == Status.MISSING_COLUMN else f.current_rows for f in result.features), default=None
    )


def _summary(result: CheckResult, record: CheckRecord | None, source: str | None) -> str:
    if result.status == Status.INSUFFICIENT_DATA:
        banner = '<p class="verdict warn">Insufficient data: no verdict</p>'
    elif result.dataset_drift:
        banner = '<p class="verdict bad">Dataset drift</p>'
    else:
        banner = '<p class="verdict good">No dataset drift</p>'
    sampled = sampled_rows(result)
    facts: list[tuple[str, str]] = [("monitor", result.monitor)]
    if record is not None:
        facts += [("check", f"{record.id} ({record.trigger})")]
    if source:
        facts.append(("compared", source))
    facts += [("reference version", result.reference_version), ("started", when(result.started_at))]
    if record is not None:
        facts.append(("window", f"{when(record.window_start)} to {when(record.window_end)}"))
    facts += [
        ("rows", f"{result.rows:,} seen, {'-' if sampled is None else f'{sampled:,}'} checked (sample)"),
        ("verdict", summary_line(result)),
        ("rule", decision_line(result)),
        (
            "features",
            f"{result.drifted_features} drifted of {result.judged_features} judged"
            f" ({pct(result.drift_share, 0)}; dataset drift from {pct(result.drift_share_threshold, 0)})",
        ),
        ("out of distribution", _ood_line(result)),
        ("duration", f"{num(result.duration_seconds, 3)} s"),
    ]
    if record is not None and record.error:
        facts.append(("error", record.error))
    listed = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    return f'<section class="summary">{banner}<dl class="facts">{listed}</dl></section>'


def _ood_line(result: CheckResult) -> str:
    o = result.ood
    if o is None:
        return "not scored"
    reasons = ", ".join(f"{r} {pct(o.reason_rate(r))}" for r in o.reasons if o.by_reason.get(r))
    line = f"{pct(o.rate)} of {o.rows:,} rows" + (f" ({reasons})" if reasons else "")
    if o.rules is not None:
        line += f"; value rules on all {o.rules.rows:,} window rows: {pct(o.rules.rate)}"
    return line


STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;max-width:1000px;
margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
h3{font-size:16px;margin:20px 0 6px}h4{font-size:14px;margin:14px 0 4px}
header{display:flex;justify-content:space-between;align-items:baseline;flex-wrap:wrap;gap:8px}
nav a{color:#0969da}nav .off{color:#8c959f}
.verdict{font-size:18px;font-weight:600;padding:8px 12px;border-radius:6px;margin:8px 0}
.verdict.bad{background:#ffebe9;color:#a40e26}.verdict.good{background:#dafbe1;color:#116329}
.verdict.warn{background:#fff8c5;color:#7d4e00}
.badge{font-size:12px;font-weight:600;padding:1px 7px;border-radius:10px;white-space:nowrap}
.badge.bad{background:#ffebe9;color:#a40e26}.badge.good{background:#dafbe1;color:#116329}
.badge.warn{background:#fff8c5;color:#7d4e00}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
dl.facts dt{color:#57606a}dl.facts dd{margin:0;overflow-wrap:anywhere}
table.grid{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
table.grid th,table.grid td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
table.grid th{background:#f6f8fa}table.grid td.n{text-align:right;font-variant-numeric:tabular-nums}
table.values td{overflow-wrap:anywhere;max-width:640px}
section.feature,section.text{border-top:1px solid #eaeef2;padding-top:4px}
.chart{display:block;max-width:100%;height:auto}
.chart .ref{fill:#8c959f;fill-opacity:.55}.chart .cur{fill:#d1242f;fill-opacity:.5}
.chart .axis{stroke:#57606a;stroke-width:1}.chart text{font-size:11px;fill:#57606a}.chart .cat{fill:#1f2328}
.legend{font-size:12px;color:#57606a;margin:4px 0}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:-1px}
.key.ref{background:#8c959f;opacity:.55}.key.cur{background:#d1242f;opacity:.5}
.empty,.note{color:#57606a}.exemplar{margin:8px 0 14px}
footer{margin-top:40px;color:#8c959f;font-size:12px}
"""
