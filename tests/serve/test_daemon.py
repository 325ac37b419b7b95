"""The daemon without HTTP: cron schedules, retention, window-close checks, with an injected clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch import demo
from driftwatch.config import parse_config
from driftwatch.errors import ConfigError
from driftwatch.serve.daemon import SKIPPED, Daemon
from driftwatch.serve.metrics import create_registry
from driftwatch.storage.samples import sample_info, sample_path

REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "triage" / "reference.csv"


def _config(tmp_path: Path, schedule: str, window: str = "{type: tumbling, duration: 10m}") -> str:
    return f"""data_dir: {tmp_path / "data"}
retention_days: 1
monitors:
  - name: triage
    reference: {{path: {REFERENCE}}}
    features: {{patient_age: numeric, channel: categorical}}
    window: {window}
    schedule: {schedule}
"""


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_cron_schedule_is_registered(tmp_path: Path) -> None:
    cfg = parse_config(_config(tmp_path, "{cron: '*/5 * * * *'}"))
    daemon = Daemon(cfg)
    daemon.start()
    try:
        job = daemon.scheduler.get_job("check:triage")
        assert job is not None and job.max_instances == 1 and job.coalesce is True
        assert job.next_run_time.minute % 5 == 0 and job.next_run_time.second == 0
        assert daemon.readiness() == []
    finally:
        daemon.stop()


def test_bad_cron_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_config(tmp_path, "{cron: 'every minute'}"))
    assert info.value.problems[0].startswith("monitors[0].schedule.cron: invalid crontab expression 'every minute'")


def test_window_close_check_then_retention(tmp_path: Path) -> None:
    t0 = 1_800_000_000.0  # a multiple of 600
    clock = Clock(t0 + 10)
    cfg = parse_config(_config(tmp_path, "{interval: 1h}"))
    daemon = Daemon(cfg, clock=clock, seed=1)
    daemon.start(schedule=False)
    try:
        live = daemon.live("triage")
        live.ingest(demo.production_batch(300, 0.0, seed=1), now=t0 + 10)
        clock.t = t0 + 700  # the first window has ended
        # take_closed/finish_closed run inside the scheduled job; drive it directly with the clock.
        daemon.scheduled_check("triage")
        # The new window is empty: its check is skipped, not stored.
        checks = daemon.store.list_checks("triage")
        assert [c.trigger for c in checks] == ["window_close"]
        closed = checks[0]
        assert (closed.window_start, closed.window_end, closed.rows) == (t0, t0 + 600, 300)
        sample = sample_path(tmp_path / "data", "triage", closed.started_at, "window_close")
        assert sample_info(tmp_path / "data", "triage", closed.started_at, "window_close").rows == 300
        # A sample of the old layout (closed windows, before each check kept its own) ages out as well.
        legacy = tmp_path / "data" / "windows" / "triage" / f"{int(closed.started_at) - 600}.parquet"
        legacy.parent.mkdir(parents=True)
        legacy.write_bytes(b"PAR1")
        marker = sample.with_name("1000-manual.pruned")  # of a sample pruned to stay within max_sample_bytes
        marker.touch()
        # A day on, retention keeps both; two days later it removes the stored checks with their samples.
        clock.t = closed.started_at + 3600
        daemon.housekeeping()
        assert sample.exists() and len(daemon.store.list_checks("triage")) == 1
        clock.t = closed.started_at + 2 * 86400
        daemon.housekeeping()
        assert daemon.store.list_checks("triage") == []
        assert not sample.exists() and not legacy.exists() and not marker.exists()
        assert daemon.samples.files.size_bytes == 0
    finally:
        daemon.stop()


def _exported(daemon: Daemon) -> dict[str, float | None]:
    registry = create_registry(daemon)
    m = {"monitor": "triage"}
    return {
        "drift": registry.get_sample_value("driftwatch_dataset_drift", m),
        "verdict_end": registry.get_sample_value("driftwatch_verdict_window_end_timestamp_seconds", m),
        "skipped": registry.get_sample_value("driftwatch_checks_total", {**m, "outcome": SKIPPED}),
        "insufficient": registry.get_sample_value("driftwatch_checks_total", {**m, "outcome": "insufficient_data"}),
    }


def test_verdict_stays_exported_until_the_new_window_has_enough_rows(tmp_path: Path) -> None:
    t0 = 1_800_000_000.0  # a multiple of 600
    clock = Clock(t0)
    daemon = Daemon(parse_config(_config(tmp_path, "{interval: 30s}")), clock=clock, seed=1)
    daemon.start(schedule=False)
    try:
        assert _exported(daemon) == {"drift": None, "verdict_end": None, "skipped": 0.0, "insufficient": 0.0}
        daemon.ingest("triage", demo.production_batch(40, 1.0, seed=1))
        clock.t = t0 + 30
        daemon.scheduled_check("triage")  # 40 rows < min_rows 100: skipped, nothing stored or exported
        assert daemon.store.list_checks("triage") == []
        assert _exported(daemon) == {"drift": None, "verdict_end": None, "skipped": 1.0, "insufficient": 0.0}

        daemon.ingest("triage", demo.production_batch(400, 1.0, seed=2))
        clock.t = t0 + 60
        daemon.scheduled_check("triage")
        assert _exported(daemon) == {"drift": 1.0, "verdict_end": t0 + 60, "skipped": 1.0, "insufficient": 0.0}

        # The window ends: its final check is the verdict for it; the new window's first check is skipped.
        clock.t = t0 + 605
        daemon.ingest("triage", demo.production_batch(30, 1.0, seed=3))
        daemon.scheduled_check("triage")
        assert [(c.trigger, c.rows) for c in daemon.store.list_checks("triage")] == [
            ("window_close", 440),
            ("schedule", 440),
        ]
        assert _exported(daemon) == {"drift": 1.0, "verdict_end": t0 + 600, "skipped": 2.0, "insufficient": 0.0}
        assert daemon.monitors["triage"].last_success_at == t0 + 605

        # A manual check with too few rows is stored and answered, but does not replace the exported verdict.
        manual = daemon.check_now("triage")
        assert manual.result.status.value == "insufficient_data"
        assert daemon.store.get_check(manual.id).rows == 30
        assert _exported(daemon) == {"drift": 1.0, "verdict_end": t0 + 600, "skipped": 2.0, "insufficient": 1.0}

        # The second window closes with 30 rows: stored as insufficient_data, and the older verdict withdrawn.
        clock.t = t0 + 1205
        daemon.scheduled_check("triage")
        closed = daemon.store.list_checks("triage", limit=1)[0]
        assert (closed.trigger, closed.status.value, closed.rows) == ("window_close", "insufficient_data", 30)
        assert _exported(daemon) == {"drift": None, "verdict_end": None, "skipped": 3.0, "insufficient": 2.0}
        assert daemon.monitors["triage"].checks_by_outcome == {SKIPPED: 3, "drift": 2, "insufficient_data": 2}
    finally:
        daemon.stop()
