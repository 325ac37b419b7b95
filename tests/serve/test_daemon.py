"""The daemon without HTTP: cron schedules, retention, window-close checks, with an injected clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch import demo
from driftwatch.config import parse_config
from driftwatch.errors import ConfigError
from driftwatch.serve.daemon import Daemon

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
        checks = daemon.store.list_checks("triage")
        assert [c.trigger for c in checks] == ["schedule", "window_close"]
        assert checks[0].window_start == t0 + 600 and checks[0].rows == 0
        closed = checks[1]
        assert (closed.window_start, closed.window_end, closed.rows) == (t0, t0 + 600, 300)
        sample = tmp_path / "data" / "windows" / "triage" / f"{int(t0)}.parquet"
        assert sample.exists()
        # Two days later, retention removes both the stored checks and the window sample.
        clock.t = t0 + 2 * 86400 + 1e6
        daemon.housekeeping()
        assert daemon.store.list_checks("triage", since=None, until=t0 + 86400) == []
        assert not sample.exists()
    finally:
        daemon.stop()
