"""What explains a feature's verdict, small and bounded, kept with the check: distributions then and now.

Numeric features keep reference and current quantiles and a histogram on shared bins; categorical ones (text
signals such as `<feature>.language` included) the categories whose share moved most and the values the reference
never had. Values are redacted by the monitor's `ood.redact` rules before they are kept, as exemplars are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.config.ood import OodSettings
from driftwatch.ood.redact import redact, rule_for
from driftwatch.reference.profile import FeatureProfile

LEVELS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
BINS = 20
# Bins span the central 99% of reference and current values together; the tails fall into the end bins.
_SPAN = (0.005, 0.995)
TOP = 10
# A kept category value is cut to this many characters (a free-text value mistaken for a category is long).
MAX_VALUE_CHARS = 100


@dataclass(frozen=True)
class Bins:
    """Shared bin edges (BINS + 1) and each side's share of its values per bin."""

    edges: tuple[float, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]


@dataclass(frozen=True)
class NumericExplanation:
    """Quantiles at LEVELS and a shared-bin histogram, reference against current."""

    levels: tuple[float, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    bins: Bins

    def to_dict(self) -> dict[str, Any]:
        b = self.bins
        return {
            "kind": "numeric",
            "quantiles": list(self.levels),
            "reference": list(self.reference),
            "current": list(self.current),
            "bins": {"edges": list(b.edges), "reference": list(b.reference), "current": list(b.current)},
        }


@dataclass(frozen=True)
class Share:
    """One category's share of the reference's values and of the current ones (value None: redacted away)."""

    value: str | None
    reference: float
    current: float


@dataclass(frozen=True)
class Unseen:
    """A value the reference never had and the current rows holding it."""

    value: str | None
    count: int


@dataclass(frozen=True)
class CategoricalExplanation:
    """The TOP categories whose share moved most, and the TOP most frequent values the reference never had."""

    moved: tuple[Share, ...]
    unseen: tuple[Unseen, ...]
    unseen_values: int  # distinct unseen values, of which `unseen` lists at most TOP
    unseen_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "moved": [{"value": s.value, "reference": s.reference, "current": s.current} for s in self.moved],
            "unseen": [{"value": u.value, "count": u.count} for u in self.unseen],
            "unseen_values": self.unseen_values,
            "unseen_rows": self.unseen_rows,
        }


Explanation = NumericExplanation | CategoricalExplanation


def explain(
    feature: FeatureProfile, values: np.ndarray | pa.Array, ood: OodSettings | None, salt: str
) -> Explanation | None:
    """The explanation of one judged feature from its current valid values (None without values on either side)."""
    if feature.numeric is not None and isinstance(values, np.ndarray):
        return _numeric(feature.numeric.values, values)
    if feature.categorical is not None and isinstance(values, pa.Array | pa.ChunkedArray):
        rule = rule_for(feature.schema.signal_of or feature.name, feature.kind, ood or OodSettings())
        if feature.schema.signal_of is not None:
            rule = "keep"  # a signal's values (languages, scripts, true/false) are not the text they come from
        return _categorical(feature, values, rule, salt)
    return None


def from_dict(doc: dict[str, Any] | None) -> Explanation | None:
    """An explanation as stored (to_dict's form); None for features stored without one."""
    if not doc:
        return None
    if doc["kind"] == "numeric":
        b = doc["bins"]
        bins = Bins(tuple(b["edges"]), tuple(b["reference"]), tuple(b["current"]))
        return NumericExplanation(tuple(doc["quantiles"]), tuple(doc["reference"]), tuple(doc["current"]), bins)
    return CategoricalExplanation(
        tuple(Share(m["value"], m["reference"], m["current"]) for m in doc["moved"]),
        tuple(Unseen(u["value"], u["count"]) for u in doc["unseen"]),
        int(doc["unseen_values"]),
        int(doc.get("unseen_rows", 0)),
    )


def _numeric(reference: np.ndarray, current: np.ndarray) -> NumericExplanation | None:
    if reference.size == 0 or current.size == 0:
        return None
    levels = (*LEVELS, *_SPAN)
    ref_all = _sorted_quantiles(reference, levels)
    cur_all = np.quantile(current, levels)  # one partition for every level
    ref_q, cur_q = ref_all[: len(LEVELS)], cur_all[: len(LEVELS)]
    lo = float(min(ref_all[-2], cur_all[-2]))
    hi = float(max(ref_all[-1], cur_all[-1]))
    if hi <= lo:  # one value on both sides: a single bin around it
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, BINS + 1)
    return NumericExplanation(
        LEVELS,
        _rounded(ref_q),
        _rounded(cur_q),
        Bins(_rounded(edges), _shares(reference, edges), _shares(current, edges)),
    )


def _sorted_quantiles(values: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """np.quantile's default (linear) quantiles of already sorted values, without partitioning them again."""
    position = np.asarray(levels) * (values.size - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, values.size - 1)
    return values[below] + (values[above] - values[below]) * (position - below)


def _shares(values: np.ndarray, edges: np.ndarray) -> tuple[float, ...]:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return _rounded(counts / values.size)


def _rounded(values: np.ndarray | tuple[float, ...]) -> tuple[float, ...]:
    """Six significant digits: what a chart or a table shows, at a third of the stored size."""
    return tuple(float(f"{float(x):.6g}") for x in values)


def _categorical(feature: FeatureProfile, values: pa.Array, rule: str, salt: str) -> CategoricalExplanation | None:
    cat = feature.categorical
    assert cat is not None
    ref_total = int(cat.counts.sum())
    cur_total = len(values)
    if ref_total == 0 or cur_total == 0:
        return None
    reference = {str(c): int(n) / ref_total for c, n in zip(cat.categories, cat.counts, strict=True)}
    vc = pc.value_counts(values)
    current = {
        str(v): int(n) for v, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True)
    }
    keys = reference.keys() | current.keys()
    shares = {k: _rounded((reference.get(k, 0.0), current.get(k, 0) / cur_total)) for k in keys}
    moved = sorted(shares, key=lambda k: (-abs(shares[k][1] - shares[k][0]), k))[:TOP]
    unseen = sorted((k for k in current if k not in reference), key=lambda k: (-current[k], k))
    return CategoricalExplanation(
        tuple(Share(_kept(k, rule, salt), *shares[k]) for k in moved),
        tuple(Unseen(_kept(k, rule, salt), current[k]) for k in unseen[:TOP]),
        len(unseen),
        sum(current[k] for k in unseen),
    )


def _kept(value: str, rule: str, salt: str) -> str | None:
    kept, out = redact(value, rule, salt)
    return str(out)[:MAX_VALUE_CHARS] if kept and out is not None else None
