"""Each check's window sample, redacted, written beside its history, pruned with it and bounded in bytes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from driftwatch.config import OodSettings
from driftwatch.ood.redact import redact_table
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.storage.samples import SampleFiles, sample_path, write_sample
from driftwatch.types import TYPE_ERRORS_COLUMN

log = logging.getLogger("driftwatch.serve.daemon")


def sample_table(
    profile: ReferenceProfile, sample: pa.Table, ood: OodSettings, signals: Mapping[str, pa.Array]
) -> pa.Table:
    """What is kept of a check's sample: its features after `ood.redact`, and the text signals it computed.

    The signals (`<feature>.<signal>`: language, script, length...) are kept also for a dropped text feature, so
    that their distributions can be drawn again without its text; a capped signal is null past the rows it read.
    The salt is the monitor's name, as for exemplars: a hashed value is the same in both.
    """
    out = redact_table(sample, {f.name: f.kind for f in profile.features}, ood, profile.monitor)
    if TYPE_ERRORS_COLUMN in sample.column_names:  # indices of the features a row had unreadable: no value
        out = out.append_column(TYPE_ERRORS_COLUMN, sample.column(TYPE_ERRORS_COLUMN))
    for name, values in signals.items():
        if name in out.column_names or len(values) > out.num_rows:
            continue
        if len(values) < out.num_rows:
            values = pa.concat_arrays([values, pa.nulls(out.num_rows - len(values), values.type)])
        out = out.append_column(name, values)
    return out


class SampleKeeper:
    """Writes each check's sample under data_dir/samples; a failed write is logged and counted, never raised."""

    def __init__(self, data_dir: Path, max_bytes: int):
        self.data_dir = Path(data_dir)
        self.files = SampleFiles(self.data_dir, max_bytes)
        self.write_errors: dict[str, int] = {}
        self._failing: set[str] = set()
        self._lock = threading.Lock()

    def keep(
        self,
        profile: ReferenceProfile,
        ood: OodSettings,
        sample: pa.Table,
        signals: Mapping[str, pa.Array],
        started_at: float,
        trigger: str,
    ) -> Path | None:
        """Write the sample of the check of `profile.monitor` that started at `started_at`; None when it failed."""
        monitor = profile.monitor
        path = sample_path(self.data_dir, monitor, started_at, trigger)
        try:
            write_sample(path, sample_table(profile, sample, ood, signals))
            with self._lock:
                pruned = self.files.added(path)
        except Exception as exc:
            with self._lock:
                self.write_errors[monitor] = self.write_errors.get(monitor, 0) + 1
                first = monitor not in self._failing
                self._failing.add(monitor)
            if first:  # once per run of failures: a full disk fails every check until space returns
                problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
                log.error(
                    "window samples cannot be written: checks are stored without them",
                    extra={"monitor": monitor, "path": str(path.parent), "error": problem},
                )
            return None
        with self._lock:
            recovered = monitor in self._failing
            self._failing.discard(monitor)
        if recovered:
            log.info("window samples written again", extra={"monitor": monitor})
        if pruned:
            log.info("samples pruned to stay within storage.max_sample_bytes", extra={"samples": pruned})
        return path

    def prune(self, cutoff: float) -> int:
        """Retention: delete the samples of checks started before `cutoff`; re-read the disk first."""
        with self._lock:
            self.files.rescan()
            return self.files.prune_older_than(cutoff)
