"""The pages themselves: the monitor list, one monitor's checks over a time range, and error pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from driftwatch.checks.results import FeatureResult, by_severity
from driftwatch.storage import CheckRecord
from driftwatch.ui.html import Html, el, number, percent, text, when
from driftwatch.ui.timeline import ood_rate, timeline, verdict
from driftwatch.ui.timerange import TimeRange

# Worst features named per check in the table.
WORST_SHOWN = 3
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#111827;background:#f9fafb}
header{background:#111827;color:#f9fafb;padding:10px 20px;display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}
header a{color:#93c5fd}header h1{font-size:18px;margin:0}
main{padding:12px 20px 40px;max-width:1400px}
h2{font-size:16px;margin:22px 0 8px}
nav.range{display:flex;gap:14px;align-items:baseline;flex-wrap:wrap;margin:8px 0}
.muted{color:#6b7280}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.drift td:first-child{border-left:4px solid #dc2626}
tr.selected{background:#fef3c7}tr.drifted{background:#fee2e2}
.verdict-drift{color:#b91c1c;font-weight:600}.verdict-ok{color:#15803d}
.feature-drifted{color:#b91c1c;font-weight:600}
section.chosen{border:2px solid #f59e0b;background:#fffbeb;padding:4px 14px 14px;margin-top:16px}
svg.timeline{width:100%;height:auto;max-height:300px;background:#fff;border:1px solid #e5e7eb}
svg .axis{font-size:11px;fill:#4b5563}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.facts dt{color:#6b7280}dl.facts dd{margin:0}
.error{background:#fee2e2;border:1px solid #fca5a5;padding:12px 16px}
"""


def page(title: str, *body: Html, crumbs: Sequence[Html] = ()) -> str:
    """A whole document: inline styles, no scripts, no external assets (the empty icon stops a /favicon.ico fetch)."""
    head = el(
        "head",
        Html('<meta charset="utf-8">'),
        Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        el("title", title),
        Html('<link rel="icon" href="data:,">'),
        el("style", Html(CSS)),
    )
    top = el("header", el("h1", el("a", "driftwatch", href="/ui/")), *crumbs)
    return "<!doctype html>\n" + el("html", head, el("body", top, el("main", *body)), lang="en")


def error_page(status: int, message: str) -> str:
    """An error as a page; `message` says what was wrong and how to fix it."""
    return page(
        f"{status} - driftwatch",
        el("div", el("strong", f"{status}: "), message, class_="error", role="alert"),
        el("p", el("a", "All monitors", href="/ui/")),
    )


def monitor_url(monitor: str, span: TimeRange | None = None, check: int | None = None) -> str:
    """The monitor page, for `span` (else the last 6 hours), opened on `check` (else the worst one)."""
    query: dict[str, int] = {}
    if span is not None:
        query |= {"from": span.start_ms, "to": span.end_ms}
    if check is not None:
        query["check"] = check
    return f"/ui/monitors/{quote(monitor, safe='')}" + (f"?{urlencode(query)}" if query else "")


def _verdict_cell(record: CheckRecord | None) -> Html:
    if record is None:
        return el("td", "no check yet", class_="muted")
    said = verdict(record)
    css = "verdict-drift" if record.dataset_drift else "verdict-ok" if said == "no drift" else "muted"
    return el("td", said, class_=css)


@dataclass(frozen=True)
class MonitorRow:
    """One line of the monitor list: the configured monitor, its latest stored check and why it is not loaded."""

    name: str
    latest: CheckRecord | None
    load_error: str | None


def monitors_page(rows: Sequence[MonitorRow]) -> str:
    """Every configured monitor with its latest check, each linking to its page."""
    body = [
        el(
            "tr",
            el("td", el("a", row.name, href=monitor_url(row.name), class_="monitor-link")),
            el("td", when(row.latest.started_at) if row.latest else "-"),
            _verdict_cell(row.latest),
            el("td", percent(row.latest.drift_share) if row.latest else "-", class_="num"),
            el("td", percent(ood_rate(row.latest)) if row.latest else "-", class_="num"),
            el("td", "loaded" if row.load_error is None else f"not loaded: {row.load_error}"),
            class_="drift" if row.latest and row.latest.dataset_drift else None,
        )
        for row in rows
    ]
    head = el(
        "tr",
        [el("th", h) for h in ("Monitor", "Last check (UTC)", "Last verdict", "Drift share", "OOD rate", "Reference")],
    )
    return page(
        "Monitors - driftwatch",
        el("h2", "Monitors"),
        el("table", el("thead", head), el("tbody", body), id="monitors"),
        el("p", "Times are UTC. The JSON of the same: ", el("a", "/v1/monitors", href="/v1/monitors"), class_="muted"),
    )


def worst_check(records: Sequence[CheckRecord]) -> CheckRecord | None:
    """The check to open on: dataset drift first, then a judged one, then the highest drift share and OOD rate."""
    return max(
        records,
        key=lambda r: (r.dataset_drift, r.status.value == "ok", r.drift_share, ood_rate(r) or 0.0, r.started_at),
        default=None,
    )


def _duration(ms: int) -> str:
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:.3g} s"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.3g} min"
    return f"{minutes / 60:.3g} h" if minutes < 72 * 60 else f"{minutes / 1440:.3g} days"


def _window(record: CheckRecord) -> str:
    end = "open" if record.window_end is None else when(record.window_end)[11:]
    return f"{when(record.window_start)[11:]} - {end}" if record.window_start is not None else "-"


def _check_links(record: CheckRecord) -> list[Html]:
    return [
        el("a", "report", href=f"/v1/checks/{record.id}/report", class_="report-link"),
        text(" "),
        el("a", "JSON", href=f"/v1/checks/{record.id}", class_="json-link"),
    ]


def _worst_features(features: Sequence[FeatureResult]) -> Html:
    shown = [el("span", f.name, class_="feature-drifted" if f.drifted else None) for f in by_severity(list(features))][
        :WORST_SHOWN
    ]
    out: list[Html] = []
    for i, name in enumerate(shown):
        out += [text(", ")] if i else []
        out.append(name)
    return el("td", out or "-")


def _checks_table(
    records: Sequence[CheckRecord], features: dict[int, list[FeatureResult]], span: TimeRange, chosen: int | None
) -> Html:
    head = el(
        "tr",
        [
            el("th", h)
            for h in (
                "Check",
                "Time (UTC)",
                "Window",
                "Rows",
                "Verdict",
                "Drifted / judged",
                "Worst features",
                "OOD rate",
                "Reference",
                "Links",
            )
        ],
    )
    body = []
    for r in records:
        css = " ".join(c for c in ("drift" if r.dataset_drift else "", "selected" if r.id == chosen else "") if c)
        body.append(
            el(
                "tr",
                el("td", el("a", f"#{r.id}", href=monitor_url(r.monitor, span, r.id) + "#check")),
                el("td", when(r.started_at)),
                el("td", _window(r)),
                el("td", r.rows, class_="num"),
                _verdict_cell(r),
                el("td", f"{r.drifted_features} / {r.judged_features}", class_="num"),
                _worst_features(features.get(r.id, [])),
                el("td", percent(ood_rate(r)), class_="num"),
                el("td", r.reference_version, class_="muted"),
                el("td", _check_links(r)),
                class_=css or None,
                id=f"check-{r.id}",
            )
        )
    return el("table", el("thead", head), el("tbody", body), id="checks")


def _feature_table(record: CheckRecord, features: Sequence[FeatureResult]) -> Html:
    ood = record.ood
    head = el(
        "tr",
        [
            el("th", h)
            for h in (
                "Feature",
                "Kind",
                "Drifted",
                "Test",
                "Score",
                "p-value (adjusted)",
                "Threshold / level",
                "Status",
                "Missing",
                "OOD rows",
            )
        ],
    )
    body = []
    for f in by_severity(list(features)):
        p = f.adjusted_p_value if f.adjusted_p_value is not None else f.p_value
        line = f.level if f.decision == "calibrated" else f.threshold
        body.append(
            el(
                "tr",
                el("td", f.name, " (prediction)" if f.prediction else None),
                el("td", f.kind.value),
                el("td", "drifted" if f.drifted else "no", class_="feature-drifted" if f.drifted else None),
                el("td", f.method or "-"),
                el("td", number(f.score), class_="num"),
                el("td", number(p), class_="num"),
                el("td", number(line), class_="num"),
                el("td", f.status.value, el("div", f.message, class_="muted") if f.message else None),
                el("td", percent(f.quality.missing_rate), class_="num"),
                el("td", percent(ood.feature_rate(f.name)) if ood else "-", class_="num"),
                class_="drifted" if f.drifted else None,
            )
        )
    return el("table", el("thead", head), el("tbody", body), id="features")


def _chosen(record: CheckRecord, features: Sequence[FeatureResult], worst: bool) -> Html:
    drifted = [f.name for f in by_severity(list(features)) if f.drifted]
    facts = [
        ("Started", when(record.started_at)),
        ("Window", _window(record)),
        ("Rows", str(record.rows)),
        ("Verdict", verdict(record)),
        ("Drift share", f"{percent(record.drift_share)} (threshold {percent(record.drift_share_threshold)})"),
        ("Drifted features", ", ".join(drifted) or "none"),
        ("Decision", f"{record.decision}, alpha {number(record.alpha)}, {record.multiple_testing.value}"),
        ("OOD rate", percent(ood_rate(record))),
        ("Reference", record.reference_version),
        ("Trigger", record.trigger),
    ]
    if record.error:
        facts.append(("Error", record.error))
    title = f"{'Worst check of the range' if worst else 'Check'}: #{record.id}"
    return el(
        "section",
        el("h2", title),
        el("dl", [(el("dt", k), el("dd", v)) for k, v in facts], class_="facts"),
        el("p", _check_links(record)),
        _feature_table(record, features),
        id="check",
        class_="chosen",
        data_check=record.id,
    )


@dataclass(frozen=True)
class MonitorView:
    """What the monitor page shows: the range's checks (newest first), each one's features, and the one opened."""

    monitor: str
    span: TimeRange
    records: Sequence[CheckRecord]
    features: dict[int, list[FeatureResult]]
    chosen: CheckRecord | None
    worst: bool
    truncated: bool
    now_ms: int


def monitor_page(view: MonitorView) -> str:
    """One monitor's checks over a time range: timeline, the opened check's features, the checks table."""
    span, name = view.span, view.monitor
    width = _duration(span.span_ms)
    earlier, later = span.shifted(-1), span.shifted(1)
    nav = el(
        "nav",
        el("a", f"\u2190 previous {width}", href=monitor_url(name, earlier), rel="prev", id="prev"),
        el("a", "last 6 h", href=monitor_url(name)),
        el("a", f"next {width} \u2192", href=monitor_url(name, later), rel="next", id="next")
        if span.end_ms < view.now_ms
        else el("span", f"next {width} \u2192", class_="muted"),
        el("span", f"{when(span.since)} to {when(span.until)}", class_="muted"),
        class_="range",
    )
    drifted = sum(r.dataset_drift for r in view.records)
    summary = f"{len(view.records)} checks, {drifted} with dataset drift."
    if view.truncated:
        summary += f" Only the newest {len(view.records)} checks of the range are shown: narrow the range."
    chosen = view.chosen.id if view.chosen else None
    body: list[Html] = [
        el("h2", f"Monitor {name}"),
        nav,
        el("p", summary, id="summary"),
        timeline(view.records, span, lambda r: monitor_url(name, span, r.id) + "#check", chosen),
    ]
    if view.chosen is not None:
        body.append(_chosen(view.chosen, view.features.get(view.chosen.id, []), view.worst))
    body += [el("h2", "Checks (newest first)"), _checks_table(view.records, view.features, span, chosen)]
    body.append(
        el(
            "p",
            "JSON of these checks: ",
            el("a", "GET /v1/monitors/.../checks", href=_checks_json(name, span)),
            class_="muted",
        )
    )
    crumbs = [el("span", "/"), el("span", name)]
    return page(f"{name} - driftwatch", *body, crumbs=crumbs)


def _checks_json(monitor: str, span: TimeRange) -> str:
    query = urlencode({"since": span.since, "until": span.until, "limit": 1000})
    return f"/v1/monitors/{quote(monitor, safe='')}/checks?{query}"
