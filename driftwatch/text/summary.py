"""The text block of a check: per text feature, its languages, code-switching, scripts and vocabulary, then and now."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.config.text import TextSettings
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile
from driftwatch.text.derive import rows_for, signal_name, texts_of
from driftwatch.text.language import NO_LANGUAGE, UNKNOWN
from driftwatch.text.scripts import SCRIPTS, letter_counts
from driftwatch.text.signals.language import SWITCHED

# Languages listed per feature (by the larger of their reference and current shares); the rest sum to "other".
TOP_LANGUAGES = 10
# A language counts as new when the reference had less than this share of it.
NEW_BELOW = 0.001
Pair = tuple[float | None, float | None]


@dataclass(frozen=True)
class TextSummary:
    """One text feature's signals summarised: (reference, current) shares and rates."""

    feature: str
    rows: int
    languages: dict[str, Pair] = field(default_factory=dict)
    new_languages: dict[str, float] = field(default_factory=dict)  # current share, largest first
    code_switching: Pair = (None, None)
    scripts: dict[str, Pair] = field(default_factory=dict)  # share of letters per script
    empty: Pair = (None, None)  # rows without any letter (missing, empty, emoji, digits)
    oov_rate: Pair = (None, None)  # mean share of a row's tokens the reference vocabulary lacks
    length: Pair = (None, None)  # mean characters per row
    tokens: Pair = (None, None)  # mean tokens per row

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON holds it (pairs as two-item lists), for storage; from_json reads it back."""
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TextSummary:
        def pair(v: Any) -> Pair:
            return (v[0], v[1])

        return cls(
            feature=doc["feature"],
            rows=int(doc["rows"]),
            languages={k: pair(v) for k, v in doc["languages"].items()},
            new_languages=dict(doc["new_languages"]),
            code_switching=pair(doc["code_switching"]),
            scripts={k: pair(v) for k, v in doc["scripts"].items()},
            empty=pair(doc["empty"]),
            oov_rate=pair(doc["oov_rate"]),
            length=pair(doc["length"]),
            tokens=pair(doc.get("tokens", (None, None))),  # checks stored before the tokens signal have none
        )

    def to_dict(self) -> dict[str, Any]:
        """The check document's form: each pair as {"reference": ..., "current": ...}."""

        def pair(p: Pair) -> dict[str, float | None]:
            return {"reference": p[0], "current": p[1]}

        return {
            "rows": self.rows,
            "languages": {k: pair(v) for k, v in self.languages.items()},
            "new_languages": dict(self.new_languages),
            "code_switching": pair(self.code_switching),
            "scripts": {k: pair(v) for k, v in self.scripts.items()},
            "empty": pair(self.empty),
            "oov_rate": pair(self.oov_rate),
            "length": pair(self.length),
            "tokens": pair(self.tokens),
        }


def summarize(profile: ReferenceProfile, current: pa.Table, signals: dict[str, pa.Array]) -> dict[str, TextSummary]:
    """The text block of every text feature with derived signals and a column in `current`."""
    out: dict[str, TextSummary] = {}
    for f in profile.features:
        derived = {s.name: s for s in profile.signals if s.schema.signal_of == f.name}
        if not derived or f.name not in current.column_names:
            continue

        def ref(signal: str) -> FeatureProfile | None:
            return derived.get(signal_name(f.name, signal))  # noqa: B023 (used within this iteration)

        def cur(signal: str) -> pa.Array | None:
            return signals.get(signal_name(f.name, signal))  # noqa: B023

        language = _shares(ref("language"), cur("language"))
        ranked = sorted(language, key=lambda k: -max(v or 0.0 for v in language[k]))
        top = {k: language[k] for k in ranked[:TOP_LANGUAGES]}
        if len(ranked) > TOP_LANGUAGES:
            rest = ranked[TOP_LANGUAGES:]
            top["other"] = (sum(language[k][0] or 0 for k in rest), sum(language[k][1] or 0 for k in rest))
        new = {
            k: v[1]
            for k, v in sorted(language.items(), key=lambda kv: -(kv[1][1] or 0))
            if k not in (UNKNOWN, NO_LANGUAGE) and (v[0] or 0) < NEW_BELOW and (v[1] or 0) > 0
        }
        switching = _shares(ref("code_switching"), cur("code_switching")).get(SWITCHED, (None, None))
        out[f.name] = TextSummary(
            feature=f.name,
            rows=current.num_rows,
            languages=top,
            new_languages=new,
            code_switching=_zero(switching) if cur("code_switching") is not None else (None, None),
            scripts=_scripts(profile, f.name, current),
            empty=_zero(language.get(NO_LANGUAGE, (None, None))) if language else (None, None),
            oov_rate=_means(ref("oov_rate"), cur("oov_rate")),
            length=_means(ref("length"), cur("length")),
            tokens=_means(ref("tokens"), cur("tokens")),
        )
    return out


def _zero(pair: Pair) -> Pair:
    return (pair[0] or 0.0, pair[1] or 0.0)


def _shares(reference: FeatureProfile | None, current: pa.Array | None) -> dict[str, Pair]:
    """Per category, its share of the reference's and the current rows (None where a side is not derived)."""
    out: dict[str, list[float | None]] = {}
    if reference is not None and reference.categorical is not None and reference.rows:
        for c, n in zip(reference.categorical.categories, reference.categorical.counts, strict=True):
            out.setdefault(str(c), [None, None])[0] = n / reference.rows
    if current is not None and len(current):
        vc = pc.value_counts(current)
        for c, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
            out.setdefault(str(c), [None, None])[1] = n / len(current)
    both = reference is not None, current is not None
    return {k: (v[0] or 0.0 if both[0] else None, v[1] or 0.0 if both[1] else None) for k, v in out.items()}


def _means(reference: FeatureProfile | None, current: pa.Array | None) -> Pair:
    ref = float(reference.numeric.mean) if reference is not None and reference.numeric is not None else None
    cur = float(np.mean(current.to_numpy(zero_copy_only=False))) if current is not None and len(current) else None
    return ref, cur


def _scripts(profile: ReferenceProfile, feature: str, current: pa.Table) -> dict[str, Pair]:
    """Share of letters per script: the reference's kept with the profile, the current rows' counted here."""
    state = profile.signal_states.get(signal_name(feature, "script"))
    if state is None:
        return {}
    ref = dict(zip(state.column("script").to_pylist(), state.column("letters").to_pylist(), strict=True))
    # One pass over all rows joined, each read as the script signal reads it (and the reference's letters were
    # counted): the per-row main script is the derived feature, this is the letter mix.
    settings = profile.text if profile.text is not None else TextSettings()
    read = rows_for("script", texts_of(current.column(feature)), settings)
    cur = letter_counts("\n".join(t for t in read if t))
    ref_total, cur_total = sum(ref.values()), int(cur.sum())
    out = {}
    for i, script in enumerate(SCRIPTS):
        r = ref.get(script, 0) / ref_total if ref_total else 0.0
        c = int(cur[i]) / cur_total if cur_total else 0.0
        if r or c:
            out[script] = (r, c)
    return out
