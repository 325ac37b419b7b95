"""The out-of-distribution parts of a report: rate by reason and feature, the value rules, the top exemplars."""

from __future__ import annotations

from collections.abc import Sequence

from driftwatch.ood.results import Exemplar, OodResult
from driftwatch.report.format import esc, num, pct
from driftwatch.storage.records import ExemplarRecord

# Exemplars shown, most novel first; the API and `driftwatch exemplars CHECK_ID` list them all.
TOP_EXEMPLARS = 10
TOP_FEATURES = 10


def summary(ood: OodResult | None) -> str:
    """The OOD rate of the checked rows, by reason and feature, and the value rules over the whole window."""
    if ood is None:
        return '<p class="empty">Out-of-distribution scoring was off for this check.</p>'
    out = (
        f"<p><strong>{esc(pct(ood.rate))}</strong> of {ood.rows:,} checked rows out of distribution"
        f" ({ood.ood_rows:,} rows; novelty at alpha {esc(num(ood.alpha))}).</p>"
    )
    reasons = sorted(ood.reasons, key=lambda r: (-ood.by_reason.get(r, 0), r))
    if reasons:
        rows = "".join(
            f'<tr><td>{esc(r)}</td><td class="n">{ood.by_reason.get(r, 0):,}</td>'
            f'<td class="n">{esc(pct(ood.reason_rate(r)))}</td></tr>'
            for r in reasons
        )
        out += (
            '<table class="grid"><thead><tr><th>reason</th><th>rows</th><th>share</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    ranked = sorted(((n, k) for n, k in ood.features.items() if k), key=lambda x: (-x[1], x[0]))[:TOP_FEATURES]
    if ranked:
        named = ", ".join(f"{esc(n)} {esc(pct(k / ood.rows))}" for n, k in ranked)
        out += f"<p>Features the reasons name: {named}.</p>"
    for reason, why in ood.disabled.items():
        out += f'<p class="note">{esc(reason)} did not run: {esc(why)}</p>'
    rules = ood.rules
    if rules is not None:
        counts = "".join(
            f'<tr><td>{esc(r)}</td><td class="n">{n:,}</td>'
            f'<td class="n">{esc(pct(n / rules.rows if rules.rows else 0.0))}</td></tr>'
            for r, n in sorted(rules.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        out += (
            f"<h4>Value rules on every row the window received: {esc(pct(rules.rate))} of {rules.rows:,} rows"
            f" ({rules.ood_rows:,})</h4>"
            '<table class="grid"><thead><tr><th>rule</th><th>rows</th><th>share</th></tr></thead>'
            f"<tbody>{counts}</tbody></table>"
        )
    return out


def exemplars(items: Sequence[Exemplar | ExemplarRecord]) -> str:
    """The most novel rows kept, their values exactly as stored (already redacted), nothing else of the rows."""
    if not items:
        return '<p class="empty">No exemplars were kept.</p>'
    shown = list(items)[:TOP_EXEMPLARS]
    more = f" (the first {len(shown)} of {len(items)})" if len(items) > len(shown) else ""
    blocks = []
    for i, e in enumerate(shown):
        rank = e.rank if isinstance(e, ExemplarRecord) else i
        values = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in sorted(e.values.items()))
        blocks.append(
            f'<div class="exemplar"><p><strong>#{rank}</strong> {esc(", ".join(e.reasons))}'
            f" · features {esc(', '.join(e.features) or '-')} · p-value {esc(num(e.p_value))}"
            f" · score {esc(num(e.score))}</p>"
            f'<table class="grid values"><tbody>{values}</tbody></table></div>'
        )
    return f'<p class="note">Values as stored, after the monitor\'s redaction{more}.</p>' + "".join(blocks)
