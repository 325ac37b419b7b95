"""The text part of a report: per text feature, its languages, code-switching and scripts, then and now."""

from __future__ import annotations

from driftwatch.report import charts
from driftwatch.report.format import esc, num, pct
from driftwatch.text.summary import TextSummary


def block(t: TextSummary) -> str:
    """One text feature's signals, reference against current; never its text."""
    languages = [(k, r, c) for k, (r, c) in sorted(t.languages.items(), key=lambda kv: -(kv[1][1] or 0))]
    scripts = [(k, r, c) for k, (r, c) in sorted(t.scripts.items(), key=lambda kv: -(kv[1][1] or 0))]
    new = ", ".join(f"{esc(k)} {esc(pct(v))}" for k, v in t.new_languages.items()) or "none"
    rates = [
        ("code-switching rows", t.code_switching, pct),
        ("rows without letters", t.empty, pct),
        ("tokens the reference lacks", t.oov_rate, pct),
        ("characters per row", t.length, num),
        ("tokens per row", t.tokens, num),
    ]
    rows = "".join(
        f'<tr><td>{esc(name)}</td><td class="n">{esc(show(r))}</td><td class="n">{esc(show(c))}</td></tr>'
        for name, (r, c), show in rates
    )
    return (
        f'<section class="text"><h3>{esc(t.feature)}</h3><p>{t.rows:,} current rows. New languages: {new}.</p>'
        '<table class="grid"><thead><tr><th>signal</th><th>reference</th><th>current</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f"<h4>Languages</h4>{charts.legend()}{charts.paired_bars(languages, 'languages')}"
        f"<h4>Scripts (share of letters)</h4>{charts.paired_bars(scripts, 'scripts')}</section>"
    )
