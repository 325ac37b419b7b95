"""The monitor dashboard's queries under promtool: severity, the p-value's line and distances under both rules, and
the OOD breakdowns."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from services import binaries

from driftwatch.dashboards import monitor as dashboard
from driftwatch.dashboards import substitute

TARGET = 'job="driftwatch", instance="driftwatch:8321"'
# Powers of two, so that the ratios are exact. "cal" decides on calibrated p-values, "thr" on evidently's thresholds.
SERIES = {
    'driftwatch_check_level{monitor="cal"}': 0.03125,
    'driftwatch_feature_p_value{monitor="cal", feature="a", method="wasserstein"}': 0.0078125,
    'driftwatch_feature_drift_score{monitor="cal", feature="a", method="wasserstein"}': 0.375,
    'driftwatch_feature_drift_threshold{monitor="cal", feature="a", method="wasserstein"}': 0.125,
    'driftwatch_feature_p_value{monitor="cal", feature="b", method="chisquare"}': 0.5,
    'driftwatch_feature_drift_score{monitor="cal", feature="b", method="chisquare"}': 0.015625,
    'driftwatch_feature_drift_threshold{monitor="cal", feature="b", method="chisquare"}': 0.0625,
    'driftwatch_feature_p_value{monitor="cal", feature="m", method="none"}': 2**-20,
    'driftwatch_feature_p_value{monitor="thr", feature="k", method="ks"}': 0.015625,
    'driftwatch_feature_drift_score{monitor="thr", feature="k", method="ks"}': 0.015625,
    'driftwatch_feature_drift_threshold{monitor="thr", feature="k", method="ks"}': 0.0625,
    'driftwatch_feature_drift_score{monitor="thr", feature="a", method="wasserstein"}': 0.375,
    'driftwatch_feature_drift_threshold{monitor="thr", feature="a", method="wasserstein"}': 0.125,
    'driftwatch_ood_ratio{monitor="cal"}': 0.5,
    'driftwatch_ood_reason_ratio{monitor="cal", reason="novel"}': 0.125,
    'driftwatch_ood_reason_ratio{monitor="cal", reason="unexpected_missing"}': 0.375,
    'driftwatch_ood_reason_ratio{monitor="thr", reason="novel"}': 0.25,
    'driftwatch_ood_reason_enabled{monitor="cal", reason="novel"}': 1.0,
    'driftwatch_ood_reason_enabled{monitor="thr", reason="novel"}': 0.0,
    'driftwatch_feature_ood_ratio{monitor="cal", feature="a"}': 0.375,
    'driftwatch_feature_ood_ratio{monitor="cal", feature="b"}': 0.0,
    'driftwatch_feature_ood_ratio{monitor="thr", feature="a"}': 0.25,
}


def _expr(expr: str, monitor: str, feature: str = ".*") -> str:
    return substitute(expr, {"monitor": monitor, "feature": feature})


def _case(expr: str, monitor: str, samples: dict[str, float], feature: str = ".*") -> dict[str, Any]:
    return {
        "expr": _expr(expr, monitor, feature),
        "eval_time": "1m",
        "exp_samples": [{"labels": labels, "value": value} for labels, value in samples.items()],
    }


def _ood_cases() -> list[dict[str, Any]]:
    panels = {p.title: p.targets for p in (b.build() for b in dashboard._ood_panels())}
    by_reason, rate = (t.expr for t in panels["OOD rate by reason"])
    (by_feature,) = (t.expr for t in panels["OOD share by feature"])
    (enabled,) = (t.expr for t in panels["OOD reasons"])
    return [
        _case(by_reason, "cal", {'{reason="novel"}': 0.125, '{reason="unexpected_missing"}': 0.375}),
        _case(rate, "cal", {"{}": 0.5}),
        _case(rate, "thr", {}),
        _case(by_feature, "cal", {'{feature="a"}': 0.375, '{feature="b"}': 0.0}),
        _case(by_feature, "cal", {'{feature="b"}': 0.0}, feature="b"),
        _case(enabled, "thr", {'{reason="novel"}': 0.0}),
    ]


def test_decision_queries_under_both_rules(tmp_path: Path) -> None:
    severity = f"max by (feature) ({dashboard.SEVERITY})"
    distances = f"max by (feature, method) ({dashboard.DISTANCE})"
    level = f"max by (feature, method) ({dashboard.FEATURE_LEVEL})"
    cases = [
        # Calibrated: level / p-value, for distances, p-value tests and a mostly-missing feature alike.
        _case(severity, "cal", {'{feature="a"}': 4.0, '{feature="b"}': 0.0625, '{feature="m"}': 32768.0}),
        _case(dashboard.P_VALUE_LINE, "cal", {'{monitor="cal"}': 0.03125}),
        _case(
            level,
            "cal",
            {
                '{feature="a", method="wasserstein"}': 0.03125,
                '{feature="b", method="chisquare"}': 0.03125,
                '{feature="m", method="none"}': 0.03125,
            },
        ),
        _case(distances, "cal", {'{feature="a", method="wasserstein"}': 0.375}),
        # Threshold: threshold / p-value for p-value tests, score / threshold for distances.
        _case(severity, "thr", {'{feature="k"}': 4.0, '{feature="a"}': 3.0}),
        _case(dashboard.P_VALUE_LINE, "thr", {'{feature="k", method="ks"}': 0.0625}),
        _case(level, "thr", {}),
        _case(distances, "thr", {'{feature="a", method="wasserstein"}': 0.375}),
        # OOD: one monitor's rate by reason, its features (the feature variable applies), which reasons ran.
        *_ood_cases(),
    ]
    series = [{"series": f"{name[:-1]}, {TARGET}}}", "values": f"{value}x2"} for name, value in SERIES.items()]
    (tmp_path / "none.rules.yml").write_text("groups: []\n")
    spec = {
        "rule_files": ["none.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": cases}],
    }
    (tmp_path / "queries.test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run(
        [binaries.promtool(), "test", "rules", "queries.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
