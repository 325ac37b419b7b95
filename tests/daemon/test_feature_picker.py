"""A column that stops arriving, through a real daemon and a real Prometheus: still listed by the dashboards'
feature picker, alerting as drift, and without a score or a ratio over zero values."""

from __future__ import annotations

import json
import re

from driftwatch import demo

from .harness import ROOT, DaemonProcess, post_rows, write_config
from .prometheus import PrometheusProcess

RULES = ROOT / "deploy" / "prometheus" / "rules" / "driftwatch.rules.yml"


def _picker_selector() -> str:
    """The monitor dashboard's feature variable query, as the selector Grafana's label_values() evaluates."""
    dashboard = json.loads((ROOT / "dashboards" / "driftwatch-monitor.json").read_text())
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "feature"]
    query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
    match = re.fullmatch(r"label_values\((.+), feature\)", query)
    assert match, query
    return match.group(1).replace("$monitor", "triage")


def test_a_vanished_column_stays_in_the_feature_picker(tmp_path) -> None:
    config = write_config(tmp_path, interval="1s", window="{type: sliding, rows: 300}")
    daemon = DaemonProcess(config).start()
    prom = PrometheusProcess(tmp_path, f"127.0.0.1:{daemon.port}", [RULES])
    try:
        prom.start()
        selector = _picker_selector()
        with daemon.client() as c:
            assert post_rows(c, demo.production_batch(300, 0.0, seed=1)).status_code == 202
        prom.wait_for('driftwatch_feature_drift_score{monitor="triage", feature="patient_age"}')
        with daemon.client() as c:
            batch = demo.production_batch(300, 0.0, seed=2).drop_columns(["patient_age"])
            assert post_rows(c, batch).status_code == 202
        prom.wait_for('driftwatch_feature_status{monitor="triage", feature="patient_age", status="no_valid_values"}')
        prom.wait_for('absent(driftwatch_feature_drift_score{monitor="triage", feature="patient_age"})')
        picked = {s["metric"]["feature"] for s in prom.query(selector)}
        assert "patient_age" in picked and len(picked) == 8
        drifted = prom.query('driftwatch_feature_drifted{monitor="triage", feature="patient_age"}')
        assert [(s["metric"]["method"], s["value"][1]) for s in drifted] == [("none", "1")]
        assert prom.query('driftwatch_feature_out_of_range_ratio{monitor="triage", feature="patient_age"}') == []
        missing = prom.query('driftwatch_feature_missing_ratio{monitor="triage", feature="patient_age"}')
        assert [s["value"][1] for s in missing] == ["1"]
        prom.wait_for('ALERTS{alertname="DriftwatchFeatureDrift", monitor="triage", feature="patient_age"}')
    finally:
        prom.stop()
        assert daemon.stop() == 0, daemon.log()
