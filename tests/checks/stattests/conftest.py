"""Speed for the text tests: evidently's random-classifier percentile, computed once per label vector."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def _memoized_random_classifier_percentile() -> Iterator[None]:
    """perc_text_content_drift scores 1000 seeded random classifiers (about 2.5 s) to get a percentile.

    That percentile is a pure function of the test labels (seed fixed at 42), and the labels depend only on the
    reference and current sizes, so caching it by value returns exactly what evidently computes, for the engine
    and the Report alike, without paying for it on every call. Only the global numpy seed it leaves behind
    differs; tests that rely on numpy's global generator (empirical_mmd) seed it themselves.
    """
    from evidently.legacy.utils import data_drift_utils

    original = data_drift_utils.roc_auc_random_classifier_percentile
    memo: dict[tuple, float] = {}

    def memoized(y_test, p_value=0.05, iter_num=1000, seed=42):  # same signature as evidently's
        labels = np.asarray(y_test)
        key = (labels.dtype.str, labels.tobytes(), p_value, iter_num, seed)
        if key not in memo:
            memo[key] = original(y_test, p_value=p_value, iter_num=iter_num, seed=seed)
        return memo[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data_drift_utils, "roc_auc_random_classifier_percentile", memoized)
        yield
