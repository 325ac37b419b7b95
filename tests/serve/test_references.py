"""Reference changes in the daemon without HTTP: the watch, reloads and what readiness and metrics say."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pyarrow.csv as pa_csv
import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch import demo
from driftwatch.config import parse_config
from driftwatch.reference import readers
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.metrics import FeatureLines, create_registry, exposition
from driftwatch.serve.references import ReferenceReloadError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "triage" / "reference.csv"
T0 = 1_800_000_000.0  # a multiple of 600


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def ref(tmp_path: Path) -> Path:
    path = tmp_path / "ref.csv"
    shutil.copy(EXAMPLE, path)
    return path


def _daemon(tmp_path: Path, ref: Path, clock: Clock, reference_extra: str = "") -> Daemon:
    cfg = parse_config(f"""data_dir: {tmp_path / "data"}
monitors:
  - name: triage
    reference: {{path: {ref}{reference_extra}}}
    features: {{patient_age: numeric, channel: categorical}}
    window: {{type: tumbling, duration: 10m}}
""")
    daemon = Daemon(cfg, clock=clock, seed=1)
    daemon.start(schedule=False)
    return daemon


def _rewrite(ref: Path, rows: int = 4000, drop: str | None = None) -> None:
    table = readers.read_path(EXAMPLE).slice(0, rows)
    pa_csv.write_csv(table.drop_columns([drop]) if drop else table, ref)


def _series(daemon: Daemon) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = exposition(create_registry(daemon), FeatureLines(daemon), None)
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name.startswith("driftwatch_reference_"):
                out[(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "monitor")))] = s.value
    return out


def test_a_change_is_reported_once_and_checks_keep_the_loaded_version(
    tmp_path: Path, ref: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(T0 + 10)
    daemon = _daemon(tmp_path, ref, clock)
    try:
        live = daemon.live("triage")
        loaded = live.profile.version
        live.ingest(demo.production_batch(300, 0.0, seed=1), now=clock.t)
        assert daemon.watch_reference("triage") is None and daemon.degraded() == []
        assert _series(daemon)[("driftwatch_reference_stale", ())] == 0.0
        _rewrite(ref)
        with caplog.at_level(logging.INFO, logger="driftwatch.serve.daemon"):
            problems = [daemon.watch_reference("triage") for _ in range(3)]
        assert problems[0] == problems[1] == problems[2] and problems[0] is not None
        disk = problems[0].version
        assert disk is not None and disk != loaded
        assert daemon.degraded() == [
            f"monitor 'triage' reference {ref} changed on disk (content differs; version {disk}, {loaded} in use); "
            "reload with POST /v1/monitors/triage/reference/reload or SIGHUP"
        ]
        warnings = [r for r in caplog.records if "changed on disk" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING  # once per change, not per poll
        assert (warnings[0].file, warnings[0].reason, warnings[0].disk_version) == (str(ref), "changed", disk)
        series = _series(daemon)
        assert series[("driftwatch_reference_stale", ())] == 1.0
        assert series[("driftwatch_reference_problem", (("reason", "changed"),))] == 1.0
        assert series[("driftwatch_reference_problem", (("reason", "missing"),))] == 0.0
        assert daemon.check_now("triage").result.reference_version == loaded
        assert daemon.readiness() == []  # degraded, still ready
        shutil.copy(EXAMPLE, ref)  # put back: the loaded version again
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="driftwatch.serve.daemon"):
            assert daemon.watch_reference("triage") is None
        assert daemon.degraded() == [] and _series(daemon)[("driftwatch_reference_stale", ())] == 0.0
        assert [r.getMessage() for r in caplog.records] == ["reference on disk matches the loaded one again"]
    finally:
        daemon.stop()


def test_reload_closes_the_window_under_the_old_version_and_records_the_new(tmp_path: Path, ref: Path) -> None:
    clock = Clock(T0 + 10)
    daemon = _daemon(tmp_path, ref, clock)
    try:
        live = daemon.live("triage")
        old = live.profile.version
        live.ingest(demo.production_batch(300, 0.0, seed=1), now=clock.t)
        _rewrite(ref)
        daemon.watch_reference("triage")
        clock.t = T0 + 20
        result = daemon.reload_reference("triage")
        new = live.profile.version
        assert (result.outcome, result.old_version, result.new_version) == ("reloaded", old, new)
        assert (result.rows, result.features) == (4000, 2) and new != old
        w = result.window
        assert (w.type, w.action, w.rows, w.start, w.end) == ("tumbling", "closed", 300, T0, T0 + 20)
        assert w.check.trigger == "window_close" and w.check.id is not None
        assert w.check.result.reference_version == old
        assert daemon.degraded() == []
        live.ingest(demo.production_batch(200, 0.0, seed=2), now=T0 + 30)
        run = daemon.check_now("triage")
        assert (run.result.reference_version, run.window_start, run.result.rows) == (new, T0 + 20, 200)
        stored = [
            (c.trigger, c.reference_version, c.window_start, c.window_end) for c in daemon.store.list_checks("triage")
        ]
        assert stored == [("manual", new, T0 + 20, T0 + 600), ("window_close", old, T0, T0 + 20)]
        with sqlite3.connect(tmp_path / "data" / "driftwatch.db") as db:
            versions = {row[0]: row[1] for row in db.execute("select version, rows from reference_versions")}
        assert versions == {old: 5000, new: 4000}
        again = daemon.reload_reference("triage")
        assert (again.outcome, again.old_version, again.new_version) == ("unchanged", new, new)
        assert again.window.action == "unchanged"
        assert daemon.live("triage").snapshot(T0 + 40).start == T0 + 20  # a no-op leaves the window alone
        series = _series(daemon)
        reloads = {
            o: series[("driftwatch_reference_reloads_total", (("outcome", o),))] for o in ("reloaded", "unchanged")
        }
        assert reloads == {"reloaded": 1.0, "unchanged": 1.0}
    finally:
        daemon.stop()


def test_failed_reloads_keep_the_loaded_reference(tmp_path: Path, ref: Path) -> None:
    clock = Clock(T0 + 10)
    daemon = _daemon(tmp_path, ref, clock)
    try:
        live = daemon.live("triage")
        loaded = live.profile.version
        _rewrite(ref, drop="channel")
        with pytest.raises(ReferenceReloadError) as info:
            daemon.reload_reference("triage")
        assert (info.value.status, info.value.reason, info.value.kept) == (422, "invalid", loaded)
        assert str(info.value).startswith("monitor 'triage': feature 'channel' is not a column of the reference")
        assert str(info.value).endswith(f"(not reloaded: version {loaded} in use)")
        assert live.profile.version == loaded and daemon.check_now("triage").result.reference_version == loaded
        (reason,) = daemon.degraded()
        assert reason.startswith(f"monitor 'triage' reference {ref} changed on disk (content differs; version ")
        assert "; the last reload failed: feature 'channel' is not a column of the reference" in reason
        assert _series(daemon)[("driftwatch_reference_problem", (("reason", "reload_failed"),))] == 1.0
        ref.unlink()
        with pytest.raises(ReferenceReloadError) as info:
            daemon.reload_reference("triage")
        assert (info.value.status, info.value.reason) == (409, "missing")
        assert str(info.value) == (
            f"monitor 'triage': reference {ref} is missing (no such file or folder); version {loaded} in use"
        )
        assert daemon.degraded() == [
            f"monitor 'triage' reference {ref} is missing (no such file or folder); version {loaded} in use"
        ]
        assert daemon.live("triage") is live and live.profile.version == loaded
        shutil.copy(EXAMPLE, ref)
        daemon.watch_reference("triage")
        assert daemon.degraded() == []
        series = _series(daemon)
        assert series[("driftwatch_reference_problem", (("reason", "reload_failed"),))] == 0.0
        assert series[("driftwatch_reference_reloads_total", (("outcome", "failed"),))] == 2.0
    finally:
        daemon.stop()


def test_auto_reload_loads_a_change_and_does_not_retry_a_bad_one(tmp_path: Path, ref: Path) -> None:
    clock = Clock(T0 + 10)
    daemon = _daemon(tmp_path, ref, clock, ", auto_reload: true")
    try:
        live = daemon.live("triage")
        first = live.profile.version
        _rewrite(ref)
        problem = daemon.watch_reference("triage")
        assert problem is not None and live.profile.version == problem.version != first
        assert daemon.degraded() == []
        _rewrite(ref, drop="channel")
        for _ in range(3):
            daemon.watch_reference("triage")
        watch = daemon.reference_watch["triage"]
        assert watch.reloads == {"reloaded": 1, "unchanged": 0, "failed": 1}
        assert live.profile.version == problem.version
    finally:
        daemon.stop()


def test_a_monitor_whose_reference_failed_at_start_is_loaded_by_a_reload(tmp_path: Path) -> None:
    ref = tmp_path / "later.csv"
    daemon = _daemon(tmp_path, ref, Clock(T0))
    try:
        assert daemon.readiness() == [f"monitor 'triage' reference not loaded: {ref}: no such file or folder"]
        with pytest.raises(ReferenceReloadError) as info:
            daemon.reload_reference("triage")
        assert (info.value.status, info.value.reason, info.value.kept) == (409, "missing", None)
        shutil.copy(EXAMPLE, ref)
        result = daemon.reload_reference("triage")
        assert (result.outcome, result.old_version, result.rows) == ("loaded", None, 5000)
        assert daemon.readiness() == [] and daemon.degraded() == []
    finally:
        daemon.stop()
