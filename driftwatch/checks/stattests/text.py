"""Text content drift: evidently's domain-classifier test, with a classifier that is trained until it converges."""

from __future__ import annotations

import numpy as np

from driftwatch.checks.stattests.base import CurrentValues, StatTest
from driftwatch.checks.stattests.evidently_adapter import current_series, random_classifier_percentile, reference_series
from driftwatch.reference.profile import FeatureProfile
from driftwatch.types import Kind

# evidently 0.7.23 stops its SGD classifier after 50 epochs, so mixed samples often end unconverged (sklearn's
# ConvergenceWarning) and their score depends on where training stopped. The schedule does not depend on
# max_iter, so wherever evidently's fit converged this one takes the same steps and gives the same score.
MAX_ITER = 1000
TEXT_TESTS = frozenset({"perc_text_content_drift", "abs_text_content_drift"})


def domain_classifier_auc(reference: np.ndarray, current: np.ndarray) -> tuple[float, np.ndarray]:
    """ROC AUC of a TF-IDF classifier telling current from reference texts on a seeded half split, and its labels."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline

    texts = np.concatenate([reference, current])
    target = np.concatenate([np.zeros(len(reference), np.int64), np.ones(len(current), np.int64)])
    x_train, x_test, y_train, y_test = train_test_split(texts, target, test_size=0.5, random_state=42, shuffle=True)
    pipeline = Pipeline(
        [
            ("vectorization", TfidfVectorizer(sublinear_tf=True, max_df=0.5, stop_words="english")),
            (
                "classification",
                SGDClassifier(alpha=0.0001, max_iter=MAX_ITER, penalty="l1", loss="modified_huber", random_state=42),
            ),
        ]
    )
    pipeline.fit(x_train, y_train)
    return float(roc_auc_score(y_test, pipeline.predict_proba(x_test)[:, 1])), y_test


class TextDriftStatTest(StatTest):
    """perc_text_content_drift and abs_text_content_drift, scored as evidently scores them."""

    def compare(
        self, reference: FeatureProfile, current: CurrentValues, kind: Kind, threshold: float
    ) -> tuple[float, bool]:
        ref = reference_series(reference).to_numpy(dtype=object)
        cur = current_series(current).to_numpy(dtype=object)
        auc, y_test = domain_classifier_auc(ref, cur)
        if self.name == "abs_text_content_drift":
            return auc, auc > threshold
        # The bootstrap percentile depends on the test labels only, so evidently's own computation is used.
        return auc, bool(auc > random_classifier_percentile(y_test, 1 - threshold))
