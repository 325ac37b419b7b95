"""The daemon scraped by a real Prometheus with the shipped alert rules: quiet on clean data, alerting on drift and
on out-of-distribution rows, and every PromQL expression of the shipped dashboards evaluates to series."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from driftwatch import demo
from driftwatch.config import parse_duration

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
      symptoms: text
"""
# The boundary tests time checks a second apart: the text feature's first checks load language models.
TABULAR_FEATURES = FEATURES.replace("      symptoms: text\n", "")
OOD_REASONS = {"out_of_range", "unseen_category", "unexpected_missing", "type_error", "unseen_language", "novel"}
TEXT_REASONS = {"unseen_script"}  # every example text is in Latin script: it runs and never fires


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


def _alert_expr(name: str) -> str:
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    (expr,) = [r["expr"] for r in rules if r.get("alert") == name]
    return expr


def _by_label(prom: PrometheusProcess, expr: str, label: str) -> dict[str, float]:
    return {s["metric"][label]: float(s["value"][1]) for s in prom.query(expr)}


def test_alert_quiet_on_clean_data_then_pending_on_drift(stack: tuple[DaemonProcess, PrometheusProcess]) -> None:
    daemon, prom = stack
    with daemon.client() as c:
        assert post_rows(c, demo.production_batch(600, 0.0, seed=1)).status_code == 202
    prom.wait_for('driftwatch_dataset_drift{monitor="triage"} == 0')
    prom.wait_for('driftwatch_window_rows{monitor="triage"} == 600')
    assert _alert_states(prom, "DriftwatchDatasetDrift") == set()
    (rule,) = [r for r in prom.rules() if r.get("name") == "DriftwatchDatasetDrift"]
    assert rule["state"] == "inactive"
    # Clean rows: a low OOD rate (novelty's own false alarms, about ood.alpha), the alert's expression false.
    ood_alert = _alert_expr("DriftwatchOODRateHigh")
    (clean,) = prom.wait_for('driftwatch_ood_ratio{monitor="triage"}')
    assert float(clean["value"][1]) < 0.05
    assert [s for s in prom.query(ood_alert) if s["metric"]["monitor"] == "triage"] == []
    assert _alert_states(prom, "DriftwatchOODRateHigh") == set()
    enabled = _by_label(prom, 'driftwatch_ood_reason_enabled{monitor="triage"}', "reason")
    assert enabled == dict.fromkeys(OOD_REASONS | TEXT_REASONS, 1.0)

    with daemon.client() as c:
        assert post_rows(c, demo.production_batch(600, 1.0, seed=2)).status_code == 202
    prom.wait_for('driftwatch_dataset_drift{monitor="triage"} == 1')
    prom.wait_for('ALERTS{alertname="DriftwatchDatasetDrift", monitor="triage"}')
    assert _alert_states(prom, "DriftwatchDatasetDrift") <= {"pending", "firing"}
    drifted = {s["metric"]["feature"] for s in prom.query('driftwatch_feature_drifted{monitor="triage"} == 1')}
    assert {"patient_age", "temperature_c", "channel", "arrival_mode"} <= drifted
    quiet = {s["metric"]["feature"] for s in prom.query('driftwatch_feature_drifted{monitor="triage"} == 0')}
    assert not quiet & {"patient_age", "temperature_c", "channel", "arrival_mode"}

    # The drifted rows are out of distribution: the rate is high and the alert's expression holds.
    (high,) = prom.wait_for('driftwatch_ood_ratio{monitor="triage"} > 0.1')
    assert float(high["value"][1]) > 0.5
    assert [s["metric"]["monitor"] for s in prom.query(ood_alert)] == ["triage"]
    prom.wait_for('ALERTS{alertname="DriftwatchOODRateHigh", monitor="triage"}')
    assert _alert_states(prom, "DriftwatchOODRateHigh") <= {"pending", "firing"}
    reasons = _by_label(prom, 'driftwatch_ood_reason_ratio{monitor="triage"}', "reason")
    assert set(reasons) == OOD_REASONS | TEXT_REASONS and reasons["unseen_language"] > 0.1
    assert reasons["unexpected_missing"] > 0.3 and reasons["unseen_category"] > 0.3 and reasons["novel"] > 0.05
    features = _by_label(prom, 'driftwatch_feature_ood_ratio{monitor="triage"}', "feature")
    # 9 features and the 6 signals of symptoms
    assert len(features) == 15 and features["temperature_c"] > 0.2 and features["symptoms.language"] > 0.1


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
            checked += 1
            try:
                if not prom.query(expr):
                    problems.append(f"{path.name}: no series: {expr}")
            except AssertionError as exc:
                problems.append(f"{path.name}: {exc}")
    assert checked >= 20
    assert problems == []


# Shortened windows: the example's 5-minute windows and 30 s checks scaled by 1/30 (10 s windows, 1 s checks),
# and a temporary copy of the shipped rules with the drift alerts' `for:` scaled alike (DriftwatchDatasetDrift
# 10 s, DriftwatchFeatureDrift 20 s); the expressions and the other alerts are the shipped ones (scaled, the
# check-stale alert would fire on the first check of a fresh process, which takes seconds).
SCALE = 30
WINDOW = 10
ROWS_EVERY = 0.5
ROWS_PER_POST = 40  # 80 rows/s: each window's first check sees fewer than min_rows (100) and is skipped
DATASET_FIRING = 'ALERTS{alertname="DriftwatchDatasetDrift", alertstate="firing", monitor="triage"}'


def scaled_rules(folder: Path) -> Path:
    """A copy of the shipped rules with the drift alerts' `for:` divided by SCALE."""
    doc = yaml.safe_load(RULES.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") in ("DriftwatchDatasetDrift", "DriftwatchFeatureDrift"):
                rule["for"] = f"{parse_duration(rule['for']) / SCALE:g}s"
    path = folder / "driftwatch.rules.scaled.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class Traffic:
    """Posts ROWS_PER_POST rows every ROWS_EVERY seconds from a thread; `drift` switches the rows."""

    def __init__(self, daemon: DaemonProcess):
        self.daemon = daemon
        self.drift = 0.0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        seed = 100
        with self.daemon.client() as c:
            while not self._stop.wait(ROWS_EVERY):
                seed += 1
                resp = post_rows(c, demo.production_batch(ROWS_PER_POST, self.drift, seed=seed))
                if resp.status_code != 202:
                    self.errors.append(f"{resp.status_code}: {resp.text[:200]}")


def _alert_state(prom: PrometheusProcess, name: str) -> str:
    states = {a["state"] for a in _alerts(prom) if a["labels"]["alertname"] == name}
    return "firing" if "firing" in states else ("pending" if states else "inactive")


def _alerts(prom: PrometheusProcess) -> list[dict]:
    return httpx.get(f"{prom.url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]


def _skipped(daemon: DaemonProcess) -> int:
    with daemon.client() as c:
        return c.get("/v1/monitors/triage").json()["checks_by_outcome"].get("skipped_insufficient_data", 0)


def test_sustained_drift_fires_and_stays_firing_across_boundaries(tmp_path: Path) -> None:
    window = f"{{type: tumbling, duration: {WINDOW}s}}"
    config = write_config(tmp_path, interval="1s", window=window, features=TABULAR_FEATURES)
    daemon = DaemonProcess(config).start()
    prom = PrometheusProcess(tmp_path, f"127.0.0.1:{daemon.port}", [scaled_rules(tmp_path)])
    try:
        prom.start()
        with Traffic(daemon) as traffic:
            # Clean traffic across a boundary: a verdict (0), dataset drift never pending, no alert firing. (A single
            # feature's test on a window of a few hundred rows may flag by chance: FeatureDrift may go pending.)
            prom.wait_for('driftwatch_dataset_drift{monitor="triage"} == 0', timeout=90)  # a cold first check
            clean_until = (time.time() // WINDOW + 1) * WINDOW + 2
            while time.time() < clean_until:
                alerts = _alerts(prom)
                assert [a for a in alerts if a["labels"]["alertname"] == "DriftwatchDatasetDrift"] == []
                assert [a["labels"] for a in alerts if a["state"] == "firing"] == []
                time.sleep(0.5)

            traffic.drift = 0.3
            prom.wait_for(DATASET_FIRING, timeout=4 * WINDOW)
            fired_at, skipped_at_firing = time.time(), _skipped(daemon)
            # Held across two boundaries (and the skipped first checks of the new windows), polled twice a second.
            states = []
            while time.time() < (fired_at // WINDOW + 2) * WINDOW + 3:
                states.append(_alert_state(prom, "DriftwatchDatasetDrift"))
                time.sleep(0.5)
            assert set(states) == {"firing"}, states
            assert _skipped(daemon) - skipped_at_firing >= 2
            verdict_age = prom.query('time() - driftwatch_verdict_window_end_timestamp_seconds{monitor="triage"}')
            assert 0 <= float(verdict_age[0]["value"][1]) < WINDOW + 3
            prom.wait_for('ALERTS{alertname="DriftwatchFeatureDrift", alertstate="firing", monitor="triage"}', 30)
            assert traffic.errors == []
    finally:
        prom.stop()
        assert daemon.stop() == 0, daemon.log()
