"""What a check keeps to explain each verdict: quantiles and shared bins, moved and unseen categories, redacted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from driftwatch import demo
from driftwatch.checks.engine import run_check
from driftwatch.checks.explain import BINS, LEVELS, TOP, CategoricalExplanation, NumericExplanation, from_dict
from driftwatch.config import DriftSettings, MonitorConfig, OodSettings
from driftwatch.reference.profile import build_profile
from driftwatch.storage.outbox import Outbox, ReferenceInfo
from driftwatch.storage.store import HistoryStore

FEATURES = {"patient_age": "numeric", "channel": "categorical", "insurance": "categorical", "symptoms": "text"}


@pytest.fixture(scope="module")
def profile():
    mon = MonitorConfig.model_validate({"name": "ex", "reference": {"path": "unused"}, "features": FEATURES})
    return build_profile(demo.reference_table(4000, seed=1).select(list(FEATURES)), mon, "v1", "memory")


def _check(profile, table: pa.Table, ood: OodSettings | None = None):
    return run_check(profile, table.select(list(FEATURES)), DriftSettings(decision="calibrated"), ood=ood)


def test_a_numeric_feature_keeps_quantiles_and_shared_bins_of_both_sides(profile) -> None:
    current = demo.production_batch(1500, 1.0, seed=2)
    age = next(f for f in _check(profile, current).features if f.name == "patient_age")
    e = age.explanation
    assert isinstance(e, NumericExplanation) and e.levels == LEVELS
    ages = current.column("patient_age").to_numpy(zero_copy_only=False)
    ages = ages[np.isfinite(ages)]
    assert e.current == pytest.approx(np.quantile(ages, LEVELS), rel=1e-5)
    reference = profile.feature("patient_age").numeric.values
    assert e.reference == pytest.approx(np.quantile(reference, LEVELS), rel=1e-5)
    assert len(e.bins.edges) == BINS + 1 and list(e.bins.edges) == sorted(e.bins.edges)
    assert sum(e.bins.reference) == pytest.approx(1.0) and sum(e.bins.current) == pytest.approx(1.0)
    assert e.current[3] > e.reference[3] + 10  # the drifted batch is older: its median moved up


def test_a_categorical_feature_keeps_the_categories_that_moved_most_and_the_unseen_values(profile) -> None:
    current = demo.production_batch(1500, 1.0, seed=3)
    channel = next(f for f in _check(profile, current).features if f.name == "channel")
    e = channel.explanation
    assert isinstance(e, CategoricalExplanation)
    moves = [abs(s.current - s.reference) for s in e.moved]
    assert moves == sorted(moves, reverse=True) and len(e.moved) <= TOP
    known = set(profile.feature("channel").categorical.categories.tolist())
    values = current.column("channel").to_pylist()
    unseen = {v for v in values if v is not None and v not in known}
    assert unseen and e.unseen_values == len(unseen) and {u.value for u in e.unseen} == unseen
    assert e.unseen_rows == sum(v in unseen for v in values)
    assert e.moved[0].value in unseen  # the new channel is what moved most


def test_text_signals_are_explained_by_the_languages_that_arrived(profile) -> None:
    result = _check(profile, demo.production_batch(1500, 1.0, seed=4))
    language = next(f for f in result.features if f.name == "symptoms.language").explanation
    assert isinstance(language, CategoricalExplanation)
    assert language.moved[0].value == "en" and language.moved[0].current < language.moved[0].reference
    assert {"es", "fr", "de"} <= {u.value for u in language.unseen}
    assert next(f for f in result.features if f.name == "symptoms").explanation is None  # judged through signals


def test_values_are_kept_as_the_redaction_says_and_at_most_top_of_them(profile) -> None:
    current = demo.production_batch(600, 0.0, seed=5)
    many = pa.array([f"plan-{i}" for i in range(current.num_rows)])
    current = current.set_column(current.column_names.index("insurance"), "insurance", many)
    hashed = OodSettings.model_validate({"redact": {"insurance": "hash", "channel": "drop"}})
    by_name = {f.name: f.explanation for f in _check(profile, current, hashed).features}
    insurance, channel = by_name["insurance"], by_name["channel"]
    assert isinstance(insurance, CategoricalExplanation) and isinstance(channel, CategoricalExplanation)
    assert insurance.unseen_values == 600 and len(insurance.unseen) == TOP
    assert all(u.value.startswith("sha256:") and "plan" not in u.value for u in insurance.unseen)
    assert all(s.value is None for s in channel.moved)  # dropped: the shares stay, the values go


def test_a_window_too_small_to_judge_explains_nothing(profile) -> None:
    result = _check(profile, demo.production_batch(50, 1.0, seed=6))
    assert all(f.explanation is None for f in result.features)


def test_explanations_are_stored_queued_and_read_back_unchanged(profile, tmp_path: Path) -> None:
    result = _check(profile, demo.production_batch(1200, 1.0, seed=7), OodSettings())
    explained = {f.name: f.explanation for f in result.features if f.explanation is not None}
    assert len(explained) >= 8
    with HistoryStore(f"sqlite:///{tmp_path / 'h.db'}") as store:
        store.upgrade()
        store.record_reference(profile)
        check_id = store.record_check(result, window_start=None, window_end=None, trigger="cli")
        record = store.get_check(check_id)
    assert record is not None and record.features is not None
    assert {f.name: f.explanation for f in record.features if f.explanation is not None} == explained
    outbox = Outbox(tmp_path / "outbox")
    info = ReferenceInfo(profile.monitor, profile.version, profile.source, profile.rows, profile.created_at)
    outbox.append(result, info, window_start=None, window_end=None, trigger="manual")
    queued = outbox.oldest()
    assert queued is not None
    assert {f.name: f.explanation for f in queued.result.features if f.explanation is not None} == explained
    for e in explained.values():
        assert from_dict(e.to_dict()) == e
