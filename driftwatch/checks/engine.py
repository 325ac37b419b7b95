"""The drift engine: compare a current sample with a reference profile, feature by feature."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.checks.calibrate import combine, missing_p_value, score_p_value
from driftwatch.checks.decide import JUDGED, by_calibration, by_threshold
from driftwatch.checks.explain import explain
from driftwatch.checks.results import CheckResult, FeatureQuality, FeatureResult
from driftwatch.checks.stattests import default_method, get_stat_test, lookup
from driftwatch.checks.stattests.base import CurrentValues, Outcome
from driftwatch.config import DriftSettings, OodSettings
from driftwatch.ood.results import RuleCounts
from driftwatch.ood.score import score_ood
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile
from driftwatch.reference.values import to_labels, to_numeric
from driftwatch.text.current import current_signals, with_row_signals
from driftwatch.text.summary import summarize
from driftwatch.types import Kind, Status


def run_check(
    profile: ReferenceProfile,
    current: pa.Table,
    settings: DriftSettings,
    *,
    fast: bool = True,
    on_feature: Callable[[str], None] | None = None,
    quality: Mapping[str, FeatureQuality] | None = None,
    rows: int | None = None,
    look_share: float = 1.0,
    ood: OodSettings | None = None,
    rules: RuleCounts | None = None,
    signals: Mapping[str, pa.Array] | None = None,
) -> CheckResult:
    """Compare `current` with the reference profile; never raises on bad or empty data.

    A live window passes its exact `quality` counts and total `rows` seen, of which `current` is a sample, and
    `look_share`, this look's share of the window's alpha (checks/looks.py). With `ood`, the rows of `current`
    are also scored out of distribution (ood/score.py); a live window adds its `rules` counted on every row. Text
    features are judged through their derived signals (text/derive.py), unless a text test is named for them;
    `signals` are those of `current` when the caller computed them (text/current.py current_signals).
    """
    started = time.time()
    t0 = time.perf_counter()
    enough = current.num_rows >= settings.min_rows
    rows = current.num_rows if rows is None else rows
    results = []
    calibrated = settings.decision == "calibrated"
    given = dict(signals) if signals is not None else None
    signals = (given if given is not None else current_signals(profile, current)) if profile.signals and enough else {}
    for feature in profile.judged:
        table = current
        if feature.schema.signal_of is not None:
            if feature.name not in signals:  # its text column is absent: that feature's result says so
                continue
            table = pa.table({feature.name: signals[feature.name]})  # a capped signal has fewer rows
        derived = [s.name for s in profile.signals if s.schema.signal_of == feature.name]
        result, outcome, values = _check_feature(feature, table, settings, enough, fast, derived)
        if calibrated and enough:
            result = _calibrate(profile, feature, result, outcome, values, table.num_rows, settings)
        if values is not None and result.status == Status.OK:
            result = replace(result, explanation=explain(feature, values, ood, profile.monitor))
        if quality is not None and feature.name in quality:
            result = replace(result, quality=quality[feature.name])
        results.append(result)
        if on_feature is not None:
            on_feature(feature.name)
    how = settings.correction
    level = settings.alpha * look_share
    results = by_calibration(results, how, level) if calibrated else by_threshold(results, how)
    judged = [r for r in results if r.status in JUDGED]
    drifted = sum(r.drifted for r in judged)
    share = drifted / len(judged) if judged else 0.0
    # with the text signals of every row: for unseen_language, unseen_script and the distances (computed here when
    # the window was too small to judge them)
    scored = with_row_signals(profile, current, signals or given or None)
    ood_result = score_ood(profile, scored, ood) if ood is not None and current.num_rows else None
    if ood_result is not None and rules is not None:
        ood_result = replace(ood_result, rules=rules)
    return CheckResult(
        monitor=profile.monitor,
        reference_version=profile.version,
        rows=rows,
        status=Status.OK if enough else Status.INSUFFICIENT_DATA,
        dataset_drift=enough and bool(judged) and share >= settings.drift_share,
        drifted_features=drifted,
        judged_features=len(judged),
        drift_share=share,
        drift_share_threshold=settings.drift_share,
        multiple_testing=how,
        started_at=started,
        duration_seconds=time.perf_counter() - t0,
        features=results,
        decision=settings.decision,
        alpha=settings.alpha if calibrated else None,
        look_share=look_share,
        level=level if calibrated else None,
        ood=ood_result,
        text=summarize(profile, current, signals) if signals else {},
    )


def _calibrate(
    profile: ReferenceProfile,
    feature: FeatureProfile,
    result: FeatureResult,
    outcome: Outcome | None,
    values: CurrentValues | None,
    rows: int,
    settings: DriftSettings,
) -> FeatureResult:
    """Add the calibrated p-value: the test's null at this size, combined with the unusable-value share's test."""
    if (result.status not in JUDGED and result.status != Status.INSUFFICIENT_DATA) or feature.valid == 0:
        return result
    usable = result.current_rows
    p_missing = missing_p_value(feature, rows, usable)
    if result.status == Status.INSUFFICIENT_DATA:  # the window has enough rows, this feature too few usable values
        if p_missing is None:
            return result
        message = f"{usable} usable values < min_rows {settings.min_rows}: judged on the share of unusable values"
        return replace(
            result,
            status=Status.MOSTLY_MISSING,
            p_value=p_missing,
            missing_p_value=p_missing,
            calibration="missing_rate",
            message=message,
        )
    if result.status != Status.OK:
        return replace(result, p_value=p_missing, missing_p_value=p_missing, calibration="missing_rate")
    assert result.method is not None and outcome is not None and values is not None
    try:
        p_score, how = score_p_value(profile, feature, result.method, values, outcome, settings)
    except Exception as exc:  # calibration failing on odd data must not stop the other features
        return replace(result, status=Status.ERROR, message=f"calibration failed: {type(exc).__name__}: {exc}")
    if not math.isfinite(p_score):
        return replace(result, status=Status.ERROR, message=f"calibration failed: no null scores for {result.method}")
    return replace(result, p_value=combine(p_score, p_missing), missing_p_value=p_missing, calibration=how)


def _check_feature(
    feature: FeatureProfile, current: pa.Table, settings: DriftSettings, enough: bool, fast: bool, derived: list[str]
) -> tuple[FeatureResult, Outcome | None, CurrentValues | None]:
    kind = feature.kind
    base = dict(
        name=feature.name,
        kind=kind,
        reference_rows=feature.valid,
        prediction=feature.schema.prediction,
    )
    if feature.name not in current.column_names:
        quality = FeatureQuality(current.num_rows, 1.0, feature.missing_rate, 0.0)
        common = dict(**base, current_rows=0, quality=quality)
        return (
            _no_test(common, Status.MISSING_COLUMN, "column absent from the current data", drifted=enough),
            None,
            None,
        )
    values, quality = _current_values(feature, current.column(feature.name))
    n = len(values)
    common = dict(**base, current_rows=n, quality=quality)
    if not enough:
        return (
            _no_test(common, Status.INSUFFICIENT_DATA, f"{current.num_rows} rows < min_rows {settings.min_rows}"),
            None,
            None,
        )
    named = feature.schema.method or settings.methods.get(kind)
    if derived and named is None:
        # Its signals carry the verdict, even when none of its values is a string: this row keeps the quality only.
        return _no_test(common, Status.SIGNALS, f"judged through its {len(derived)} text signals"), None, None
    if feature.valid == 0:
        return _no_test(common, Status.NO_REFERENCE_VALUES, "the reference has no usable values"), None, None
    if n == 0:
        message = "no usable values (all missing, non-finite or of the wrong type)"
        return _no_test(common, Status.NO_VALID_VALUES, message, drifted=True), None, None
    if n < settings.min_rows:
        return (
            _no_test(common, Status.INSUFFICIENT_DATA, f"{n} usable values < min_rows {settings.min_rows}"),
            None,
            None,
        )
    method = named or _default(feature, values)
    spec = lookup(method)
    threshold = feature.schema.threshold or settings.thresholds.get(kind) or spec.default_threshold
    try:
        outcome = get_stat_test(method, fast=fast).outcome(feature, values, kind, threshold)
        score, drifted = outcome.score, outcome.drifted
    except Exception as exc:  # a stat test failing on odd data must not stop the other features
        return _failed(common, method, threshold, spec.score_kind, f"{type(exc).__name__}: {exc}"), None, None
    if not math.isfinite(score) and spec.score_kind == "p_value":
        return _failed(common, method, threshold, spec.score_kind, f"{method} returned {score}"), None, None
    return (
        FeatureResult(
            **common,
            method=method,
            score=float(score),
            threshold=threshold,
            drifted=bool(drifted),
            status=Status.OK,
            score_kind=spec.score_kind,
            p_value=float(score) if spec.score_kind == "p_value" else None,
            threshold_drifted=bool(drifted),
        ),
        outcome,
        values,
    )


def _failed(common: dict, method: str, threshold: float, score_kind: str, message: str) -> FeatureResult:
    return FeatureResult(
        **common,
        method=method,
        score=None,
        threshold=threshold,
        drifted=False,
        status=Status.ERROR,
        score_kind=score_kind,
        message=message,
    )


def _no_test(common: dict, status: Status, message: str, *, drifted: bool = False) -> FeatureResult:
    """A result without a stat test; a missing column or no usable values is still a finding (drifted)."""
    return FeatureResult(
        **common, method=None, score=None, threshold=None, drifted=drifted, status=status, message=message
    )


def _current_values(feature: FeatureProfile, column: pa.ChunkedArray) -> tuple[np.ndarray | pa.Array, FeatureQuality]:
    rows = len(column)
    ref_missing = feature.missing_rate
    if feature.kind == Kind.NUMERIC:
        nv = to_numeric(column)
        assert feature.numeric is not None
        present = rows - nv.missing - nv.type_errors
        if len(nv.values) and feature.numeric.values.size:
            outside = int(np.count_nonzero((nv.values < feature.numeric.min) | (nv.values > feature.numeric.max)))
        else:
            outside = 0
        quality = FeatureQuality(
            rows,
            _rate(nv.missing, rows),
            ref_missing,
            _rate(nv.type_errors, rows),
            out_of_range_rate=_rate(outside + nv.non_finite, present),
        )
        return nv.values, quality
    labels = to_labels(column, feature.kind)
    unseen = None
    if feature.categorical is not None:
        known = pa.array(feature.categorical.categories.tolist(), pa.string())
        unseen_count = len(labels.values) - (pc.sum(pc.is_in(labels.values, value_set=known)).as_py() or 0)
        unseen = _rate(unseen_count, len(labels.values))
    quality = FeatureQuality(
        rows, _rate(labels.missing, rows), ref_missing, _rate(labels.type_errors, rows), unseen_category_rate=unseen
    )
    return labels.values, quality


def _rate(count: int, total: int) -> float:
    return count / total if total else 0.0


def _default(feature: FeatureProfile, values: np.ndarray | pa.Array) -> str:
    """evidently's default test, from the reference size and the distinct values of reference and current.

    A text signal's test follows from its reference alone, so that it, and the scale of its score, stays the same
    from check to check (an OOV rate that is 0 on every reference row would switch tests with each drifted window).
    """
    if feature.schema.signal_of is not None:
        summary = feature.numeric if feature.numeric is not None else feature.categorical
        return default_method(feature.kind, feature.valid, summary.n_unique if summary is not None else 0)
    if feature.numeric is not None:
        # The rule only asks whether there are more than 5 (or 2) distinct values: past that, skip the count.
        if feature.numeric.n_unique > 5:
            return default_method(feature.kind, feature.valid, feature.numeric.n_unique)
        ref = feature.numeric.values
        cur = np.unique(values)
        pos = np.minimum(ref.searchsorted(cur), ref.size - 1)
        new = int(np.count_nonzero(ref[pos] != cur))
        distinct = feature.numeric.n_unique + new
    elif feature.categorical is not None:
        if feature.categorical.n_unique > 2:
            return default_method(feature.kind, feature.valid, feature.categorical.n_unique)
        cur = pc.unique(values).to_pylist()
        distinct = len(set(feature.categorical.categories.tolist()) | set(cur))
    else:
        distinct = 0
    return default_method(feature.kind, feature.valid, distinct)
