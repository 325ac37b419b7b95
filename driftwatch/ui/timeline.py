"""The monitor page's timeline: an inline SVG of each check's drift share and OOD rate, drifted checks marked.

Plain SVG with links: it renders without scripts or external assets, and each mark opens its check on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from driftwatch.storage import CheckRecord
from driftwatch.ui.html import Html, el, percent, when
from driftwatch.ui.timerange import TimeRange

WIDTH, HEIGHT = 960, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 944, 22, 190
DRIFT_COLOR, OOD_COLOR, DRIFTED_COLOR, MUTED = "#2563eb", "#d97706", "#dc2626", "#6b7280"
TICKS = 6


def ood_rate(record: CheckRecord) -> float | None:
    """The share of the check's scored rows out of distribution; None when OOD scoring was off."""
    return None if record.ood is None else record.ood.rate


def verdict(record: CheckRecord) -> str:
    """The check's outcome in words: drift, no drift, or why it judged nothing."""
    if record.dataset_drift:
        return "drift"
    return "no drift" if record.status.value == "ok" else record.status.value.replace("_", " ")


def _x(t: float, span: TimeRange) -> float:
    return LEFT + (t - span.since) / (span.until - span.since) * (RIGHT - LEFT)


def _y(share: float) -> float:
    return BOTTOM - min(max(share, 0.0), 1.0) * (BOTTOM - TOP)


def _tick_label(t: float, span: TimeRange) -> str:
    at = datetime.fromtimestamp(t, UTC)
    return at.strftime("%H:%M") if span.span_ms <= 36 * 3600 * 1000 else at.strftime("%m-%d %H:%M")


def _axes(span: TimeRange) -> list[Html]:
    out = [el("rect", x=LEFT, y=TOP, width=RIGHT - LEFT, height=BOTTOM - TOP, fill="#ffffff", stroke="#d1d5db")]
    for share in (0.25, 0.5, 0.75, 1.0):
        y = _y(share)
        out.append(el("line", x1=LEFT, x2=RIGHT, y1=y, y2=y, stroke="#e5e7eb"))
        out.append(el("text", percent(share, 0), x=LEFT - 6, y=y + 4, text_anchor="end", class_="axis"))
    out.append(el("text", "0%", x=LEFT - 6, y=BOTTOM + 4, text_anchor="end", class_="axis"))
    for i in range(TICKS + 1):
        t = span.since + i * (span.until - span.since) / TICKS
        x = _x(t, span)
        anchor = "start" if i == 0 else "end" if i == TICKS else "middle"
        out.append(el("line", x1=x, x2=x, y1=BOTTOM, y2=BOTTOM + 4, stroke=MUTED))
        out.append(el("text", _tick_label(t, span), x=x, y=BOTTOM + 17, text_anchor=anchor, class_="axis"))
    out.append(el("text", "UTC", x=RIGHT, y=BOTTOM + 32, text_anchor="end", class_="axis"))
    return out


def _legend() -> Html:
    items = [("drift share", DRIFT_COLOR, None), ("OOD rate", OOD_COLOR, "5 3"), ("threshold", DRIFTED_COLOR, "2 3")]
    out = []
    x = LEFT
    for label, color, dash in items:
        out.append(el("line", x1=x, x2=x + 18, y1=10, y2=10, stroke=color, stroke_width=2, stroke_dasharray=dash))
        out.append(el("text", label, x=x + 22, y=14, class_="axis"))
        x += 110
    out.append(el("path", d=f"M{x + 5},4 l5,9 h-10 z", fill=DRIFTED_COLOR))
    out.append(el("text", "drifted check", x=x + 16, y=14, class_="axis"))
    return el("g", out)


def _line(points: list[tuple[float, float]], color: str, dash: str | None) -> Html | None:
    if len(points) < 2:
        return None
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return el("polyline", points=coords, fill="none", stroke=color, stroke_width=1.5, stroke_dasharray=dash)


def _mark(record: CheckRecord, span: TimeRange, href: str, selected: bool) -> Html:
    x, y = _x(record.started_at, span), _y(record.drift_share)
    ood = ood_rate(record)
    label = (
        f"check {record.id} at {when(record.started_at)}: {verdict(record)}, drift share"
        f" {percent(record.drift_share)}, OOD rate {percent(ood)}"
    )
    shapes = [el("title", label)]
    if selected:
        shapes.append(el("line", x1=x, x2=x, y1=TOP, y2=BOTTOM, stroke="#111827", stroke_width=1.5, class_="chosen"))
    if record.dataset_drift:
        shapes.append(el("path", d=f"M{x:.1f},{TOP + 2} l5,9 h-10 z", fill=DRIFTED_COLOR, class_="drifted-mark"))
    color = DRIFTED_COLOR if record.dataset_drift else DRIFT_COLOR if verdict(record) == "no drift" else MUTED
    shapes.append(el("circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r=4 if record.dataset_drift else 3, fill=color))
    if ood is not None:
        oy = _y(ood)
        shapes.append(el("rect", x=f"{x - 2.5:.1f}", y=f"{oy - 2.5:.1f}", width=5, height=5, fill=OOD_COLOR))
    # A wide transparent target: a check is easy to click even where marks crowd.
    shapes.append(el("rect", x=f"{x - 5:.1f}", y=TOP, width=10, height=BOTTOM - TOP, fill="transparent"))
    return el("a", shapes, href=href, class_="check-mark", data_check=record.id)


def timeline(
    records: Sequence[CheckRecord], span: TimeRange, href: Callable[[CheckRecord], str], selected: int | None
) -> Html:
    """The SVG of `records` over `span`; each check links to `href(check)`, the `selected` one drawn out."""
    ordered = sorted(records, key=lambda r: (r.started_at, r.id))
    drift_points = [(_x(r.started_at, span), _y(r.drift_share)) for r in ordered]
    ood_points = [(_x(r.started_at, span), _y(rate)) for r in ordered if (rate := ood_rate(r)) is not None]
    parts: list[Html | None] = [*_axes(span), _legend()]
    if ordered:
        threshold = _y(ordered[-1].drift_share_threshold)
        parts.append(
            el("line", x1=LEFT, x2=RIGHT, y1=threshold, y2=threshold, stroke=DRIFTED_COLOR, stroke_dasharray="2 3")
        )
    else:
        parts.append(
            el("text", "no checks in this range", x=(LEFT + RIGHT) / 2, y=(TOP + BOTTOM) / 2, text_anchor="middle")
        )
    parts += [_line(drift_points, DRIFT_COLOR, None), _line(ood_points, OOD_COLOR, "5 3")]
    parts += [_mark(r, span, href(r), r.id == selected) for r in ordered]
    drifted = sum(r.dataset_drift for r in ordered)
    return el(
        "svg",
        parts,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        role="img",
        aria_label=f"{len(ordered)} checks, {drifted} with dataset drift: drift share and OOD rate over time",
        class_="timeline",
    )
