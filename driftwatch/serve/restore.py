"""Restarts: spools are replayed in a background thread while the HTTP server answers; open windows are checkpointed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from driftwatch.config import Config
from driftwatch.errors import MonitorRestoringError
from driftwatch.live.monitor import LiveMonitor
from driftwatch.logs import LogThrottle

log = logging.getLogger("driftwatch.serve.daemon")
CHECKPOINT_LOG_SECONDS = 300.0


class RestoreReason(str):
    """A readiness reason saying that a monitor is restoring (so /readyz can answer status "restoring")."""


class Restores:
    """The Daemon's restart half: replay spools now or in the background, gate intake meanwhile, checkpoint."""

    config: Config
    monitors: dict[str, Any]  # MonitorState of driftwatch.serve.daemon, which imports this module
    clock: Callable[[], float]
    scheduled: bool
    _storage_lock: threading.RLock
    _unmarked: list[tuple[str, str]]
    _every: Callable[..., None]

    def _init_restores(self) -> None:
        # Set by the server before start(): restores then wait for start_restores() and run in a thread.
        self.restore_in_background = False
        self._restore_lock = threading.Lock()
        self._restore_queue: list[tuple[str, LiveMonitor]] = []
        self._restorer: threading.Thread | None = None
        self._restores_started = False
        self._checkpoint_log = LogThrottle(log, CHECKPOINT_LOG_SECONDS)

    def _restore(self, name: str, live: LiveMonitor) -> None:
        """Restore a monitor's windows now, or queue it for the restore thread (ingestion is refused until then)."""
        if not self.restore_in_background:
            self._replay_monitor(name, live)
            return
        live.defer_restore()
        with self._restore_lock:
            self._restore_queue.append((name, live))
            if self._restores_started and self._restorer is None:
                self._spawn_restorer()

    def start_restores(self) -> None:
        """Start replaying the queued spools in a thread and schedule checkpoints; called once start() returned."""
        with self._restore_lock:
            self._restores_started = True
            if self._restore_queue and self._restorer is None:
                self._spawn_restorer()
        if self.scheduled:
            self._every(self.checkpoint_windows, self.config.checkpoint_interval, "checkpoints")

    def _spawn_restorer(self) -> None:
        self._restorer = threading.Thread(target=self._run_restores, name="driftwatch-restore", daemon=True)
        self._restorer.start()

    def _run_restores(self) -> None:
        while True:
            with self._restore_lock:
                if not self._restore_queue:
                    self._restorer = None
                    return
                name, live = self._restore_queue.pop(0)
            self._replay_monitor(name, live)

    def _replay_monitor(self, name: str, live: LiveMonitor) -> None:
        try:
            sources = live.restore(self.clock())
        except Exception:  # a bug, not the spool's content (replay survives any file): the monitor stays refusing
            log.exception("spool restore failed: the monitor refuses rows until restarted", extra={"monitor": name})
            return
        # Written by sync_storage, right away when the database answers, else once it does.
        with self._storage_lock:
            self._unmarked.extend((name, source) for source in sources)

    def _restored(self, name: str, live: LiveMonitor) -> LiveMonitor:
        """`live`, or MonitorRestoringError (503 with Retry-After) while its spool is being replayed."""
        if live.restoring:
            raise MonitorRestoringError(name, live.restore_status(), live.retry_after())
        return live

    def is_restoring(self, name: str) -> bool:
        """Whether monitor `name` is loaded and still replaying its spool (its file source waits meanwhile)."""
        live: LiveMonitor | None = self.monitors[name].live
        return live is not None and live.restoring

    def restore_reason(self, name: str, live: LiveMonitor) -> RestoreReason | None:
        """The readiness reason of a monitor still restoring, naming it and its progress; None once restored."""
        if not live.restoring:
            return None
        return RestoreReason(f"monitor '{name}' {live.restore_status()}")

    def checkpoint_windows(self) -> int:
        """The checkpoint job: write each restored monitor's open window; returns how many were written."""
        written = 0
        for name, state in list(self.monitors.items()):
            live: LiveMonitor | None = state.live
            if live is not None and not live.restoring:
                written += self.checkpoint_window(name, live)
        return written

    def checkpoint_window(self, name: str, live: LiveMonitor) -> bool:
        """Write one monitor's open window (also after a look spent some of its alpha); False if nothing changed."""
        try:
            return live.checkpoint(self.clock()) > 0
        except OSError as exc:  # e.g. data_dir full: the spool still holds every row, a restart replays more
            self._checkpoint_log.warning(
                name, "checkpoint not written: %s", exc.strerror or exc, extra={"monitor": name}
            )
            return False
