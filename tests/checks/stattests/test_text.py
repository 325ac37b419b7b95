"""Text drift trains its classifier to convergence and scores as evidently does wherever evidently converges."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from driftwatch.checks.stattests import get_stat_test
from driftwatch.types import Kind

from .helpers import FINANCE, HOME, check, converging_text_classifier, feature, profile, texts


def _mixed(seed: int, n_ref: int, n_cur: int) -> tuple[np.ndarray, np.ndarray]:
    """A reference of everyday sentences and a current sample half of which is finance: hard to separate fully."""
    rng = np.random.default_rng(seed)
    ref = texts(rng, n_ref, HOME)
    half = n_cur // 2
    return ref, np.r_[texts(rng, half, HOME), texts(rng, n_cur - half, FINANCE)]


def _evidently_score(ref: np.ndarray, cur: np.ndarray) -> float:
    from evidently.legacy.utils.data_drift_utils import calculate_text_drift_score

    score, _ = calculate_text_drift_score(pd.Series(ref), pd.Series(cur), bootstrap=False, threshold=0.55)
    return float(score)


@pytest.mark.parametrize("method", ["abs_text_content_drift", "perc_text_content_drift"])
def test_text_drift_converges_where_evidently_does_not(method: str) -> None:
    ref, cur = _mixed(0, 3000, 500)
    # evidently stops after 50 epochs on this sample.
    with pytest.warns(ConvergenceWarning):
        unconverged = _evidently_score(ref, cur)
    prof = profile({"t": ref}, {"t": {"kind": "text", "method": method}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = feature(check(prof, {"t": cur}), "t")
        with converging_text_classifier():
            converged = _evidently_score(ref, cur)
    assert result.status == "ok", result.message
    assert result.method == method
    assert result.score == pytest.approx(converged, abs=1e-12)
    assert result.score != pytest.approx(unconverged, abs=1e-6)
    assert result.drifted


def test_text_drift_equals_evidently_when_evidently_converges() -> None:
    rng = np.random.default_rng(0)
    ref = texts(rng, 1000, HOME)
    for cur in (rng.choice(ref, 300, replace=False), texts(rng, 300, FINANCE)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            expected = _evidently_score(ref, cur)
        prof = profile({"t": ref}, {"t": {"kind": "text", "method": "abs_text_content_drift"}})
        score, drifted = get_stat_test("abs_text_content_drift").compare(prof.feature("t"), cur, Kind.TEXT, 0.55)
        assert score == pytest.approx(expected, abs=1e-12)
        assert drifted == (expected > 0.55)
