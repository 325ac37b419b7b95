"""The metrics collector: the documented contract, no fake zeros, bounded cardinality, series that go away."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from checks.samples import calibrated_check, threshold_check
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from driftwatch import demo
from driftwatch.checks.engine import run_check
from driftwatch.config import parse_config
from driftwatch.ood.reasons import ORDER
from driftwatch.reference.profile import load_profile
from driftwatch.serve.daemon import CheckRun, Daemon
from driftwatch.serve.metrics import FEATURE_FAMILIES, FeatureLines, _render_monitor, create_registry, exposition
from driftwatch.types import Status

ROOT = Path(__file__).resolve().parents[2]
TEXT_REASONS = ("unseen_language", "unseen_script")  # these monitors have no text feature: they do not run
RUN = tuple(r for r in ORDER if r not in TEXT_REASONS)
REFERENCE = ROOT / "examples" / "triage" / "reference.csv"
FEATURES = (
    "{patient_age: numeric, heart_rate: numeric, temperature_c: numeric, pain_score: {kind: numeric, method: ks},"
    " channel: categorical, arrival_mode: categorical}"
)


def _daemon(
    tmp_path: Path, extra: str = "", *, clock: Callable[[], float] = time.time, reference: Path = REFERENCE
) -> Daemon:
    cfg = parse_config(
        f"""data_dir: {tmp_path / "data"}
monitors:
  - name: triage
    reference: {{path: {reference}}}
    features: {FEATURES}
    schedule: {{interval: 30s}}
{extra}"""
    )
    daemon = Daemon(cfg, clock=clock, seed=1)
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
        doc = (ROOT / "docs" / "metrics.md").read_text()
        documented = set(re.findall(r"`((?:driftwatch|process|python)_[a-z_]+)`", doc))
        documented = {re.sub(r"_(total|info)$", "", n) for n in documented}
        assert families - documented == set()
        assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_gc_collections", "python"} <= families
        # Documented but not exported here: the HTTP series, which the daemon's middleware adds
        # (tests/daemon/test_http.py checks them), and the admission budget's gauge, which create_app adds
        # (tests/daemon/test_memory_bound.py reads it).
        http = {
            "driftwatch_http_requests",
            "driftwatch_http_request_duration_seconds",
            "driftwatch_ingest_inflight_bytes",
        }
        assert documented - families == http
        om = _scrape(daemon, registry, "application/openmetrics-text; version=1.0.0")
        assert om.endswith("# EOF\n") and om.count("# EOF") == 1
        om_samples = {s.name for f in openmetrics_families(om) for s in f.samples}
        assert "driftwatch_feature_drifted" in om_samples and "driftwatch_dataset_drift" in om_samples
    finally:
        daemon.stop()


def test_text_series_name_the_languages_that_arrived(tmp_path: Path) -> None:
    features = "{patient_age: numeric, channel: categorical, symptoms: text}"
    cfg = parse_config(
        f"data_dir: {tmp_path / 'data'}\nmonitors:\n  - name: triage\n    reference: {{path: {REFERENCE}}}\n"
        f"    features: {features}\n"
    )
    daemon = Daemon(cfg, seed=1)
    daemon.start(schedule=False)
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", demo.production_batch(600, 1.0, seed=5))
        daemon.check_now("triage")
        text = daemon.monitors["triage"].last.result.text["symptoms"]
        s = _samples(daemon, registry)
        shares = {x.labels["language"]: x.value for x in s["driftwatch_text_language_ratio"]}
        assert all(x.labels["feature"] == "symptoms" for x in s["driftwatch_text_language_ratio"])
        assert len(shares) <= 9 and sum(shares.values()) == pytest.approx(1.0)
        assert shares["en"] < 0.75 and {"es", "fr", "de"} <= set(shares)
        assert shares == {k: v for k, v in shares.items() if k == "other" or text.languages[k][1] == v}
        (switching,) = s["driftwatch_text_code_switching_ratio"]
        assert switching.value == text.code_switching[1] > 0
        (empty,) = s["driftwatch_text_empty_ratio"]
        assert empty.value == text.empty[1] > 0 and s["driftwatch_text_oov_ratio"][0].value > 0.1
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
        # Every p-value the verdict carries (a calibrated one for each test, or the p-value tests' own), adjusted.
        result = daemon.monitors["triage"].last.result
        expected = {
            f.name: f.adjusted_p_value if f.adjusted_p_value is not None else f.p_value
            for f in result.features
            if f.p_value is not None
        }
        assert {x.labels["feature"]: x.value for x in s.get("driftwatch_feature_p_value", [])} == expected
        assert "pain_score" in expected
        methods = {x.labels["feature"]: x.labels["method"] for x in s["driftwatch_feature_p_value"]}
        assert methods["pain_score"] == "ks"
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
            "restoring": 0.0,
        }
        # Quality is exact over every row, so it is exported even without a test.
        assert len(s["driftwatch_feature_missing_ratio"]) == 6
        statuses = {x.labels["feature"]: x.labels["status"] for x in s["driftwatch_feature_status"]}
        assert statuses == dict.fromkeys(statuses, "insufficient_data") and len(statuses) == 6
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
        # The OOD shares rank on their own: the three features with the most OOD rows.
        ood = daemon.monitors["triage"].last.result.ood
        top = sorted(ood.features.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        exported = {x.labels["feature"]: x.value for x in s["driftwatch_feature_ood_ratio"]}
        assert exported == {name: n / ood.rows for name, n in top}
        assert len(ood.features) == 6 and min(exported.values()) > 0
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
        # The next window lacks the column entirely: a finding (drifted), but no test series any more.
        daemon.ingest("triage", demo.production_batch(200, 0.0, seed=6).drop_columns(["patient_age"]))
        daemon.check_now("triage")
        s = _samples(daemon, registry)
        age = {name: [x for x in xs if x.labels.get("feature") == "patient_age"] for name, xs in s.items()}
        assert [x.labels["status"] for x in age["driftwatch_feature_status"]] == ["no_valid_values"]
        assert [(x.labels, x.value) for x in age["driftwatch_feature_drifted"]] == [
            ({"monitor": "triage", "feature": "patient_age", "method": "none"}, 1.0)
        ]
        assert [x.value for x in age["driftwatch_feature_missing_ratio"]] == [1.0]
        # The calibrated verdict on the missing share is a p-value too (Fisher's test against the reference's).
        assert [x.value for x in age["driftwatch_feature_p_value"]] == [0.0]
        exported = {name for name, xs in age.items() if xs}
        assert exported == {
            "driftwatch_feature_status",
            "driftwatch_feature_drifted",
            "driftwatch_feature_p_value",
            "driftwatch_feature_missing_ratio",
            "driftwatch_feature_type_error_ratio",
            "driftwatch_feature_ood_ratio",
        }
        # Every row lacks a value the reference always had: each is out of distribution (unexpected_missing).
        assert [x.value for x in age["driftwatch_feature_ood_ratio"]] == [1.0]
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


def _series(features: list, limit: int = 100) -> dict[str, list[str]]:
    chunks, _ = _render_monitor("m", features, limit)
    return {family: chunk.splitlines() for (family, _), chunk in zip(FEATURE_FAMILIES, chunks, strict=True)}


def test_what_each_status_exports(tmp_path: Path) -> None:
    """A missing column, an empty window and a test that ran, through the real engine and renderer."""
    cfg = parse_config(
        f"monitors:\n  - name: m\n    reference: {{path: {REFERENCE}}}\n    features: {FEATURES}\n"
        "    schedule: {interval: 30s}\n"
    )
    profile = load_profile(cfg.monitors[0], tmp_path)
    batch = demo.production_batch(300, 0.0, seed=7).drop_columns(["patient_age", "channel"])
    result = run_check(profile, batch, cfg.monitors[0].drift)
    by_name = {f.name: f for f in result.features}
    assert by_name["patient_age"].status == Status.MISSING_COLUMN
    lines = _series(result.features)
    assert (
        'driftwatch_feature_status{monitor="m",feature="patient_age",status="missing_column"} 1.0'
        in lines["driftwatch_feature_status"]
    )
    age = {family: [x for x in xs if 'feature="patient_age"' in x] for family, xs in lines.items()}
    assert age["driftwatch_feature_drifted"] == [
        'driftwatch_feature_drifted{monitor="m",feature="patient_age",method="none"} 1.0'
    ]
    assert age["driftwatch_feature_missing_ratio"] == [
        'driftwatch_feature_missing_ratio{monitor="m",feature="patient_age"} 1.0'
    ]
    assert age["driftwatch_feature_p_value"] == [
        'driftwatch_feature_p_value{monitor="m",feature="patient_age",method="none"} 0.0'
    ]
    for family in ("drift_score", "drift_threshold", "out_of_range_ratio"):
        assert age[f"driftwatch_feature_{family}"] == []
    channel = [x for x in lines["driftwatch_feature_unseen_category_ratio"] if 'feature="channel"' in x]
    assert channel == []
    ran = [x for x in lines["driftwatch_feature_drifted"] if 'feature="heart_rate"' in x]
    assert len(ran) == 1 and re.fullmatch(r'.*feature="heart_rate",method="wasserstein"\} [01]\.0', ran[0])
    # An empty window: every feature still has its status series, and no ratio over zero rows.
    empty = run_check(profile, batch.slice(0, 0), cfg.monitors[0].drift)
    lines = _series(empty.features)
    assert len(lines["driftwatch_feature_status"]) == 6
    statuses = {x.split('status="')[1].split('"')[0] for x in lines["driftwatch_feature_status"]}
    assert statuses == {"missing_column", "insufficient_data"}
    ratios = [family for family in lines if family.endswith("_ratio") and lines[family]]
    assert ratios == []


def test_what_a_calibrated_check_exports() -> None:
    """Built by hand: a p-value for every test that has one, distances included, and for a mostly-missing feature."""
    lines = _series(calibrated_check("m").features)
    assert lines["driftwatch_feature_p_value"] == [
        'driftwatch_feature_p_value{monitor="m",feature="m",method="none"} 1e-08',
        'driftwatch_feature_p_value{monitor="m",feature="a",method="wasserstein"} 0.0016',
        'driftwatch_feature_p_value{monitor="m",feature="b",method="chisquare"} 0.28',
        'driftwatch_feature_p_value{monitor="m",feature="p",method="jensenshannon"} 0.64',
    ]
    # Judged without a test, like a missing column: drifted with method="none", no score or threshold.
    assert lines["driftwatch_feature_drifted"] == [
        'driftwatch_feature_drifted{monitor="m",feature="c",method="none"} 1.0',
        'driftwatch_feature_drifted{monitor="m",feature="m",method="none"} 1.0',
        'driftwatch_feature_drifted{monitor="m",feature="a",method="wasserstein"} 1.0',
        'driftwatch_feature_drifted{monitor="m",feature="b",method="chisquare"} 0.0',
        'driftwatch_feature_drifted{monitor="m",feature="p",method="jensenshannon"} 0.0',
    ]
    assert [x.split("{")[1].split(",")[1] for x in lines["driftwatch_feature_drift_score"]] == [
        'feature="a"',
        'feature="b"',
        'feature="p"',
    ]
    mostly = {family: [x for x in xs if 'feature="m"' in x] for family, xs in lines.items()}
    assert mostly["driftwatch_feature_status"] == [
        'driftwatch_feature_status{monitor="m",feature="m",status="mostly_missing"} 1.0'
    ]
    assert mostly["driftwatch_feature_drift_score"] == mostly["driftwatch_feature_drift_threshold"] == []
    # A failed test exports its status and ratios only.
    failed = {family for family, xs in lines.items() if any('feature="x"' in x for x in xs)}
    assert failed == {
        "driftwatch_feature_status",
        "driftwatch_feature_missing_ratio",
        "driftwatch_feature_type_error_ratio",
        "driftwatch_feature_out_of_range_ratio",
    }


def test_what_a_threshold_check_exports() -> None:
    lines = _series(threshold_check("m").features)
    assert lines["driftwatch_feature_p_value"] == [
        'driftwatch_feature_p_value{monitor="m",feature="k",method="ks"} 0.01'
    ]
    assert (
        'driftwatch_feature_drift_threshold{monitor="m",feature="a",method="wasserstein"} 0.1'
        in (lines["driftwatch_feature_drift_threshold"])
    )


def test_the_level_comes_with_calibrated_verdicts(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path)
    try:
        registry = create_registry(daemon)
        daemon.monitors["triage"].last = CheckRun(None, calibrated_check("triage"), None, None, "manual")
        (level,) = _samples(daemon, registry)["driftwatch_check_level"]
        assert (level.labels, level.value) == ({"monitor": "triage"}, 0.025)
        daemon.monitors["triage"].last = CheckRun(None, threshold_check("triage"), None, None, "manual")
        s = _samples(daemon, registry)
        assert "driftwatch_check_level" not in s and s["driftwatch_dataset_drift"][0].value == 1.0
    finally:
        daemon.stop()


OOD_FAMILIES = ("driftwatch_ood_ratio", "driftwatch_ood_reason_ratio", "driftwatch_ood_reason_enabled")


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _ood(s: dict[str, list]) -> dict[str, dict[str, float]]:
    """The OOD series of monitor triage: the rate under "", the others keyed by reason or feature."""
    out: dict[str, dict[str, float]] = {}
    for name in (*OOD_FAMILIES, "driftwatch_feature_ood_ratio"):
        for x in s.get(name, []):
            assert x.labels["monitor"] == "triage"
            out.setdefault(name, {})[x.labels.get("reason", x.labels.get("feature", ""))] = x.value
    return out


def test_ood_series_follow_the_exported_verdict(tmp_path: Path) -> None:
    t0 = 1_800_000_000.0  # a multiple of 600
    clock = Clock(t0)
    daemon = _daemon(tmp_path, "    window: {type: tumbling, duration: 10m}\n", clock=clock)
    try:
        registry = create_registry(daemon)
        assert _ood(_samples(daemon, registry)) == {}  # no check yet: no OOD series, not zeros
        daemon.ingest("triage", demo.production_batch(400, 0.9, seed=11))
        clock.t = t0 + 30
        daemon.check_now("triage")
        ood = daemon.monitors["triage"].last.result.ood
        exported = _ood(_samples(daemon, registry))
        assert exported["driftwatch_ood_ratio"] == {"": ood.rate} and ood.rate > 0.5
        assert exported["driftwatch_ood_reason_ratio"] == {r: ood.by_reason[r] / ood.rows for r in RUN}
        assert exported["driftwatch_ood_reason_ratio"]["unexpected_missing"] > 0.3
        assert exported["driftwatch_ood_reason_enabled"] == {
            **dict.fromkeys(RUN, 1.0),
            **dict.fromkeys(TEXT_REASONS, 0.0),
        }
        assert exported["driftwatch_feature_ood_ratio"] == {f: n / ood.rows for f, n in ood.features.items()}
        assert len(exported["driftwatch_feature_ood_ratio"]) == 6
        samples = _samples(daemon, registry)
        rules = {n: [x.value for x in samples[n]] for n in ("driftwatch_ood_rules_ratio", "driftwatch_ood_rules_rows")}
        assert rules == {"driftwatch_ood_rules_ratio": [ood.rules.rate], "driftwatch_ood_rules_rows": [400.0]}
        assert ood.rules.rows == 400 and 0.3 < ood.rules.rate <= ood.rate  # novelty is the sample's alone

        # The window ends: its final check is the verdict; the new window's 30 rows are too few to replace it.
        clock.t = t0 + 605
        daemon.ingest("triage", demo.production_batch(30, 0.0, seed=12))
        daemon.scheduled_check("triage")
        final = daemon.monitors["triage"].last
        assert final.trigger == "window_close" and final.result.rows == 400
        kept = _ood(_samples(daemon, registry))
        assert kept["driftwatch_ood_ratio"] == {"": final.result.ood.rate}
        manual = daemon.check_now("triage")  # 30 rows: stored without a verdict, the exported one stays
        assert manual.result.status == Status.INSUFFICIENT_DATA and manual.result.ood.rows == 30
        assert _ood(_samples(daemon, registry)) == kept

        # That window closes with 30 rows: the verdict is withdrawn, and every OOD series with it.
        clock.t = t0 + 1205
        daemon.scheduled_check("triage")
        assert daemon.monitors["triage"].last.result.status == Status.INSUFFICIENT_DATA
        s = _samples(daemon, registry)
        assert _ood(s) == {} and "driftwatch_dataset_drift" not in s
        assert len(s["driftwatch_feature_missing_ratio"]) == 6  # the check's exact quality stays

        # Clean rows: a low rate, novelty's alone (the rules find nothing the reference never held).
        daemon.ingest("triage", demo.production_batch(400, 0.0, seed=13))
        clock.t = t0 + 1230
        daemon.check_now("triage")
        clean = _ood(_samples(daemon, registry))
        assert clean["driftwatch_ood_ratio"][""] < 0.05
        assert {r: v for r, v in clean["driftwatch_ood_reason_ratio"].items() if v > 0} == {
            "novel": clean["driftwatch_ood_ratio"][""]
        }
    finally:
        daemon.stop()


def test_a_reason_off_or_unavailable_is_exported_as_not_enabled(tmp_path: Path) -> None:
    # 100 reference rows cannot calibrate novelty at alpha 0.01; type errors are switched off.
    lines = REFERENCE.read_text().splitlines(keepends=True)
    reference = tmp_path / "reference.csv"
    reference.write_text("".join(lines[:101]))
    extra = "    window: {type: tumbling, duration: 10m}\n    ood: {reasons: {type_error: {enabled: false}}}\n"
    clock = Clock(1_800_000_000.0)
    daemon = _daemon(tmp_path, extra, clock=clock, reference=reference)
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", demo.production_batch(200, 0.9, seed=14))
        daemon.check_now("triage")
        assert "novel" in daemon.monitors["triage"].last.result.ood.disabled
        exported = _ood(_samples(daemon, registry))
        off = {"novel": 0.0, "type_error": 0.0, **dict.fromkeys(TEXT_REASONS, 0.0)}
        assert exported["driftwatch_ood_reason_enabled"] == {**dict.fromkeys(ORDER, 1.0), **off}
        assert set(exported["driftwatch_ood_reason_ratio"]) == set(ORDER) - set(off)  # no rate for what did not run
        assert exported["driftwatch_ood_ratio"][""] > 0.1

        # A reference large enough to calibrate: after the reload, the first check with it runs novelty.
        reference.write_text("".join(lines))
        clock.t += 60
        assert daemon.reload_reference("triage").outcome == "reloaded"
        before = _ood(_samples(daemon, registry))  # the final check of the closed window, on the old reference
        assert before["driftwatch_ood_reason_enabled"]["novel"] == 0.0
        daemon.ingest("triage", demo.production_batch(200, 0.9, seed=15))
        clock.t += 30
        daemon.check_now("triage")
        after = _ood(_samples(daemon, registry))
        off = {"type_error": 0.0, **dict.fromkeys(TEXT_REASONS, 0.0)}
        assert after["driftwatch_ood_reason_enabled"] == {**dict.fromkeys(ORDER, 1.0), **off}
        assert after["driftwatch_ood_reason_ratio"]["novel"] > 0
    finally:
        daemon.stop()


def test_no_ood_series_when_ood_is_disabled(tmp_path: Path) -> None:
    daemon = _daemon(tmp_path, "    ood: {enabled: false}\n")
    try:
        registry = create_registry(daemon)
        daemon.ingest("triage", demo.production_batch(400, 0.9, seed=16))
        daemon.check_now("triage")
        s = _samples(daemon, registry)
        assert daemon.monitors["triage"].last.result.ood is None
        assert _ood(s) == {}
        assert s["driftwatch_dataset_drift"][0].value == 1.0 and len(s["driftwatch_feature_status"]) == 6
        text = _scrape(daemon, registry)
        assert "driftwatch_ood_ratio{" not in text and "driftwatch_feature_ood_ratio{" not in text
    finally:
        daemon.stop()
