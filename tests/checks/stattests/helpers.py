"""Shared builders for the stat-test suites: seeded data, in-memory profiles, checks and evidently Reports."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from driftwatch.checks.engine import CheckResult, FeatureResult, run_check
from driftwatch.config import DriftSettings, MonitorConfig
from driftwatch.reference.profile import ReferenceProfile, build_profile

# Two vocabularies for short English sentences: everyday life, and finance (the drifted text).
HOME = (
    ["the cat", "a dog", "my neighbour", "the old farmer", "a small child", "the teacher", "her brother", "our cook"],
    ["walks to", "looks at", "paints", "cleans", "visits", "finds", "waters", "sweeps"],
    [
        "the garden",
        "a red barn",
        "the river bank",
        "an apple tree",
        "the village market",
        "a quiet lake",
        "the kitchen",
    ],
    ["slowly", "today", "after lunch", "with care", "every morning", "in the rain"],
)
FINANCE = (
    ["the central bank", "an investor", "the hedge fund", "a broker", "the treasury", "a pension fund"],
    ["raises", "sells", "hedges", "buys", "lowers", "audits"],
    ["interest rates", "government bonds", "bank shares", "the credit spread", "mortgage loans", "crude futures"],
    ["sharply", "before the close", "amid inflation fears", "after earnings", "on weak demand"],
)


def texts(rng: np.random.Generator, n: int, vocab: tuple = HOME) -> np.ndarray:
    """`n` short sentences built from a vocabulary (subject, verb, object, adverb), as an object array."""
    parts = [rng.choice(words, n) for words in vocab]
    return np.array([" ".join(p) for p in zip(*parts, strict=True)], dtype=object)


def table(columns: Mapping[str, Any]) -> pa.Table:
    """An Arrow table built the way a pandas frame converts (NaN in object columns becomes null)."""
    return pa.Table.from_pandas(pd.DataFrame(dict(columns)), preserve_index=False)


def profile(reference: Mapping[str, Any], features: Mapping[str, Any]) -> ReferenceProfile:
    """An in-memory reference profile of `reference` for the given feature specs (stat tests alone: no text signals)."""
    mon = MonitorConfig(name="t", reference={"path": "unused"}, features=dict(features), text={"signals": []})
    ref = reference if isinstance(reference, pa.Table) else table(reference)
    return build_profile(ref, mon, "v1", "memory")


def check(
    prof: ReferenceProfile, current: Mapping[str, Any] | pa.Table, *, fast: bool = True, **settings: Any
) -> CheckResult:
    """run_check on a current sample given as columns or an Arrow table; evidently's threshold rule unless told."""
    cur = current if isinstance(current, pa.Table) else table(current)
    settings.setdefault("decision", "threshold")
    return run_check(prof, cur, DriftSettings(**settings), fast=fast)


def feature(result: CheckResult, name: str) -> FeatureResult:
    return next(f for f in result.features if f.name == name)


def report_scores(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    numerical: Sequence[str] = (),
    categorical: Sequence[str] = (),
    text: Sequence[str] = (),
    per_column: bool = False,
) -> dict[str, tuple[str, float]]:
    """evidently's own Report: {column: (method display name, drift score)}.

    DataDriftPreset runs each column's stat test three times; `per_column` uses one ValueDrift metric per
    column instead (the metric the preset is built from), for slow tests such as perc_text_content_drift.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    dd = DataDefinition(
        numerical_columns=list(numerical), categorical_columns=list(categorical), text_columns=list(text)
    )
    metrics = [ValueDrift(column=c) for c in (*numerical, *categorical, *text)] if per_column else [DataDriftPreset()]
    snap = Report(metrics).run(
        Dataset.from_pandas(current, data_definition=dd), Dataset.from_pandas(reference, data_definition=dd)
    )
    return {
        m["config"]["column"]: (m["config"]["method"], float(m["value"]))
        for m in snap.dict()["metrics"]
        if "column" in m["config"]
    }


@contextmanager
def converging_text_classifier() -> Iterator[None]:
    """evidently's text drift with only its classifier's epoch limit raised to the engine's (50 -> MAX_ITER)."""
    from evidently.legacy.utils import data_drift_utils
    from sklearn.linear_model import SGDClassifier

    from driftwatch.checks.stattests.text import MAX_ITER

    def sgd(**params: Any) -> SGDClassifier:
        return SGDClassifier(**{**params, "max_iter": MAX_ITER})

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data_drift_utils, "SGDClassifier", sgd)
        yield
