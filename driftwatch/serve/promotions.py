"""Promotions in the daemon: promote in-process (for the API), and pick up the CLI's without a restart."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from driftwatch.config import Config
from driftwatch.errors import DataError
from driftwatch.reference import versions
from driftwatch.reference.promote import Selection, promote
from driftwatch.reference.versions import HistoryEntry
from driftwatch.serve.references import ReferenceReloadError, ReloadResult

log = logging.getLogger("driftwatch.serve.daemon")


class Promotions:
    """The Daemon's promotion half: `promote_reference` for the API, `watch_promotion` for the CLI's."""

    config: Config
    monitors: dict[str, Any]
    clock: Callable[[], float]
    draining: bool
    store: Any
    reload_reference: Callable[..., ReloadResult]

    def promote_reference(
        self, name: str, selection: Selection, *, reason: str, merge: bool
    ) -> tuple[HistoryEntry, ReloadResult]:
        """Promote the selected checks' samples to the monitor's new reference and judge with it from now on."""
        m = self.config.monitor(name)
        if self.draining:
            raise ReferenceReloadError(503, "shutting_down", "shutting down: references are not promoted", None)
        entry = promote(
            m,
            self.config.data_dir,
            self.store,
            selection,
            reason=reason,
            by="api",
            merge=merge,
            retention_days=self.config.retention_days,
            clock=self.clock,
        )
        log.info(
            "reference promoted",
            extra={"monitor": name, "version": entry.version, "previous": entry.previous, "rows": entry.rows},
        )
        return entry, self.reload_reference(name, "promotion")

    def watch_promotion(self, name: str) -> ReloadResult | None:
        """The promotion watch: reload when the version in use on disk (moved by the CLI) is not the loaded one.

        A promotion or restore is an operator's decision, so it is loaded whatever reference.auto_reload says; a
        version that fails to load is not retried until the pointer moves again.
        """
        live = self.monitors[name].live
        if live is None:
            return None
        failed: dict[str, str] = self.__dict__.setdefault("_promotion_failed", {})
        try:
            wanted = versions.active_source(live.config, self.config.data_dir)
        except DataError as exc:
            if failed.get(name) != str(exc):
                log.error("reference pointer unreadable: %s", exc, extra={"monitor": name})
                failed[name] = str(exc)
            return None
        if live.profile.source == wanted or failed.get(name) == wanted:
            return None
        try:
            return self.reload_reference(name, "promotion")
        except ReferenceReloadError:
            failed[name] = wanted  # logged, counted and reported by reload_reference
            return None
