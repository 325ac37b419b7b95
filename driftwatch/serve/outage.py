"""Storage outages: checks the database cannot take are queued in the outbox and written, in order, when it returns."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from driftwatch.checks.engine import CheckResult
from driftwatch.ingest.filesource import mark_restored_file
from driftwatch.live.window import WindowSnapshot
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.storage import HistoryStore, StorageError, StorageUnavailableError
from driftwatch.storage.outbox import Outbox, PendingCheck, ReferenceInfo

log = logging.getLogger("driftwatch.serve.daemon")
# How often the database is probed, and queued work retried; retries back off up to the maximum while it is down.
STORAGE_PROBE_SECONDS = 2.0
STORAGE_RETRY_MAX_SECONDS = 15.0


class StorageOutages:
    """The Daemon's storage half: store a check or queue it, probe the database, write what waited for it."""

    store: HistoryStore
    monitors: dict[str, Any]  # MonitorState of driftwatch.serve.daemon, which imports this module
    outbox: Outbox
    storage_errors: int
    storage_error: str | None
    _schema_ready: bool
    _unrecorded: dict[str, ReferenceInfo]
    _unmarked: list[tuple[str, str]]
    _storage_lock: threading.RLock
    _storage_retry_at: float
    _storage_backoff: float

    def _store_check(
        self, profile: ReferenceProfile, result: CheckResult, snap: WindowSnapshot, trigger: str
    ) -> int | None:
        """Store a check, or queue it durably (returning None) while the database is down or older ones wait."""
        where = dict(window_start=snap.start, window_end=snap.end, trigger=trigger)
        with self._storage_lock:
            if self.storage_error is None and self._schema_ready and not self.outbox and not self._unrecorded:
                try:
                    return self.store.record_check(result, **where)
                except StorageUnavailableError as exc:
                    self._storage_failed(exc)
            try:
                self.outbox.append(result, reference_info(profile), **where)
            except OSError as exc:  # e.g. data_dir full too: the check ran, but can be neither stored nor queued
                raise StorageError(
                    self.store.url, f"the check could not be queued under {self.outbox.folder}: {exc.strerror or exc}"
                ) from None
        return None

    def _storage_failed(self, exc: StorageError) -> None:
        """Note that the database is unreachable (logged once per outage) and back off the next retry."""
        self.storage_errors += 1
        now = time.monotonic()
        if self.storage_error is None:
            log.error("storage unreachable: checks are queued until it returns", extra={"error": exc.problem})
            self._storage_backoff = STORAGE_PROBE_SECONDS
        else:
            self._storage_backoff = min(self._storage_backoff * 2, STORAGE_RETRY_MAX_SECONDS)
        self.storage_error = exc.problem
        self._storage_retry_at = now + self._storage_backoff

    def sync_storage(self, *, force: bool = False, drain: bool = True) -> None:
        """The storage job: probe the database; once it answers, write what waited for it, oldest check first."""
        if self.storage_error is not None and not force and time.monotonic() < self._storage_retry_at:
            return
        try:
            if not self._schema_ready:
                self.store.upgrade()
                self._schema_ready = True
            with self._storage_lock:
                for name, info in list(self._unrecorded.items()):
                    self.store.record_reference(info)
                    del self._unrecorded[name]
                while self._unmarked:
                    mark_restored_file(self.store, *self._unmarked[0])
                    self._unmarked.pop(0)
            stored = self._drain_outbox() if drain else 0
            problem = self.store.probe()
        except StorageError as exc:
            self._storage_failed(exc)
            return
        if problem is not None:
            self._storage_failed(StorageUnavailableError(self.store.url, problem))
            return
        if self.storage_error is not None or stored:
            log.info("storage reachable: queued checks stored", extra={"checks": stored})
        self.storage_error = None

    def _drain_outbox(self) -> int:
        """Store queued checks in order; each is deleted only after its commit, and replaying one is harmless."""
        stored = 0
        while True:
            with self._storage_lock:
                pending = self.outbox.oldest()
                if pending is None:
                    return stored
                self.store.record_reference(pending.reference)
                check_id = self.store.record_check(
                    pending.result,
                    window_start=pending.window_start,
                    window_end=pending.window_end,
                    trigger=pending.trigger,
                    skip_existing=True,
                )
                self.outbox.remove(pending.seq)
            stored += 1
            self._stored_late(pending, check_id)

    def _stored_late(self, pending: PendingCheck, check_id: int) -> None:
        """Give the exported check its id once its queued copy is stored (skipped while a check runs)."""
        state = self.monitors.get(pending.result.monitor)
        if state is None or not state.check_lock.acquire(blocking=False):
            return
        try:
            run = state.last
            if run is not None and run.id is None and run.result.started_at == pending.result.started_at:
                state.last = replace(run, id=check_id)
        finally:
            state.check_lock.release()

    def degraded(self) -> list[str]:
        """Reasons the daemon works in part: it still ingests and checks, but cannot store the results yet."""
        waiting = len(self.outbox)
        reasons = []
        if self.storage_error is not None:
            reasons.append(
                f"storage unreachable: {self.store.url}: {self.storage_error} ({waiting} checks waiting to be stored)"
            )
        elif waiting:
            reasons.append(f"storing queued checks: {waiting} waiting")
        if self.outbox.dropped_since_empty:
            reasons.append(
                f"outbox full: {self.outbox.dropped_since_empty} queued checks dropped to stay within"
                f" storage.outbox_max_bytes ({self.outbox.max_bytes}), open windows' scheduled checks first"
            )
        return reasons


def reference_info(profile: ReferenceProfile) -> ReferenceInfo:
    """What the outbox keeps of a profile, to record its reference before its queued checks."""
    return ReferenceInfo(profile.monitor, profile.version, profile.source, int(profile.rows), profile.created_at)
