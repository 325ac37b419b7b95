"""The catalogue in driftwatch.checks.stattests.catalog must describe evidently 0.7.23's registry exactly."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from driftwatch.checks.stattests import STAT_TESTS, lookup, names_for
from driftwatch.checks.stattests.evidently_adapter import registered_tests
from driftwatch.types import Kind

from .helpers import FINANCE, texts

KIND_OF = {"num": Kind.NUMERIC, "cat": Kind.CATEGORICAL, "text": Kind.TEXT}


def _registry() -> dict:
    from evidently.legacy.calculations.stattests import registry

    return registry._registered_stat_tests


def test_same_names() -> None:
    names = list(STAT_TESTS)
    assert len(names) == len(set(names)) == 20
    assert set(names) == set(registered_tests())


@pytest.mark.parametrize("name", list(STAT_TESTS))
def test_kinds_thresholds_and_display_name_match_evidently(name: str) -> None:
    spec = STAT_TESTS[name]
    by_type = registered_tests()[name]
    assert {KIND_OF[t] for t in by_type} == spec.kinds
    assert set(by_type.values()) == {spec.default_threshold}
    for stat_test in _registry()[name].values():
        assert stat_test.name == name
        assert stat_test.display_name == spec.display_name
        assert stat_test.default_threshold == spec.default_threshold
        assert {KIND_OF[t.value] for t in stat_test.allowed_feature_types} == spec.kinds


def test_display_names_are_unique() -> None:
    # The Report names tests by display name; equivalence tests map them back through the catalogue.
    displays = [s.display_name for s in STAT_TESTS.values()]
    assert len(set(displays)) == len(displays)


def test_names_for_each_kind() -> None:
    assert names_for() == list(STAT_TESTS)
    assert names_for(Kind.TEXT) == ["perc_text_content_drift", "abs_text_content_drift"]
    assert names_for(Kind.CATEGORICAL) == [
        "chisquare", "fisher_exact", "g_test", "hellinger", "jensenshannon", "kl_div", "psi", "TVD", "z",
    ]  # fmt: skip
    for kind in Kind:
        assert names_for(kind) == [n for n, s in STAT_TESTS.items() if kind in s.kinds]


def test_lookup_unknown_name_lists_every_valid_name() -> None:
    expected = f"unknown stat test 'kss' (valid: {', '.join(STAT_TESTS)})"
    assert expected.startswith("unknown stat test 'kss' (valid: anderson, chisquare, cramer_von_mises, ")
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        lookup("kss")


def test_lookup_name_of_the_wrong_kind() -> None:
    valid = ", ".join(n for n, s in STAT_TESTS.items() if Kind.CATEGORICAL in s.kinds)
    expected = f"stat test 'ks' does not apply to categorical features (valid for categorical: {valid})"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        lookup("ks", Kind.CATEGORICAL)
    text = (
        "stat test 'wasserstein' does not apply to text features "
        "(valid for text: perc_text_content_drift, abs_text_content_drift)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        lookup("wasserstein", Kind.TEXT)


def test_lookup_accepts_a_valid_pair() -> None:
    assert lookup("ks") is STAT_TESTS["ks"]
    assert lookup("psi", Kind.NUMERIC) is STAT_TESTS["psi"]
    assert lookup("psi", Kind.CATEGORICAL) is STAT_TESTS["psi"]


def _boundary_data(kind: Kind) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(11)
    if kind == Kind.NUMERIC:
        return pd.Series(rng.normal(size=200)), pd.Series(rng.normal(0.2, 1.0, size=100))
    if kind == Kind.CATEGORICAL:
        # Equal sizes: fisher_exact and g_test need them; small: TVD runs 1000 permutations.
        return pd.Series(rng.choice(["a", "b"], 150, p=[0.6, 0.4])), pd.Series(rng.choice(["a", "b"], 150))
    return pd.Series(texts(rng, 1200)), pd.Series(np.r_[texts(rng, 300), texts(rng, 300, FINANCE)])


# perc_text_content_drift does not compare its score with the threshold: it flags drift when the ROC AUC
# exceeds a random classifier's (1 - threshold) percentile, so there is no comparator to check.
BOUNDARY_CASES = [(n, k) for n, s in STAT_TESTS.items() for k in sorted(s.kinds) if n != "perc_text_content_drift"]


@pytest.mark.filterwarnings("ignore:Parameter `variant`:UserWarning")
@pytest.mark.parametrize(("name", "kind"), BOUNDARY_CASES)
def test_comparator_matches_evidently_at_the_threshold(name: str, kind: Kind) -> None:
    """evidently is not uniform (ks flags p <= t, chisquare p < t): replay its verdict with threshold == score."""
    from driftwatch.checks.stattests.evidently_adapter import column_type

    ref, cur = _boundary_data(kind)
    stat_test = _registry()[name][column_type(kind)]
    np.random.seed(0)  # empirical_mmd permutes with numpy's global generator
    score = float(stat_test(ref, cur, column_type(kind), None).drift_score)
    np.random.seed(0)
    at_threshold = stat_test(ref, cur, column_type(kind), score)
    assert float(at_threshold.drift_score) == score
    assert STAT_TESTS[name].drifted(score, score) == bool(at_threshold.drifted)
