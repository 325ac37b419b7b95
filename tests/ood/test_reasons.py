"""Each OOD reason on crafted rows, the novelty score's refusal on a tiny reference, exemplars and redaction."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

from driftwatch.config import MonitorConfig, OodSettings
from driftwatch.live.rowbatch import RowShaper
from driftwatch.ood.score import score_ood
from driftwatch.reference.profile import build_profile

FEATURES = {"age": "numeric", "pulse": "numeric", "channel": "categorical", "note": "text"}


def _reference(rows: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    age = rng.normal(50, 10, rows)
    table = pa.table(
        {
            "age": age,
            # pulse follows age: young and fast or old and slow, never the other way round
            "pulse": 140 - age + rng.normal(0, 2, rows),
            "channel": rng.choice(["web", "phone", "kiosk"], rows, p=[0.6, 0.39, 0.01]),
            "note": rng.choice(["fine", "cough", "fever"], rows),
        }
    )
    mon = MonitorConfig(name="ood", reference={"path": "unused"}, features=FEATURES)
    return build_profile(table, mon, f"v{rows}-{seed}", "memory")


def _row(**values) -> dict:
    return {"age": 50.0, "pulse": 90.0, "channel": "web", "note": "fine"} | values


def _score(profile, rows: list[dict], **settings):
    return score_ood(profile, pa.Table.from_pylist(rows), OodSettings(**settings))


@pytest.fixture(scope="module")
def profile():
    return _reference()


def test_a_typical_row_is_not_out_of_distribution(profile) -> None:
    result = _score(profile, [_row()])
    assert result.rows == 1 and result.ood_rows == 0 and result.exemplars == []
    rules = ["out_of_range", "unseen_category", "unexpected_missing", "type_error"]
    assert result.reasons == [*rules, "unseen_language", "unseen_script", "novel"]  # note is a text feature


@pytest.mark.parametrize(
    ("row", "reason", "feature"),
    [
        (_row(age=120.0), "out_of_range", "age"),
        (_row(age=math.inf), "out_of_range", "age"),
        (_row(channel="fax"), "unseen_category", "channel"),
        (_row(pulse=None), "unexpected_missing", "pulse"),
        ({"age": "fifty"}, "type_error", "age"),
        # each value inside its range, the pair far from every reference row
        (_row(age=30.0, pulse=70.0), "novel", None),
    ],
)
def test_each_reason_fires_on_its_row(profile, row: dict, reason: str, feature: str | None) -> None:
    if reason == "type_error":  # a column of strings, one of them not a number
        table = pa.table({"age": ["50", "fifty"], "pulse": [90.0] * 2, "channel": ["web"] * 2, "note": ["fine"] * 2})
        result = score_ood(profile, table, OodSettings())
    else:
        result = _score(profile, [_row(), row])
    assert result.ood_rows == 1 and result.by_reason[reason] == 1
    (exemplar,) = result.exemplars
    assert reason in exemplar.reasons
    if feature is not None:
        assert feature in exemplar.features and result.features[feature] == 1
    else:
        assert set(exemplar.features) <= {"age", "pulse"} and exemplar.features


def test_only_the_novel_pair_is_novel_and_it_names_both_features(profile) -> None:
    result = _score(profile, [_row(age=30.0, pulse=70.0)])
    (exemplar,) = result.exemplars
    assert exemplar.reasons == ["novel"] and exemplar.p_value is not None and exemplar.p_value <= 0.01
    assert sorted(exemplar.features) == ["age", "pulse"]


def test_an_absent_column_is_unexpected_missing_for_every_row(profile) -> None:
    table = pa.table({"age": [50.0, 51.0], "pulse": [90.0, 89.0], "note": ["fine", "fine"]})
    result = score_ood(profile, table, OodSettings())
    assert result.by_reason["unexpected_missing"] == 2 and result.features["channel"] == 2
    assert result.by_reason["unseen_category"] == 0  # a missing label is not an unseen one


def test_rare_reference_categories_count_as_unseen_below_min_frequency(profile) -> None:
    rows = [_row(channel="kiosk")]
    rules = {"novel": {"enabled": False}}
    assert _score(profile, rows, reasons=rules).ood_rows == 0  # kiosk is 1% of the reference
    rare = {"unseen_category": {"min_frequency": 0.05}, **rules}
    assert _score(profile, rows, reasons=rare).by_reason["unseen_category"] == 1


def test_missing_values_the_reference_also_has_are_not_out_of_distribution() -> None:
    rng = np.random.default_rng(3)
    pulse = rng.normal(90, 5, 2000)
    pulse[::10] = np.nan  # 10% missing in the reference
    table = pa.table({"pulse": pulse})
    mon = MonitorConfig(name="m", reference={"path": "unused"}, features={"pulse": "numeric"})
    prof = build_profile(table, mon, "missing", "memory")
    rows = pa.table({"pulse": pa.array([None, 90.0], pa.float64())})
    assert score_ood(prof, rows, OodSettings()).by_reason["unexpected_missing"] == 0
    loose = OodSettings(reasons={"unexpected_missing": {"max_reference_rate": 0.2}})
    assert score_ood(prof, rows, loose).by_reason["unexpected_missing"] == 1


def test_rows_the_live_window_shaped_keep_their_type_errors(profile) -> None:
    shaper = RowShaper(profile)
    raw = pa.table({"age": ["50", "fifty"], "pulse": [90.0, 90.0], "channel": ["web"] * 2, "note": ["fine"] * 2})
    batch = shaper.normalize(raw).batch
    result = score_ood(profile, pa.Table.from_batches([batch]), OodSettings())
    assert result.by_reason["type_error"] == 1 and result.by_reason["unexpected_missing"] == 0


def test_novelty_is_disabled_with_a_reason_on_a_reference_too_small_to_calibrate() -> None:
    small = _reference(rows=120)
    result = _score(small, [_row(age=30.0, pulse=70.0)])
    assert "novel" not in result.reasons
    assert "needs a reference of at least 200 rows" in result.disabled["novel"]
    assert result.by_reason.get("novel") is None and result.ood_rows == 0
    assert "novel" in _score(_reference(rows=250), [_row()]).reasons


def test_exemplars_are_redacted_before_they_are_kept(profile) -> None:
    rows = [_row(channel="fax", note="patient John Smith, diabetic") for _ in range(3)]
    rows.append(_row(age=130.0, note="second patient"))
    result = _score(profile, rows)
    # the same row sent three times is one exemplar; text is dropped unless redact says otherwise
    assert len(result.exemplars) == 2
    assert all("note" not in e.values for e in result.exemplars)
    redact = {"note": "truncate:7", "channel": "hash", "age": "drop"}
    result = _score(profile, rows, redact=redact)
    text = json.dumps([e.to_dict() for e in result.exemplars])
    assert "John" not in text and "fax" not in text
    assert all("age" not in e.values for e in result.exemplars)
    assert {e.values["note"] for e in result.exemplars} == {"patient", "second "}
    assert all(str(e.values["channel"]).startswith("sha256:") for e in result.exemplars)


def test_exemplars_come_most_novel_first_and_at_most_k(profile) -> None:
    rows = [_row(age=float(a)) for a in (95, 150, 110, 300)]
    result = _score(profile, rows, exemplars={"k": 2})
    assert result.ood_rows == 4
    assert [e.values["age"] for e in result.exemplars] == [300.0, 150.0]


def test_a_bad_redaction_is_a_config_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not one of drop, keep, hash, truncate:N"):
        OodSettings(redact={"note": "mask"})
