"""The shipped rules on the series the daemon really exports across window boundaries, in simulated time.

The daemon runs in this process with the example config's monitor (5-minute tumbling windows, a check every
30 s, min_rows 100; the text feature left out to keep checks fast) and an injected clock. 20 rows a second
arrive; the scheduled job runs 2 s after each half-minute, so the first check of every window sees 40 rows and
is skipped; every 15 s the metrics endpoint's body is taken as a scrape. promtool then evaluates the shipped
rules on those scrapes (a series missing from a scrape is marked stale, as Prometheus does).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from driftwatch import demo
from driftwatch.config import load_config
from driftwatch.serve.daemon import SKIPPED, Daemon
from driftwatch.serve.metrics import FeatureLines, create_registry, exposition

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "driftwatch.rules.yml"
EXAMPLE = ROOT / "config.example.yaml"
SCRAPE = 15
RATE = 20
CHECK_PHASE = 2  # seconds after each half-minute: 40 rows in a new window, fewer than min_rows
RUN = 21 * 60
DRIFT_FROM = 150  # mid-window
TARGET = {"job": "driftwatch", "instance": "driftwatch:8321"}
FIRING = 'ALERTS{alertname="DriftwatchDatasetDrift", alertstate="firing", monitor="triage"}'
FIRING_LABELS = (
    '{alertname="DriftwatchDatasetDrift", alertstate="firing", instance="driftwatch:8321", job="driftwatch",'
    ' monitor="triage", severity="critical"}'
)
OOD_FIRING = 'ALERTS{alertname="DriftwatchOODRateHigh", alertstate="firing", monitor="triage"}'
OOD_FIRING_LABELS = (
    '{alertname="DriftwatchOODRateHigh", alertstate="firing", instance="driftwatch:8321", job="driftwatch",'
    ' monitor="triage", severity="warning"}'
)
OOD_HELD = 390  # from before the boundary at 15 minutes to the end: across it and the one at 20
ALLOWED = "DriftwatchDatasetDrift|DriftwatchFeatureDrift|DriftwatchOODRateHigh"


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _key(name: str, labels: dict[str, str]) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted({**TARGET, **labels}.items()))
    return f"{name}{{{inner}}}"


def simulate(folder: Path, drift: float) -> tuple[dict[str, list[float | None]], Daemon]:
    """Scrapes (every 15 s, from t=0 to RUN) of a daemon fed clean rows, then `drift` from DRIFT_FROM."""
    config = load_config(EXAMPLE, environ={"DRIFTWATCH_DATA_DIR": str(folder)})
    monitor = config.monitors[0]
    monitor = monitor.model_copy(update={"features": {k: v for k, v in monitor.features.items() if k != "symptoms"}})
    config = config.model_copy(update={"monitors": [monitor]})
    assert (monitor.window.duration, monitor.schedule.interval, monitor.drift.min_rows) == (300, 30, 100)
    clock = Clock()
    daemon = Daemon(config, clock=clock, seed=3)
    daemon.start(schedule=False)
    registry = create_registry(daemon)
    features = FeatureLines(daemon)
    clean = demo.production_batch(RATE * DRIFT_FROM, 0.0, seed=21)
    drifted = demo.production_batch(RATE * (RUN - DRIFT_FROM), drift, seed=22)
    series: dict[str, list[float | None]] = defaultdict(lambda: [None] * (RUN // SCRAPE + 1))
    for second in range(RUN + 1):
        clock.t = float(second)
        if second % SCRAPE == 0:
            body, _ = exposition(registry, features, None)
            for family in text_string_to_metric_families(body.decode()):
                for sample in family.samples:
                    series[_key(sample.name, sample.labels)][second // SCRAPE] = sample.value
            series[_key("up", {})][second // SCRAPE] = 1.0
        if second % 30 == CHECK_PHASE:
            daemon.scheduled_check("triage")
        if second < RUN:
            rows = clean if second < DRIFT_FROM else drifted
            offset = second if second < DRIFT_FROM else second - DRIFT_FROM
            daemon.ingest("triage", rows.slice(offset * RATE, RATE))
    return series, daemon


def _values(samples: list[float | None]) -> str:
    out, present = [], False
    for v in samples:
        if v is None:
            out.append("stale" if present else "_")
            present = False
        else:
            out.append(repr(v))
            present = True
    return " ".join(out)


def _promtool(folder: Path, series: dict[str, list[float | None]], promql: list[dict]) -> None:
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": f"{SCRAPE}s",
        "tests": [
            {
                "interval": f"{SCRAPE}s",
                "input_series": [{"series": k, "values": _values(v)} for k, v in sorted(series.items())],
                "promql_expr_test": promql,
            }
        ],
    }
    path = folder / "boundaries.test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's prometheus package (or set PROMTOOL to the binary)")
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sustained_drift_fires_and_stays_firing_across_boundaries(tmp_path: Path) -> None:
    series, daemon = simulate(tmp_path, 0.3)
    try:
        skipped = daemon.monitors["triage"].checks_by_outcome.get(SKIPPED, 0)
        stored = daemon.store.list_checks("triage", limit=500)
    finally:
        daemon.stop()
    assert skipped == len(range(CHECK_PHASE, RUN + 1, 300))  # the first check of each window
    assert stored and min(c.rows for c in stored) >= 100  # no empty checks in the history
    verdict = series[_key("driftwatch_dataset_drift", {"monitor": "triage"})]
    first = next(i for i, v in enumerate(verdict) if v is not None)
    assert all(v is not None for v in verdict[first:]), "the verdict disappeared from a scrape"

    # W0 [0, 300) is half drifted; W1's first check is skipped, its second (at 332 s) sees drift at the latest.
    # A scrape, `for: 5m` and an evaluation later the alert fires; from then on it must stay firing through the
    # boundaries at 15 and 20 minutes.
    judged_by = 300 + 30 + CHECK_PHASE
    fired_by = -(-(judged_by + SCRAPE + 300 + SCRAPE) // SCRAPE) * SCRAPE
    held = RUN - fired_by
    promql = [
        {
            "expr": f"count_over_time({FIRING}[{held}s]) >= bool {held // SCRAPE}",
            "eval_time": f"{RUN}s",
            "exp_samples": [{"labels": FIRING_LABELS, "value": 1}],
        },
        {
            "expr": 'count(ALERTS{alertname="DriftwatchFeatureDrift", alertstate="firing"}) >= bool 4',
            "eval_time": f"{RUN}s",
            "exp_samples": [{"labels": "{}", "value": 1}],
        },
        {
            # The drifted rows are out of distribution too: the OOD rate's alert fires and holds across boundaries.
            "expr": f"count_over_time({OOD_FIRING}[{OOD_HELD}s]) >= bool {OOD_HELD // SCRAPE}",
            "eval_time": f"{RUN}s",
            "exp_samples": [{"labels": OOD_FIRING_LABELS, "value": 1}],
        },
        {
            # No other alert, pending or firing, at any evaluation of the run.
            "expr": f'count(count_over_time(ALERTS{{alertname!~"{ALLOWED}"}}[{RUN}s])) or vector(0)',
            "eval_time": f"{RUN}s",
            "exp_samples": [{"labels": "{}", "value": 0}],
        },
    ]
    _promtool(tmp_path, series, promql)


def test_clean_traffic_fires_nothing(tmp_path: Path) -> None:
    series, daemon = simulate(tmp_path, 0.0)
    daemon.stop()
    verdict = series[_key("driftwatch_dataset_drift", {"monitor": "triage"})]
    assert any(v == 0.0 for v in verdict) and not any(v == 1.0 for v in verdict)
    _promtool(
        tmp_path,
        series,
        [
            {
                # No alert, pending or firing, at any evaluation of the run.
                "expr": f"count(count_over_time(ALERTS[{RUN}s])) or vector(0)",
                "eval_time": f"{RUN}s",
                "exp_samples": [{"labels": "{}", "value": 0}],
            }
        ],
    )
