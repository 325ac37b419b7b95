"""Retention: stored checks and their samples older than retention_days are deleted together."""

from __future__ import annotations

import logging
from typing import Any

from driftwatch.config import Config
from driftwatch.errors import DriftwatchError
from driftwatch.serve.samples import SampleKeeper
from driftwatch.storage import HistoryStore

log = logging.getLogger("driftwatch.serve.daemon")
# Where closed tumbling windows' samples were written, unredacted, before every check kept its own under
# samples/: nothing reads them any more; retention deletes them as they age out.
LEGACY_WINDOWS = "windows"


class Retention:
    """The Daemon's housekeeping half (driftwatch.serve.daemon imports this module)."""

    config: Config
    store: HistoryStore
    samples: SampleKeeper
    storage_errors: int
    clock: Any

    def housekeeping(self) -> None:
        """Delete stored checks and their samples older than retention_days (samples only once the checks are)."""
        cutoff = self.clock() - self.config.retention_days * 86400
        try:
            deleted = self.store.delete_older_than(cutoff)
        except DriftwatchError:
            self.storage_errors += 1
            log.exception("retention failed")
            return
        removed = self.samples.prune(cutoff) + _prune_legacy(self.config, cutoff)
        if deleted or removed:
            log.info("retention", extra={"deleted_checks": deleted, "deleted_samples": removed, "cutoff": cutoff})


def _prune_legacy(config: Config, cutoff: float) -> int:
    """Delete old-layout window samples (data_dir/windows/<monitor>/<start>.parquet) that started before `cutoff`."""
    removed = 0
    for f in (config.data_dir / LEGACY_WINDOWS).glob("*/*.parquet"):
        try:
            start = float(f.stem)
        except ValueError:
            continue
        if start < cutoff:
            f.unlink(missing_ok=True)
            removed += 1
    return removed
