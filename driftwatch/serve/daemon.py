"""The long-running process: live monitors, scheduled checks, housekeeping and history, without HTTP."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from driftwatch.checks.engine import CheckResult, run_check
from driftwatch.config import Config, MonitorConfig
from driftwatch.errors import DriftwatchError, UnknownMonitorError
from driftwatch.ingest.cloudevents import REJECT_REASONS, EventJoiner
from driftwatch.ingest.filesource import ingest_new_files
from driftwatch.live.monitor import IngestOutcome, LiveMonitor
from driftwatch.live.window import WindowSnapshot
from driftwatch.logs import LogThrottle
from driftwatch.ood.score import ood_model
from driftwatch.reference.profile import load_profile
from driftwatch.serve.eventflush import EventFlusher
from driftwatch.serve.outage import STORAGE_PROBE_SECONDS, StorageOutages, reference_info
from driftwatch.serve.promotions import Promotions
from driftwatch.serve.references import ReferenceChanges, ReferenceWatch
from driftwatch.serve.restore import Restores
from driftwatch.serve.retention import Retention
from driftwatch.serve.samples import SampleKeeper
from driftwatch.storage import HistoryStore, StorageError, StorageUnavailableError, without_exemplars
from driftwatch.storage.outbox import Outbox, ReferenceInfo
from driftwatch.text.current import current_signals
from driftwatch.types import Status

log = logging.getLogger(__name__)
HOUSEKEEPING_SECONDS = 3600.0
EVENT_FLUSH_SECONDS = 0.05
# At most one log line per rejection reason per interval: a misconfigured logger may send thousands a second.
REJECT_LOG_SECONDS = 60.0
# Outcome of a scheduled check of an open window that has fewer than min_rows rows: neither stored nor judged.
SKIPPED = "skipped_insufficient_data"


@dataclass(frozen=True)
class CheckRun:
    """A finished check: its stored id (None while it waits in the outbox), result and the window it looked at."""

    id: int | None
    result: CheckResult
    window_start: float | None
    window_end: float | None
    trigger: str
    at: float | None = None

    @property
    def judged_until(self) -> float:
        """End of the rows the check judged: the window's end once it closed, else the time of the check."""
        at = self.result.started_at if self.at is None else self.at
        return at if self.window_end is None else min(self.window_end, at)


@dataclass
class MonitorState:
    """What metrics and the API read about a monitor without touching the database.

    `last` is the check being exported: the latest verdict (a check with enough rows to judge). A check of the
    open window with too few rows leaves it in place; a window that closes with too few rows replaces it.
    """

    live: LiveMonitor | None = None
    load_error: str | None = None
    last: CheckRun | None = None
    last_check_at: float | None = None
    last_success_at: float | None = None
    checks_by_outcome: dict[str, int] = field(default_factory=dict)
    interval_seconds: float | None = None
    check_lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        self.checks_by_outcome[outcome] = self.checks_by_outcome.get(outcome, 0) + 1


class Daemon(ReferenceChanges, Promotions, StorageOutages, Restores, Retention):
    """Owns every monitor's live state, the scheduler and the history store; the HTTP layer only adapts it."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time, seed: int | None = None):
        self.config = config
        self.clock = clock
        self.seed = seed
        self.store = HistoryStore(config.storage_url)
        self.monitors: dict[str, MonitorState] = {m.name: MonitorState() for m in config.monitors}
        self.reference_watch = {m.name: ReferenceWatch() for m in config.monitors}
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_listener(self._job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        ingest = config.ingest
        # KServe logs a request and its response as two events; joining them makes predictions columns.
        self.joiners = {m.name: EventJoiner(ingest.join_timeout, ingest.max_pending_events) for m in config.monitors}
        self._events_lock = threading.Lock()
        self.events = EventFlusher(self.joiners, ingest.max_pending_events, lambda m, t: self.ingest(m, t).accepted)
        self._events_stop = threading.Event()
        self._events_thread = threading.Thread(target=self._event_loop, name="driftwatch-events", daemon=True)
        # Refused CloudEvents by (monitor, reason); monitor "" when the event reached no monitor. From zero.
        routed = {r.monitor for r in ingest.cloudevents}
        self.events_rejected = {(m, r): 0 for m in ("", *sorted(routed)) for r in REJECT_REASONS}
        self._reject_log = LogThrottle(log, REJECT_LOG_SECONDS)
        self.draining = False
        self.started = False
        self.scheduled = False
        self.storage_errors = 0
        # Storage outages: checks wait in the outbox; references and file marks wait here, all written on recovery.
        self.outbox = Outbox(config.data_dir / "outbox", config.storage.outbox_max_bytes)
        # Every stored or queued check's sample, redacted, under data_dir/samples (storage/samples.py).
        self.samples = SampleKeeper(config.data_dir, config.storage.max_sample_bytes)
        self.storage_error: str | None = None
        self._schema_ready = False
        self._unrecorded: dict[str, ReferenceInfo] = {}
        self._unmarked: list[tuple[str, str]] = []
        self._storage_lock = threading.RLock()
        self._storage_retry_at = 0.0
        self._storage_backoff = STORAGE_PROBE_SECONDS
        self.job_errors = 0
        self._init_restores()
        # Set by driftwatch.serve.metrics to record check durations in its histogram.
        self.on_check_duration: Callable[[str, float], None] = lambda _monitor, _seconds: None

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self, *, schedule: bool = True) -> None:
        """Migrate storage, load every reference, restore spools, then start the schedules.

        An unreachable database does not stop the start: migrations, references and checks are written by the
        storage job once it answers, and meanwhile the daemon ingests and checks (degraded).
        """
        try:
            self.store.upgrade()
            self._schema_ready = True
        except StorageUnavailableError as exc:
            self._storage_failed(exc)
        for m in self.config.monitors:
            self._load(m)
        # Queued checks are stored by the storage job, so that a long queue does not hold up the start.
        self.sync_storage(force=True, drain=not schedule)
        self.scheduled = schedule
        if schedule:
            for m in self.config.monitors:
                self._schedule(m)
            self._events_thread.start()
            for m in self.config.monitors:
                if m.file_source is not None:
                    self._every(self.poll_files, m.file_source.poll_interval, f"files:{m.name}", [m.name], now=True)
            self._every(self.sync_storage, STORAGE_PROBE_SECONDS, "storage", now=True)
            self._every(self.housekeeping, HOUSEKEEPING_SECONDS, "housekeeping")
            self._watch_references()
            self.scheduler.start()
        self.started = True
        log.info("driftwatch started", extra={"monitors": len(self.monitors), "storage": str(self.store)})

    def _every(
        self,
        job: Callable[..., object],
        seconds: float,
        job_id: str,
        args: list[str] | None = None,
        *,
        now: bool = False,
    ) -> None:
        """Run `job` every `seconds`, one run at a time; runs missed while one was busy collapse into one."""
        self.scheduler.add_job(
            job,
            IntervalTrigger(seconds=seconds),
            args=args,
            id=job_id,
            max_instances=1,
            coalesce=True,
            **({"next_run_time": datetime.now(UTC)} if now else {}),
        )

    def _load(self, m: MonitorConfig) -> None:
        state = self.monitors[m.name]
        try:
            profile = load_profile(m, self.config.data_dir)
            live = LiveMonitor(m, profile, self.config.data_dir, self.config.ingest.durability, seed=self.seed)
            self._restore(m.name, live)  # now, or queued for the restore thread; it also queues file marks
            # Written by sync_storage, right away when the database answers, else once it does.
            with self._storage_lock:
                self._unrecorded[m.name] = reference_info(profile)
        except DriftwatchError as exc:
            state.load_error = str(exc)
            log.error("monitor cannot load its reference: %s", exc, extra={"monitor": m.name})
            return
        state.live = live
        state.load_error = None
        log.info(
            "reference loaded", extra={"monitor": m.name, "reference_version": profile.version, "rows": profile.rows}
        )
        for reason, why in (ood_model(profile, m.ood).disabled if m.ood.enabled else {}).items():
            log.warning("OOD reason %s disabled: %s", reason, why, extra={"monitor": m.name})

    def _schedule(self, m: MonitorConfig) -> None:
        state = self.monitors[m.name]
        if m.schedule.cron:
            trigger = CronTrigger.from_crontab(m.schedule.cron, timezone="UTC")
            grace = 60
            first = trigger.get_next_fire_time(None, datetime.now(UTC))
            second = trigger.get_next_fire_time(first, first) if first else None
            if first and second:
                state.interval_seconds = (second - first).total_seconds()
        else:
            trigger = IntervalTrigger(seconds=m.schedule.interval)
            grace = max(1, int(m.schedule.interval))
            state.interval_seconds = m.schedule.interval
        # One run per monitor at a time; runs missed while one was busy collapse into one.
        self.scheduler.add_job(
            self.scheduled_check,
            trigger,
            args=[m.name],
            id=f"check:{m.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=grace,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop intake, let running checks finish within `timeout`, flush spools, close storage."""
        self.draining = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._events_stop.set()
        if self._events_thread.is_alive():
            self._events_thread.join(timeout)
        # Requests still waiting for their response are ingested alone: their inputs still count.
        flushed = self.flush_events(expire_all=True)
        if flushed:
            log.info("ingested logged inferences at shutdown", extra={"rows": flushed})
        deadline = time.monotonic() + timeout
        unfinished = []
        for name, state in self.monitors.items():
            if state.check_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                state.check_lock.release()
            else:
                unfinished.append(name)
            if state.live is not None:
                state.live.close()
        self.store.close()
        log.info(
            "driftwatch stopped: spools flushed",
            extra={"monitors": len(self.monitors), "abandoned_checks": ",".join(unfinished)}
            if unfinished
            else {"monitors": len(self.monitors)},
        )

    # ---- ingestion -------------------------------------------------------------------------------------

    def live(self, name: str) -> LiveMonitor:
        """The live state of monitor `name`, or an error saying why it is unavailable."""
        state = self.monitors.get(name)
        if state is None:
            raise UnknownMonitorError(name, list(self.monitors))
        if state.live is None:
            raise MonitorUnavailableError(f"monitor '{name}' is not loaded: {state.load_error or 'starting'}")
        return self._restored(name, state.live)

    def ingest(self, name: str, table: pa.Table, rejected: int = 0, source: str | None = None) -> IngestOutcome:
        """Accept rows for a monitor (durable on return)."""
        return self.live(name).ingest(table, rejected, now=self.clock(), source=source)

    def ingest_event(self, name: str, event_id: str, kind: str, table: pa.Table) -> int:
        """One half of a logged inference; returns the rows joined and queued for the next event batch.

        Logged inferences arrive one request at a time; joined rows are ingested in batches by the event
        flusher (every EVENT_FLUSH_SECONDS), which costs a fraction of ingesting each row on its own.
        """
        self.live(name).spool.check_writable()  # refused now, rather than acknowledged and lost when spooled
        joined = self.joiners[name].add(event_id, kind, table)
        if joined is None:
            return 0
        self.events.add(name, joined)
        return joined.num_rows

    def reject_event(self, monitor: str | None, reason: str, message: str) -> None:
        """Count a refused CloudEvent and log why (rate-limited; the message names the problem, never the body)."""
        key = (monitor or "", reason)
        with self._events_lock:
            self.events_rejected[key] = self.events_rejected.get(key, 0) + 1
        self._reject_log.warning(
            f"{key[0]}/{reason}",
            "CloudEvent rejected: %s",
            message,
            extra={"monitor": monitor, "reason": reason} if monitor else {"reason": reason},
        )

    def flush_events(self, *, expire_all: bool = False) -> int:
        """Ingest joined rows, and requests whose response did not come in time, one batch per monitor."""
        return self.events.flush(
            lambda m: self.joiners[m].drain() if expire_all else self.joiners[m].expire(), final=expire_all
        )

    def _event_loop(self) -> None:
        while not self._events_stop.wait(EVENT_FLUSH_SECONDS):
            try:
                self.flush_events()
            except Exception:
                log.exception("event flush failed")

    def poll_files(self, name: str) -> int:
        """Ingest new files of a monitor's file source, each exactly once across restarts.

        Paused while the database is unreachable or files it ingested are not yet marked: which files were
        ingested is kept there, and polling without it would ingest them again.
        """
        m = self.config.monitor(name)
        assert m.file_source is not None
        if self.storage_error is not None or self.is_restoring(name) or any(n == name for n, _ in self._unmarked):
            return 0
        ingested: list[str] = []

        def ingest(table: pa.Table, source: str) -> int:
            accepted = self.ingest(name, table, source=source).accepted
            ingested.append(source)
            return accepted

        try:
            return ingest_new_files(
                self.store, m.name, m.file_source, self.clock(), ingest, self.live(name).counters.reject
            )
        except StorageError as exc:
            with self._storage_lock:
                # Rows of these files are spooled; sync_storage marks them (marking twice is harmless).
                self._unmarked.extend((name, source) for source in ingested)
            if isinstance(exc, StorageUnavailableError):
                self._storage_failed(exc)
            else:
                log.exception("file source poll failed", extra={"monitor": name})
            return 0
        except Exception:
            log.exception("file source poll failed", extra={"monitor": name})
            return 0

    # ---- checks ----------------------------------------------------------------------------------------

    def scheduled_check(self, name: str) -> None:
        """The scheduler's job: final checks of windows that closed, then a check of the open window."""
        state = self.monitors[name]
        if state.live is None or state.live.restoring:
            state.count("unavailable" if state.live is None else "restoring")
            return
        live = state.live
        # Failures are logged and counted (by _run); the scheduler keeps going.
        try:
            for snap in live.take_closed(self.clock()):
                self._run(name, snap, "window_close")
                live.finish_closed(snap)
            self._check_open(name, live.snapshot(self.clock()))
        except Exception:
            log.exception("scheduled check failed", extra={"monitor": name})

    def check_now(self, name: str, trigger: str = "manual") -> CheckRun:
        """Run a check of the open window right away (waits for a running one of the same monitor)."""
        live = self.live(name)
        return self._run(name, live.snapshot(self.clock()), trigger)

    def _check_open(self, name: str, snap: WindowSnapshot) -> None:
        """Check the open window on schedule; with fewer than min_rows rows, count a skip and keep the verdict."""
        state = self.monitors[name]
        assert state.live is not None
        min_rows = state.live.config.drift.min_rows
        if snap.sample.num_rows >= min_rows:
            self._run(name, snap, "schedule")
            return
        # A new window starts empty: storing or exporting its "no verdict" would hide the previous window's.
        with state.check_lock:
            state.last_check_at = state.last_success_at = self.clock()
            state.count(SKIPPED)
        log.debug(
            "check skipped: too few rows",
            extra={"monitor": name, "trigger": "schedule", "rows": snap.rows, "min_rows": min_rows},
        )

    def _run(self, name: str, snap: WindowSnapshot, trigger: str) -> CheckRun:
        state = self.monitors[name]
        live = state.live
        assert live is not None
        with state.check_lock:
            started = state.last_check_at = self.clock()
            try:
                drift = live.config.drift
                # Computed here, not in run_check, to be kept with the sample: a dropped text leaves its signals.
                signals = current_signals(snap.profile, snap.sample) if snap.profile.signals else {}
                result = run_check(
                    snap.profile,
                    snap.sample,
                    drift,
                    quality=snap.quality,
                    rows=snap.rows,
                    look_share=snap.look_share,
                    ood=live.config.ood,
                    rules=snap.rules,
                    signals=signals,
                )
            except Exception:
                state.count("error")
                raise
            result = result if live.config.ood.store_exemplars else without_exemplars(result)
            try:
                check_id = self._store_check(snap.profile, result, snap, trigger)
            except Exception:
                self.storage_errors += 1
                state.count("storage_error")
                raise
            self.on_check_duration(name, result.duration_seconds)
            run = CheckRun(check_id, result, snap.start, snap.end, trigger, started)
            current = state.last is not None and state.last.result.status == Status.OK
            # A manual check of an open window too small to judge leaves the current verdict exported; a window
            # that closed too small to judge means that verdict is about an older window: it is withdrawn.
            if result.status == Status.OK or snap.closed or not current:
                state.last = run
            state.last_success_at = started
            state.count("drift" if result.dataset_drift else result.status.value)
        # Also for a check queued in the outbox: its sample is named by monitor, start and trigger, not by id.
        self.samples.keep(snap.profile, live.config.ood, snap.sample, signals, result.started_at, trigger)
        if not snap.closed and snap.look_share > 0:
            self.checkpoint_window(name, live)  # what this look spent of the window's alpha survives a kill
        log.info(
            "check stored" if check_id is not None else "check queued: storage unreachable",
            extra={
                "monitor": name,
                "check": check_id,
                "trigger": trigger,
                "rows": result.rows,
                "status": result.status.value,
                "dataset_drift": result.dataset_drift,
                "drifted_features": result.drifted_features,
                "judged_features": result.judged_features,
                "duration_seconds": round(result.duration_seconds, 3),
            },
        )
        return run

    # ---- scheduler -------------------------------------------------------------------------------------

    def _job_event(self, event: JobExecutionEvent) -> None:
        self.job_errors += 1
        log.warning(
            "scheduler job %s", "missed" if event.code == EVENT_JOB_MISSED else "failed", extra={"job": event.job_id}
        )

    # ---- readiness -------------------------------------------------------------------------------------

    def readiness(self) -> list[str]:
        """Reasons the daemon is not ready (driftwatch_up 0, /readyz 503); empty when it is. See degraded()."""
        reasons = []
        if self.draining:
            reasons.append("shutting down")
        if not self.started:
            reasons.append("starting")
        elif self.scheduled and not self.scheduler.running:
            reasons.append("scheduler not running")
        for name, state in self.monitors.items():
            if state.live is None:
                reasons.append(f"monitor '{name}' reference not loaded: {state.load_error or 'starting'}")
            elif (disk := state.live.spool.probe()) is not None:
                reasons.append(f"monitor '{name}' cannot write its spool under data_dir: {disk}")
            if state.live is not None and (restoring := self.restore_reason(name, state.live)) is not None:
                reasons.append(restoring)
        return reasons


class MonitorUnavailableError(DriftwatchError, LookupError):
    """The monitor exists but its reference could not be loaded."""
