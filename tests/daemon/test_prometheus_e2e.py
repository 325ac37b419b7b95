"""The daemon scraped by a real Prometheus with the shipped alert rules: quiet on clean data, alerting on drift,
and every PromQL expression of the shipped dashboards evaluates to series."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from driftwatch import demo

from .harness import ROOT, DaemonProcess, post_rows, write_config
from .prometheus import PrometheusProcess

RULES = ROOT / "deploy" / "prometheus" / "rules" / "driftwatch.rules.yml"
FEATURES = """      patient_age: numeric
      heart_rate: numeric
      temperature_c: numeric
      pain_score: {kind: numeric, method: ks}
      arrival_mode: categorical
      channel: categorical
      insurance: categorical
      predicted_urgency: categorical
"""
# Series the daemon documents but exports only once OOD scoring is configured for a monitor.
NOT_YET_EXPORTED = ("driftwatch_ood_ratio",)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DaemonProcess, PrometheusProcess]]:
    folder = tmp_path_factory.mktemp("e2e")
    config = write_config(folder, interval="1s", window="{type: sliding, rows: 600}", features=FEATURES)
    daemon = DaemonProcess(config).start()
    prom = PrometheusProcess(folder, f"127.0.0.1:{daemon.port}", [RULES])
    try:
        prom.start()
        yield daemon, prom
    finally:
        prom.stop()
        assert daemon.stop() == 0, daemon.log()


def _alert_states(prom: PrometheusProcess, name: str) -> set[str]:
    return {s["metric"]["alertstate"] for s in prom.query(f'ALERTS{{alertname="{name}", monitor="triage"}}')}


def test_alert_quiet_on_clean_data_then_pending_on_drift(stack: tuple[DaemonProcess, PrometheusProcess]) -> None:
    daemon, prom = stack
    with daemon.client() as c:
        assert post_rows(c, demo.production_batch(600, 0.0, seed=1)).status_code == 202
    prom.wait_for('driftwatch_dataset_drift{monitor="triage"} == 0')
    prom.wait_for('driftwatch_window_rows{monitor="triage"} == 600')
    assert _alert_states(prom, "DriftwatchDatasetDrift") == set()
    (rule,) = [r for r in prom.rules() if r.get("name") == "DriftwatchDatasetDrift"]
    assert rule["state"] == "inactive"

    with daemon.client() as c:
        assert post_rows(c, demo.production_batch(600, 1.0, seed=2)).status_code == 202
    prom.wait_for('driftwatch_dataset_drift{monitor="triage"} == 1')
    prom.wait_for('ALERTS{alertname="DriftwatchDatasetDrift", monitor="triage"}')
    assert _alert_states(prom, "DriftwatchDatasetDrift") <= {"pending", "firing"}
    drifted = {s["metric"]["feature"] for s in prom.query('driftwatch_feature_drifted{monitor="triage"} == 1')}
    assert {"patient_age", "temperature_c", "channel", "arrival_mode"} <= drifted
    quiet = {s["metric"]["feature"] for s in prom.query('driftwatch_feature_drifted{monitor="triage"} == 0')}
    assert not quiet & {"patient_age", "temperature_c", "channel", "arrival_mode"}


def test_every_dashboard_expression_returns_series(stack: tuple[DaemonProcess, PrometheusProcess]) -> None:
    from driftwatch.dashboards import promql_expressions

    _, prom = stack
    prom.wait_for('ALERTS{alertname="DriftwatchDatasetDrift", monitor="triage"}', timeout=120)
    variables = {
        "datasource": "prometheus",
        "monitor": "triage",
        "feature": ".*",  # the "All" choice: a regex, as the panels match features with =~
        "daemon_url": "http://127.0.0.1:8321",
        "__rate_interval": "1m",
        "__interval": "15s",
        "__range": "5m",
    }
    files = sorted((ROOT / "dashboards").glob("*.json"))
    assert len(files) == 3
    problems, checked = [], 0
    for path in files:
        for expr in promql_expressions(json.loads(path.read_text()), variables):
            if any(name in expr for name in NOT_YET_EXPORTED):
                continue
            checked += 1
            try:
                if not prom.query(expr):
                    problems.append(f"{path.name}: no series: {expr}")
            except AssertionError as exc:
                problems.append(f"{path.name}: {exc}")
    assert checked >= 20
    assert problems == []
