"""Reference changes: watch each monitor's reference on disk, report a difference, rebuild it on request."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from driftwatch.config import Config, MonitorConfig
from driftwatch.errors import DataError, DriftwatchError
from driftwatch.live.monitor import LiveMonitor
from driftwatch.live.window import WindowSnapshot
from driftwatch.reference.profile import ReferenceProfile, ReferenceReadError, load_profile
from driftwatch.reference.watch import ReferenceProblem, inspect_reference
from driftwatch.serve.outage import reference_info
from driftwatch.storage.outbox import ReferenceInfo

log = logging.getLogger("driftwatch.serve.daemon")
RELOAD_OUTCOMES = ("reloaded", "unchanged", "failed")
WindowAction = Literal["closed", "empty", "kept", "unchanged"]


class ReferenceReloadError(DriftwatchError):
    """A reload that could not use the reference on disk; the monitor keeps `kept`, the version it had."""

    def __init__(self, status: int, reason: str, message: str, kept: str | None):
        self.status = status
        self.reason = reason
        self.kept = kept
        super().__init__(message)


@dataclass
class ReferenceWatch:
    """What the daemon knows of one monitor's reference on disk, for readiness, metrics and the API."""

    problem: ReferenceProblem | None = None
    reload_error: str | None = None  # the latest reload's failure, until a reload succeeds or the disk matches
    failed_version: str | None = None  # the version on disk that failed to load (auto_reload does not retry it)
    reloads: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RELOAD_OUTCOMES, 0))
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class WindowChange:
    """What a reload did to the open window: `closed` (its final check, `check`, used the old reference)."""

    type: str
    action: WindowAction
    rows: int
    start: float | None = None
    end: float | None = None
    check: Any = None  # the closed window's CheckRun, when this reload ran it


@dataclass(frozen=True)
class ReloadResult:
    """A reload that succeeded: `outcome` is reloaded, unchanged, or loaded (the monitor had none)."""

    monitor: str
    outcome: str
    old_version: str | None
    new_version: str
    rows: int
    features: int
    window: WindowChange


class ReferenceChanges:
    """The Daemon's reference half: the watch job, reloads (API and SIGHUP) and what readiness says of them."""

    config: Config
    monitors: dict[str, Any]  # MonitorState of driftwatch.serve.daemon, which imports this module
    clock: Callable[[], float]
    draining: bool
    reference_watch: dict[str, ReferenceWatch]
    _storage_lock: threading.RLock
    _unrecorded: dict[str, ReferenceInfo]
    # Methods of the Daemon and StorageOutages this half uses.
    _every: Callable[..., None]
    _load: Callable[[MonitorConfig], None]
    _run: Callable[[str, WindowSnapshot, str], Any]
    watch_promotion: Callable[[str], Any]
    sync_storage: Callable[..., None]

    def _watch_references(self) -> None:
        """Schedule the watch of each path reference and of each promoted version in use, every watch_interval."""
        for m in self.config.monitors:
            if m.reference.path is not None and m.reference.watch_interval is not None:
                self._every(self.watch_reference, m.reference.watch_interval, f"reference:{m.name}", [m.name])
            if m.reference.watch_interval is not None:  # a promotion or restore by the CLI (Promotions)
                self._every(self.watch_promotion, m.reference.watch_interval, f"promotion:{m.name}", [m.name])

    def watch_reference(self, name: str) -> ReferenceProblem | None:
        """The watch job: compare the reference on disk with the loaded one; with auto_reload, load a change."""
        live: LiveMonitor | None = self.monitors[name].live
        if live is None:
            return None  # not loaded: readiness says so already
        if self.watch_promotion(name) is not None:  # the version in use moved: loaded, nothing to report
            return None
        watch = self.reference_watch[name]
        with watch.lock:
            try:
                problem = inspect_reference(live.config, self.config.data_dir, live.profile)
            except Exception:
                log.exception("reference watch failed", extra={"monitor": name})
                return None
            self._note_reference(name, problem, live.profile.version)
        changed = problem is not None and problem.reason == "changed" and problem.version != watch.failed_version
        if changed and live.config.reference.auto_reload:
            with contextlib.suppress(ReferenceReloadError):  # logged, counted and reported by reload_reference
                self.reload_reference(name, "watch")
        return problem

    def _note_reference(self, name: str, problem: ReferenceProblem | None, loaded: str, *, quiet: bool = False) -> None:
        """Keep what the disk holds; log only a change of state, never every poll."""
        watch = self.reference_watch[name]
        before, watch.problem = watch.problem, problem
        if _key(before) == _key(problem):
            return
        if problem is None:
            watch.reload_error = watch.failed_version = None
            if not quiet:
                log.info("reference on disk matches the loaded one again", extra={"monitor": name, "version": loaded})
            return
        extra = {"monitor": name, "reason": problem.reason, "file": problem.path, "version": loaded}
        if problem.version is not None:
            extra["disk_version"] = problem.version
        log.warning("reference %s: checks keep the loaded one", problem.describe(loaded), extra=extra)

    def reference_problem(self, name: str) -> str | None:
        """How monitor `name`'s reference on disk differs from the loaded one, or why its reload failed; else None."""
        watch, live = self.reference_watch[name], self.monitors[name].live
        problem, failure = watch.problem, watch.reload_error
        if live is None or (problem is None and failure is None):
            return None
        parts = [] if problem is None else [problem.describe(live.profile.version)]
        if failure is not None and (problem is None or problem.reason == "changed"):  # else the problem says why
            parts.append(f"the last reload failed: {failure.removeprefix(f'monitor {name!r}: ')}")
        elif problem is not None and problem.reason == "changed":
            parts.append(f"reload with POST /v1/monitors/{name}/reference/reload or SIGHUP")
        return "; ".join(parts)

    def reference_reasons(self) -> list[str]:
        """Degraded reasons: references on disk that differ from, or cannot be compared with, the loaded ones."""
        problems = ((name, self.reference_problem(name)) for name in self.reference_watch)
        return [f"monitor '{name}' reference {problem}" for name, problem in problems if problem is not None]

    def degraded(self) -> list[str]:
        """Reasons the daemon works in part: storage (StorageOutages) and references that differ from disk."""
        return [*super().degraded(), *self.reference_reasons()]  # type: ignore[misc]  # StorageOutages, next in the MRO

    # ---- reloads ---------------------------------------------------------------------------------------

    def reload_references(self, trigger: str = "signal") -> None:
        """Reload every monitor's reference (SIGHUP); a failure is logged and reported, never raised."""
        log.info("reloading every reference", extra={"trigger": trigger, "monitors": len(self.monitors)})
        for name in list(self.monitors):
            try:
                self.reload_reference(name, trigger)
            except ReferenceReloadError:
                pass  # logged, counted and reported by reload_reference
            except Exception:
                log.exception("reference reload failed", extra={"monitor": name, "trigger": trigger})

    def reload_reference(self, name: str, trigger: str = "api") -> ReloadResult:
        """Rebuild a monitor's profile from disk and judge with it from now on; a failure keeps the loaded one."""
        m = self.config.monitor(name)
        if self.draining:
            raise ReferenceReloadError(503, "shutting_down", "shutting down: references are not reloaded", None)
        state, watch = self.monitors[name], self.reference_watch[name]
        if state.live is not None and state.live.restoring:  # swapping mid-replay would split the window's rows
            kept = state.live.profile.version
            raise ReferenceReloadError(503, "restoring", f"monitor '{name}' {state.live.restore_status()}", kept)
        with watch.lock:
            live: LiveMonitor | None = state.live
            old = None if live is None else live.profile
            try:
                profile = self._rebuild(m, old, announce=trigger != "promotion")
            except ReferenceReloadError as exc:
                watch.reloads["failed"] += 1
                watch.reload_error = str(exc)
                watch.failed_version = watch.problem.version if watch.problem is not None else None
                extra = {"monitor": name, "trigger": trigger, "reason": exc.reason, "version": exc.kept}
                log.error("reference reload failed: %s", exc, extra=extra)
                raise
            watch.reload_error = watch.failed_version = None
            self._note_reference(name, None, profile.version, quiet=True)
            if live is None or old is None:
                live = state.live
                assert live is not None
                watch.reloads["reloaded"] += 1
                return self._reloaded(name, "loaded", None, live.profile, _window(live, "kept"), trigger)
            if profile.version == old.version:
                watch.reloads["unchanged"] += 1
                return self._reloaded(name, "unchanged", old.version, old, _window(live, "unchanged"), trigger)
            with self._storage_lock:  # recorded before any check of it is stored
                self._unrecorded[name] = reference_info(profile)
            self.sync_storage(drain=False)
            closed = live.swap_profile(profile, self.clock())
            watch.reloads["reloaded"] += 1
        return self._reloaded(name, "reloaded", old.version, profile, self._after_swap(name, live, closed), trigger)

    def _rebuild(self, m: MonitorConfig, old: ReferenceProfile | None, *, announce: bool = True) -> ReferenceProfile:
        """The profile of the reference on disk, or ReferenceReloadError: 409 for missing or unreadable files,
        422 for data that does not fit the monitor. A monitor that had none is loaded as at start.

        Without `announce` (a promotion: the version in use moved on purpose) a change is not reported first."""
        kept = None if old is None else old.version
        problem = inspect_reference(m, self.config.data_dir, old)
        changed = problem is not None and problem.reason == "changed"
        if old is not None and (announce or not changed):
            self._note_reference(m.name, problem, old.version)
        if problem is not None and problem.reason != "changed":
            what = (
                problem.describe(kept) if kept is not None else f"{problem.path} is {problem.reason} ({problem.detail})"
            )
            raise ReferenceReloadError(409, problem.reason, f"monitor '{m.name}': reference {what}", kept)
        if old is None:
            self._load(m)
            state = self.monitors[m.name]
            if state.live is None:
                raise ReferenceReloadError(422, "invalid", f"monitor '{m.name}': {state.load_error}", None)
            return state.live.profile
        try:
            return load_profile(m, self.config.data_dir)
        except ReferenceReadError as exc:
            message = f"monitor '{m.name}': reference {exc}; version {kept} in use"
            raise ReferenceReloadError(409, "unreadable", message, kept) from None
        except DataError as exc:
            message = f"{exc} (not reloaded: version {kept} in use)"
            raise ReferenceReloadError(422, "invalid", message, kept) from None
        except OSError as exc:  # the profile cache under data_dir cannot be written
            message = f"monitor '{m.name}': cannot write its profile under data_dir: {exc.strerror or exc}"
            raise ReferenceReloadError(409, "unwritable", message, kept) from None

    def _after_swap(self, name: str, live: LiveMonitor, closed: WindowSnapshot | None) -> WindowChange:
        """Run the final check of the window the reload closed (and of any that closed before it)."""
        if closed is None:
            return _window(live, "kept" if live.settings.type == "sliding" else "empty")
        ours = None
        for snap in live.take_closed(self.clock()):
            try:
                run = self._run(name, snap, "window_close")
                live.finish_closed(snap)
            except Exception:
                log.exception("final check of the window closed by a reload failed", extra={"monitor": name})
                continue
            ours = run if snap is closed else ours
        return WindowChange(live.settings.type, "closed", closed.rows, closed.start, closed.end, ours)

    def _reloaded(
        self, name: str, outcome: str, old: str | None, profile: ReferenceProfile, window: WindowChange, trigger: str
    ) -> ReloadResult:
        extra = {"monitor": name, "trigger": trigger, "old_version": old, "version": profile.version}
        log.info(f"reference {outcome}", extra={**extra, "rows": profile.rows, "window": window.action})
        return ReloadResult(name, outcome, old, profile.version, profile.rows, len(profile.features), window)


def _window(live: LiveMonitor, action: WindowAction) -> WindowChange:
    return WindowChange(live.settings.type, action, live.window_rows()[0])


def _key(problem: ReferenceProblem | None) -> tuple[str, str, str | None] | None:
    return None if problem is None else (problem.reason, problem.path, problem.version)
