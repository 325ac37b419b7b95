"""The stat tests evidently offers, described without importing evidently (which costs seconds)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from driftwatch.types import Kind

ScoreKind = Literal["p_value", "distance"]


@dataclass(frozen=True)
class StatTestSpec:
    """One evidently stat test: which kinds it applies to, what its score means and when it flags drift."""

    name: str
    kinds: frozenset[Kind]
    score_kind: ScoreKind
    default_threshold: float
    # evidently is not uniform here: ks flags p <= threshold, chisquare p < threshold.
    comparator: Literal["<", "<=", ">", ">="]
    display_name: str

    def drifted(self, score: float, threshold: float) -> bool:
        """Apply this test's own rule (evidently's) to a score."""
        return bool(_OPS[self.comparator](score, threshold))


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_N, _C, _T = Kind.NUMERIC, Kind.CATEGORICAL, Kind.TEXT


def _spec(name: str, kinds: set[Kind], score: ScoreKind, threshold: float, cmp: str, display: str) -> StatTestSpec:
    return StatTestSpec(name, frozenset(kinds), score, threshold, cmp, display)  # type: ignore[arg-type]


# Mirrors evidently 0.7.23's registry; tests/stattests/test_catalog.py fails if the two part ways.
STAT_TESTS: dict[str, StatTestSpec] = {
    s.name: s
    for s in (
        _spec("anderson", {_N}, "p_value", 0.1, "<", "Anderson-Darling"),
        _spec("chisquare", {_C}, "p_value", 0.05, "<", "chi-square p_value"),
        _spec("cramer_von_mises", {_N}, "p_value", 0.1, "<=", "Cramer-von Mises"),
        _spec("ed", {_N}, "distance", 0.1, ">", "Energy-distance"),
        _spec("es", {_N}, "p_value", 0.05, "<", "Epps-Singleton"),
        _spec("fisher_exact", {_C}, "p_value", 0.1, "<", "Fisher's Exact test"),
        _spec("g_test", {_C}, "p_value", 0.1, "<", "g_test"),
        _spec("hellinger", {_C, _N}, "distance", 0.1, ">=", "Hellinger distance"),
        _spec("jensenshannon", {_C, _N}, "distance", 0.1, ">=", "Jensen-Shannon distance"),
        _spec("kl_div", {_C, _N}, "distance", 0.1, ">=", "Kullback-Leibler divergence"),
        _spec("ks", {_N}, "p_value", 0.05, "<=", "K-S p_value"),
        _spec("mannw", {_N}, "p_value", 0.05, "<", "Mann-Whitney U-rank test"),
        _spec("empirical_mmd", {_N}, "p_value", 0.1, "<", "empirical_mmd"),
        _spec("psi", {_C, _N}, "distance", 0.1, ">=", "PSI"),
        _spec("t_test", {_N}, "p_value", 0.05, "<", "t_test"),
        # The percentile variant compares ROC AUC with a random classifier's percentile, not the threshold.
        _spec("perc_text_content_drift", {_T}, "distance", 0.95, ">", "Percentile text content drift"),
        _spec("abs_text_content_drift", {_T}, "distance", 0.55, ">", "Absolute text content drift"),
        _spec("TVD", {_C}, "p_value", 0.1, "<", "Total-Variation-Distance"),
        _spec("wasserstein", {_N}, "distance", 0.1, ">=", "Wasserstein distance (normed)"),
        _spec("z", {_C}, "p_value", 0.05, "<", "Z-test p_value"),
    )
}


def names_for(kind: Kind | None = None) -> list[str]:
    """Stat test names, all of them or those that apply to one kind."""
    return [n for n, s in STAT_TESTS.items() if kind is None or kind in s.kinds]


def lookup(name: str, kind: Kind | None = None) -> StatTestSpec:
    """The spec for `name`, with an error listing the valid names when it is unknown or does not fit `kind`."""
    spec = STAT_TESTS.get(name)
    if spec is None:
        raise ValueError(f"unknown stat test '{name}' (valid: {', '.join(names_for())})")
    if kind is not None and kind not in spec.kinds:
        raise ValueError(
            f"stat test '{name}' does not apply to {kind} features (valid for {kind}: {', '.join(names_for(kind))})"
        )
    return spec


def default_method(kind: Kind, reference_rows: int, distinct_values: int) -> str:
    """evidently's own default rule, from the reference size and distinct values in reference and current."""
    # Restated here so the profile's precomputed counts drive it; test_default_rule checks it against evidently.
    if kind == Kind.TEXT:
        return "abs_text_content_drift" if reference_rows > 1000 else "perc_text_content_drift"
    if reference_rows <= 1000:
        if kind == Kind.NUMERIC and distinct_values > 5:
            return "ks"
        return "chisquare" if distinct_values > 2 else "z"
    if kind == Kind.NUMERIC and distinct_values > 5:
        return "wasserstein"
    return "jensenshannon"
