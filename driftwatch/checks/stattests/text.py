"""Text content drift: evidently's domain-classifier test, with a classifier that is trained until it converges."""

from __future__ import annotations

import numpy as np

from driftwatch.checks.stattests.base import CurrentValues, Outcome, StatTest
from driftwatch.checks.stattests.evidently_adapter import current_series, random_classifier_percentile, reference_series
from driftwatch.reference.profile import FeatureProfile
from driftwatch.types import Kind

# evidently 0.7.23 stops its SGD classifier after 50 epochs, so mixed samples often end unconverged (sklearn's
# ConvergenceWarning) and their score depends on where training stopped. The schedule does not depend on
# max_iter, so wherever evidently's fit converged this one takes the same steps and gives the same score.
MAX_ITER = 1000
TEXT_TESTS = frozenset({"perc_text_content_drift", "abs_text_content_drift"})


def domain_classifier_auc(reference: np.ndarray, current: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """ROC AUC of a TF-IDF classifier telling current from reference on a seeded half split; labels, scores."""
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
    scores = pipeline.predict_proba(x_test)[:, 1]
    return float(roc_auc_score(y_test, scores)), y_test, scores


def auc_p_value(labels: np.ndarray, scores: np.ndarray) -> float:
    """One-sided p-value of the held-out ROC AUC under no drift: a Mann-Whitney test of current vs reference scores.

    The classifier never saw the held-out rows, so with no drift their labels are exchangeable given the scores and
    AUC = U / (n1 n0) has the Mann-Whitney null: an exact calibration without retraining.
    """
    from scipy.stats import mannwhitneyu

    current, reference = scores[labels == 1], scores[labels == 0]
    if current.size == 0 or reference.size == 0:
        return 1.0
    return float(mannwhitneyu(current, reference, alternative="greater").pvalue)


class TextDriftStatTest(StatTest):
    """perc_text_content_drift and abs_text_content_drift, scored as evidently scores them."""

    def compare(
        self, reference: FeatureProfile, current: CurrentValues, kind: Kind, threshold: float
    ) -> tuple[float, bool]:
        outcome = self.outcome(reference, current, kind, threshold)
        return outcome.score, outcome.drifted

    def outcome(self, reference: FeatureProfile, current: CurrentValues, kind: Kind, threshold: float) -> Outcome:
        ref = reference_series(reference).to_numpy(dtype=object)
        cur = current_series(current).to_numpy(dtype=object)
        auc, y_test, scores = domain_classifier_auc(ref, cur)
        p = auc_p_value(y_test, scores)
        if self.name == "abs_text_content_drift":
            return Outcome(auc, auc > threshold, p)
        # The bootstrap percentile depends on the test labels only, so evidently's own computation is used.
        return Outcome(auc, bool(auc > random_classifier_percentile(y_test, 1 - threshold)), p)
