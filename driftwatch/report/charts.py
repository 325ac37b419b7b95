"""Inline SVG charts of a report: overlaid histograms on shared bins, and paired reference/current bars.

Plain SVG elements with the page's CSS classes: the charts need no script, font or image, and render offline.
"""

from __future__ import annotations

from collections.abc import Sequence

from driftwatch.checks.explain import Bins
from driftwatch.report.format import esc, label, num, pct

WIDTH = 560
HIST_HEIGHT = 190
# Left margin for the share axis, bottom margin for the bin edges.
_LEFT, _BOTTOM, _TOP = 44, 26, 10
BAR_ROW = 30
LABEL_WIDTH = 190


def legend() -> str:
    """The colour key every chart shares."""
    return '<p class="legend"><span class="key ref"></span>reference <span class="key cur"></span>current</p>'


def histogram(bins: Bins) -> str:
    """Reference and current shares per shared bin, overlaid; the end bins hold the tails beyond them."""
    edges, ref, cur = bins.edges, bins.reference, bins.current
    n = len(ref)
    if n == 0 or len(edges) != n + 1:
        return '<p class="empty">no histogram</p>'
    plot_w, plot_h = WIDTH - _LEFT - 8, HIST_HEIGHT - _BOTTOM - _TOP
    top = max(max(ref, default=0.0), max(cur, default=0.0)) or 1.0
    step = plot_w / n
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HIST_HEIGHT}" width="{WIDTH}" height="{HIST_HEIGHT}"'
        ' role="img" aria-label="histogram of reference and current values">',
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" y2="{_TOP + plot_h}"/>',
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}"/>',
        f'<text class="tick" x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end">{esc(pct(top, 0))}</text>',
        f'<text class="tick" x="{_LEFT - 4}" y="{_TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i in range(n):
        x = _LEFT + i * step
        tip = esc(f"{num(edges[i])} to {num(edges[i + 1])}: reference {pct(ref[i])}, current {pct(cur[i])}")
        for cls, share in (("ref", ref[i]), ("cur", cur[i])):
            h = plot_h * share / top
            parts.append(
                f'<rect class="{cls}" x="{x + 1:.1f}" y="{_TOP + plot_h - h:.1f}" width="{max(step - 2, 1):.1f}"'
                f' height="{h:.1f}"><title>{tip}</title></rect>'
            )
    for i in sorted({0, n // 2, n}):
        anchor = "start" if i == 0 else ("end" if i == n else "middle")
        parts.append(
            f'<text class="tick" x="{_LEFT + i * step:.1f}" y="{HIST_HEIGHT - 8}"'
            f' text-anchor="{anchor}">{esc(num(edges[i]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(rows: Sequence[tuple[str | None, float | None, float | None]], what: str) -> str:
    """One row per value: its reference share and its current share as two bars (None: that side not measured)."""
    if not rows:
        return f'<p class="empty">no {esc(what)}</p>'
    top = max((max(r or 0.0, c or 0.0) for _, r, c in rows), default=0.0) or 1.0
    height = BAR_ROW * len(rows) + 6
    bar_w = WIDTH - LABEL_WIDTH - 70
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' role="img" aria-label="{esc(what)}: reference and current shares">'
    ]
    for i, (value, ref, cur) in enumerate(rows):
        y = 3 + i * BAR_ROW
        full = "(redacted)" if value is None else value
        tip = esc(f"{full}: reference {pct(ref)}, current {pct(cur)}")
        parts.append(
            f'<text class="cat" x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end">'
            f"<title>{tip}</title>{esc(label(value))}</text>"
        )
        for j, (cls, share) in enumerate((("ref", ref), ("cur", cur))):
            w = bar_w * (share or 0.0) / top
            by = y + 2 + j * 12
            parts.append(
                f'<rect class="{cls}" x="{LABEL_WIDTH}" y="{by}" width="{w:.1f}" height="11">'
                f"<title>{tip}</title></rect>"
                f'<text class="tick" x="{LABEL_WIDTH + w + 4:.1f}" y="{by + 9}">{esc(pct(share))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
