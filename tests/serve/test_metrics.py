"""The metrics collector: the documented contract, no fake zeros, bounded cardinality, series that go away."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from driftwatch import demo
from driftwatch.config import parse_config
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.metrics import FeatureLines, create_registry, exposition

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "triage" / "reference.csv"
FEATURES = (
    "{patient_age: numeric, heart_rate: numeric, temperature_c: numeric, pain_score: {kind: numeric, method: ks},"
    " channel: categorical, arrival_mode: categorical}"
)


def _daemon(tmp_path: Path, extra: str = "") -> Daemon:
    cfg = parse_config(
        f"""data_dir: {tmp_path / "data"}
monitors:
  - name: triage
    reference: {{path: {REFERENCE}}}
    features: {FEATURES}
    schedule: {{interval: 30s}}
{extra}"""
    )
    daemon = Daemon(cfg, seed=1)
    daemon.start(schedule=False)
    return daemon


def _scrape(daemon: Daemon, registry: CollectorRegistry, accept: str | None = None) -> str:
    body, _ = exposition(registry, FeatureLines(daemon), accept)
    return body.decode()


def _samples(daemon: Daemon, registry: CollectorRegistry) -> dict[str, list]:
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(_scrape(daemon, registry)):
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


def test_exported_names_match_the_documented_contract(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", demo.production_batch(400, 0.8, seed=1))
        daemon.check_now("triage")
        parsed = text_string_to_metric_families(_scrape(daemon, registry))
        families = {re.sub(r"_info$", "", f.name) for f in parsed}
        documented = set(re.findall(r"`(driftwatch_[a-z_]+)`", (ROOT / "docs" / "metrics.md").read_text()))
        documented = {re.sub(r"_(total|info)$", "", n) for n in documented}
        assert families - documented == set()
        # Documented but not exported yet: only the OOD ratio, wired when OOD scoring is configured.
        assert documented - families == {"driftwatch_ood_ratio"}
        om = _scrape(daemon, registry, "application/openmetrics-text; version=1.0.0")
        assert om.endswith("# EOF\n") and om.count("# EOF") == 1
        om_samples = {s.name for f in openmetrics_families(om) for s in f.samples}
        assert "driftwatch_feature_drifted" in om_samples and "driftwatch_dataset_drift" in om_samples
    finally:
        daemon.stop()


def test_latest_check_drives_feature_series(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", demo.production_batch(400, 0.9, seed=2))
        daemon.check_now("triage")
        s = _samples(daemon, registry)
        drifted = {x.labels["feature"] for x in s["driftwatch_feature_drifted"] if x.value == 1.0}
        assert {"patient_age", "temperature_c", "channel", "arrival_mode"} <= drifted
        (dataset,) = s["driftwatch_dataset_drift"]
        assert dataset.value == 1.0 and dataset.labels == {"monitor": "triage"}
        p_values = {x.labels["feature"]: x for x in s["driftwatch_feature_p_value"]}
        assert set(p_values) == {"pain_score"} and p_values["pain_score"].labels["method"] == "ks"
        scores = {x.labels["feature"]: x.labels["method"] for x in s["driftwatch_feature_drift_score"]}
        assert scores["patient_age"] == "wasserstein" and scores["channel"] == "jensenshannon"
        unseen = {x.labels["feature"]: x.value for x in s["driftwatch_feature_unseen_category_ratio"]}
        assert set(unseen) == {"channel", "arrival_mode"} and unseen["channel"] > 0
        (rows,) = s["driftwatch_rows_accepted_total"]
        assert rows.value == 400
        (window,) = s["driftwatch_window_rows"]
        assert window.value == 400
        (hist,) = s["driftwatch_check_duration_seconds_count"]
        assert hist.value == 1
    finally:
        daemon.stop()


def test_no_fake_zeros_without_enough_data(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    try:
        registry = create_registry(daemon)
        s = _samples(daemon, registry)
        assert "driftwatch_dataset_drift" not in s and "driftwatch_feature_drift_score" not in s
        daemon.ingest("triage", demo.production_batch(30, 0.9, seed=3))
        daemon.check_now("triage")  # 30 rows < min_rows: insufficient data
        s = _samples(daemon, registry)
        assert "driftwatch_dataset_drift" not in s
        assert "driftwatch_feature_drift_score" not in s and "driftwatch_feature_drifted" not in s
        outcomes = {x.labels["outcome"]: x.value for x in s["driftwatch_checks_total"]}
        assert outcomes == {
            "ok": 0.0,
            "drift": 0.0,
            "insufficient_data": 1.0,
            "skipped_insufficient_data": 0.0,
            "error": 0.0,
            "storage_error": 0.0,
            "unavailable": 0.0,
        }
        # Quality is exact over every row, so it is exported even without a test.
        assert len(s["driftwatch_feature_missing_ratio"]) == 6
    finally:
        daemon.stop()


def test_cardinality_is_bounded_and_series_go_away(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path, extra="    max_exported_features: 3\n")
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", demo.production_batch(400, 0.9, seed=4))
        daemon.check_now("triage")
        s = _samples(daemon, registry)
        assert len({x.labels["feature"] for x in s["driftwatch_feature_drifted"]}) == 3
        (omitted,) = s["driftwatch_features_omitted"]
        assert omitted.value == 3
        # The exported three are the most severe: all drifted.
        assert all(x.value == 1.0 for x in s["driftwatch_feature_drifted"])
    finally:
        daemon.stop()


def test_a_feature_that_stops_being_computed_loses_its_score(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path, extra="    window: {type: sliding, rows: 200}\n")
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", demo.production_batch(200, 0.0, seed=5))
        daemon.check_now("triage")
        assert "patient_age" in {
            x.labels["feature"] for x in _samples(daemon, registry)["driftwatch_feature_drift_score"]
        }
        # The next window lacks the column entirely: a finding (drifted), but no score series any more.
        daemon.ingest("triage", demo.production_batch(200, 0.0, seed=6).drop_columns(["patient_age"]))
        daemon.check_now("triage")
        s = _samples(daemon, registry)
        assert "patient_age" not in {x.labels["feature"] for x in s["driftwatch_feature_drift_score"]}
        age = [x for x in s["driftwatch_feature_drifted"] if x.labels["feature"] == "patient_age"]
        assert [(x.labels["method"], x.value) for x in age] == [("none", 1.0)]
    finally:
        daemon.stop()


def test_scrape_reads_state_only(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", pa.table({"patient_age": [30.0] * 150}))
        before = dict(daemon.monitors["triage"].checks_by_outcome)
        for _ in range(3):
            _scrape(daemon, registry)
        assert daemon.monitors["triage"].checks_by_outcome == before  # scraping never runs a check
        assert daemon.store.list_checks("triage") == []
    finally:
        daemon.stop()
