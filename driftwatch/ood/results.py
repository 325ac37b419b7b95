"""What OOD scoring returns for one check: rates by reason and feature, and the exemplar rows, redacted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Exemplar:
    """One out-of-distribution row: its values after redaction and why it is out."""

    values: dict[str, Any]
    reasons: list[str]
    # features named by any reason: the ones out of range, unseen, missing, unreadable or carrying the distance
    features: list[str]
    p_value: float | None = None
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "reasons": self.reasons,
            "features": self.features,
            "p_value": self.p_value,
            "score": self.score,
        }


@dataclass(frozen=True)
class RuleCounts:
    """The per-value rules counted on every row a window received, not only on its sample."""

    rows: int
    ood_rows: int  # rows at least one rule fired on
    by_reason: dict[str, int]
    features: dict[str, int]  # rows any rule fired on, per feature

    @property
    def rate(self) -> float:
        return self.ood_rows / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        ranked = sorted(self.features.items(), key=lambda kv: (-kv[1], kv[0]))
        share = (lambda n: n / self.rows) if self.rows else (lambda n: 0.0)
        return {
            "rate": self.rate,
            "rows": self.rows,
            "ood_rows": self.ood_rows,
            "by_reason": {r: share(n) for r, n in self.by_reason.items()},
            "features": {name: share(n) for name, n in ranked if n},
        }


@dataclass(frozen=True)
class OodResult:
    """Rows scored, how many were out of distribution, and for which reasons and features."""

    rows: int
    ood_rows: int
    alpha: float
    by_reason: dict[str, int]
    features: dict[str, int]
    # reasons that ran, and those that could not, with why
    reasons: list[str]
    disabled: dict[str, str] = field(default_factory=dict)
    exemplars: list[Exemplar] = field(default_factory=list)
    duration_seconds: float = 0.0
    # a live window's rules over all of its rows (the fields above describe the sample the check scored)
    rules: RuleCounts | None = None

    @property
    def rate(self) -> float:
        return self.ood_rows / self.rows if self.rows else 0.0

    def reason_rate(self, reason: str) -> float:
        return self.by_reason.get(reason, 0) / self.rows if self.rows else 0.0

    def feature_rate(self, feature: str) -> float:
        return self.features.get(feature, 0) / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The `ood` block of a check's JSON form (exemplars are fetched on their own)."""
        ranked = sorted(self.features.items(), key=lambda kv: (-kv[1], kv[0]))
        return {
            "rate": self.rate,
            "rows": self.rows,
            "ood_rows": self.ood_rows,
            "alpha": self.alpha,
            "by_reason": {r: self.reason_rate(r) for r in self.reasons},
            "features": {name: n / self.rows for name, n in ranked if n},
            "reasons": self.reasons,
            "disabled": self.disabled,
            "exemplars": len(self.exemplars),
            "rules": None if self.rules is None else self.rules.to_dict(),
        }
