"""Score a check's rows for OOD: every enabled reason on every row, combined, with the most novel rows kept."""

from __future__ import annotations

import json
import time

import numpy as np
import pyarrow as pa

from driftwatch.config.ood import OodSettings
from driftwatch.ood.memo import Recent
from driftwatch.ood.reasons import ORDER, REASONS, Flags, Reason
from driftwatch.ood.redact import redact, rule_for
from driftwatch.ood.results import Exemplar, OodResult
from driftwatch.ood.rows import RowFrame, read_rows
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.text.current import with_row_signals


def fitted_reasons(
    profile: ReferenceProfile, settings: OodSettings, names: tuple[str, ...]
) -> tuple[list[Reason], dict[str, str]]:
    """The reasons of `names` that settings enable, fitted, and those that cannot run on this reference, with why."""
    reasons: list[Reason] = []
    disabled: dict[str, str] = {}
    for name in names:
        if not getattr(settings.reasons, name).enabled:
            continue
        reason = REASONS[name](profile, settings)
        if not reason.applicable:
            continue
        why = reason.unavailable
        if why is None:
            reasons.append(reason)
        else:
            disabled[name] = why
    return reasons, disabled


class OodModel:
    """The enabled reasons of one reference version and settings, fitted once."""

    def __init__(self, profile: ReferenceProfile, settings: OodSettings):
        self.profile = profile
        self.settings = settings
        self.reasons, self.disabled = fitted_reasons(profile, settings, ORDER)

    def score(self, table: pa.Table) -> OodResult:
        """Per-row verdicts over `table`, summarised, with the top-k OOD rows as redacted exemplars."""
        t0 = time.perf_counter()
        table = with_row_signals(self.profile, table)  # a check passes them; other callers get them computed
        frame = read_rows(self.profile, table)
        flags = {r.name: r.evaluate(frame) for r in self.reasons}
        by_row = {name: f.fired.any(axis=1) for name, f in flags.items()}
        ood = np.zeros(frame.rows, dtype=bool)
        named = np.zeros((frame.rows, len(frame.columns)), dtype=bool)
        for name, f in flags.items():
            ood |= by_row[name]
            named |= f.fired
        features = {c.feature.name: int(n) for c, n in zip(frame.columns, named.sum(axis=0), strict=True)}
        return OodResult(
            rows=frame.rows,
            ood_rows=int(ood.sum()),
            alpha=self.settings.alpha,
            by_reason={name: int(rows.sum()) for name, rows in by_row.items()},
            features=features,
            reasons=[r.name for r in self.reasons],
            disabled=dict(self.disabled),
            exemplars=self._exemplars(table, frame, flags, by_row, ood, named),
            duration_seconds=time.perf_counter() - t0,
        )

    def _exemplars(
        self,
        table: pa.Table,
        frame: RowFrame,
        flags: dict[str, Flags],
        by_row: dict[str, np.ndarray],
        ood: np.ndarray,
        named: np.ndarray,
    ) -> list[Exemplar]:
        k = self.settings.exemplars.k
        rows = np.flatnonzero(ood)
        if k == 0 or rows.size == 0:
            return []
        novel = flags.get("novel")
        p = novel.p_values if novel is not None and novel.p_values is not None else np.ones(frame.rows)
        scores = novel.scores if novel is not None and novel.scores is not None else np.zeros(frame.rows)
        count = sum(by_row[name].astype(np.int64) for name in by_row)
        # Most novel first; among equals (no novelty, or the p-value's floor), more reasons, then larger distance.
        order = rows[np.lexsort((-scores[rows], -count[rows], p[rows]))]
        names = [c.feature.name for c in frame.columns]
        rules = [rule_for(c.feature.name, c.feature.kind, self.settings) for c in frame.columns]
        salt = self.profile.monitor
        out: list[Exemplar] = []
        seen: set[str] = set()
        for r in order.tolist():
            values = {}
            for name, rule in zip(names, rules, strict=True):
                raw = table.column(name)[r].as_py() if name in table.column_names else None
                kept, value = redact(raw, rule, salt)
                if kept:
                    values[name] = value
            key = json.dumps(values, sort_keys=True, default=str)
            if key in seen:  # the same row sent again is one exemplar
                continue
            seen.add(key)
            out.append(
                Exemplar(
                    values=values,
                    reasons=[name for name in ORDER if name in by_row and by_row[name][r]],
                    features=[names[j] for j in np.flatnonzero(named[r])],
                    p_value=float(p[r]) if novel is not None else None,
                    score=float(scores[r]) if novel is not None else None,
                )
            )
            if len(out) == k:
                break
        return out


_MODELS: Recent[OodModel] = Recent(16)


def ood_model(profile: ReferenceProfile, settings: OodSettings) -> OodModel:
    """The fitted reasons of a reference version and settings (the last 16 stay in memory)."""
    key = (profile.monitor, profile.version, profile.cache_dir, json.dumps(settings.model_dump(), sort_keys=True))
    return _MODELS.get(key, lambda: OodModel(profile, settings))


def score_ood(profile: ReferenceProfile, table: pa.Table, settings: OodSettings) -> OodResult | None:
    """The OOD summary of `table` against the reference (None when OOD scoring is disabled)."""
    if not settings.enabled:
        return None
    return ood_model(profile, settings).score(table)
