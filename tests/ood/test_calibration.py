"""The OOD rate is calibrated on fresh rows of the reference's distribution and rises with the drift knob."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from driftwatch.config import MonitorConfig, OodSettings, load_config
from driftwatch.demo.simulate import simulate
from driftwatch.ood.score import score_ood
from driftwatch.reference.profile import build_profile, load_profile

ROOT = Path(__file__).resolve().parents[2]


def _randhie() -> tuple[pa.Table, dict[str, str]]:
    """statsmodels' RAND health insurance table (ships with statsmodels): 20,190 rows."""
    from statsmodels.datasets import randhie

    frame = randhie.load_pandas().data
    kinds = {c: "numeric" for c in frame.columns} | dict.fromkeys(("idp", "hlthg", "hlthf", "hlthp"), "categorical")
    return pa.Table.from_pandas(frame, preserve_index=False), kinds


def _triage() -> tuple[pa.Table, dict[str, str]]:
    """The example generator's clean mode (drift 0), free text left out."""
    features = load_config(ROOT / "config.example.yaml").monitor("triage").features
    kinds = {name: spec.kind.value for name, spec in features.items() if spec.kind != "text"}
    return simulate(np.random.default_rng(11), 30_000, 0.0).drop_columns(["symptoms"]), kinds


def _triage_text() -> tuple[pa.Table, dict[str, str]]:
    """The same with its free text, whose signals (language, script, length, OOV) join the distances."""
    features = load_config(ROOT / "config.example.yaml").monitor("triage").features
    kinds = {name: spec.kind.value for name, spec in features.items()}
    return simulate(np.random.default_rng(12), 30_000, 0.0), kinds


@pytest.mark.parametrize("data", [_randhie, _triage, _triage_text], ids=["randhie", "triage-clean", "triage-text"])
@pytest.mark.parametrize("alpha", [0.01, 0.05])
def test_fresh_rows_of_the_reference_distribution_are_ood_at_about_alpha(data, alpha: float) -> None:
    table, kinds = data()
    rng = np.random.default_rng(7)
    order = rng.permutation(table.num_rows)
    half = table.num_rows // 2
    reference, held_out = table.take(pa.array(np.sort(order[:half]))), table.take(pa.array(order[half:]))
    mon = MonitorConfig(name="cal", reference={"path": "unused"}, features=kinds)
    profile = build_profile(reference, mon, f"{data.__name__}-{alpha}", "memory")
    result = score_ood(profile, held_out, OodSettings(alpha=alpha))
    assert result.disabled == {} and result.rows == held_out.num_rows
    # about 10,000 held-out rows: binomial spread alone is 0.001 (alpha 0.01) to 0.002 (0.05)
    assert alpha / 2 <= result.rate <= 2 * alpha, result.to_dict()


def test_the_ood_rate_rises_with_the_example_drift_knob(example_config) -> None:
    monitor = load_config(example_config).monitor("triage")
    profile = load_profile(monitor, example_config.parent / "data")
    rates = []
    for knob in (0.0, 0.25, 0.5, 0.75, 1.0):
        batch = simulate(np.random.default_rng(int(knob * 100) + 1), 3_000, knob)
        rates.append(score_ood(profile, batch, monitor.ood).rate)
    assert rates[0] <= 2 * monitor.ood.alpha
    assert all(a < b for a, b in itertools.pairwise(rates)), rates
    assert rates[-1] > 0.3, rates
