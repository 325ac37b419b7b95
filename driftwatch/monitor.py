"""The Python API for notebooks and CI scripts: load a configured monitor, check a batch against its reference."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from driftwatch.checks.engine import CheckResult, run_check
from driftwatch.config import Config, MonitorConfig, load_config
from driftwatch.errors import DriftwatchError
from driftwatch.reference.profile import ReferenceProfile, load_profile

__all__ = ["CheckResult", "Monitor", "MonitorChoiceError", "as_table", "load_monitor"]

Current = pa.Table | str | os.PathLike[str] | Any  # Any: a pandas DataFrame, typed loosely so pandas stays optional


class MonitorChoiceError(DriftwatchError, ValueError):
    """No monitor was named and the configuration holds more than one."""

    def __init__(self, source: str, valid: list[str]):
        self.valid = valid
        super().__init__(f"{source} defines {len(valid)} monitors; name one of: {', '.join(valid)}")


class Monitor:
    """One configured monitor: its reference profile (built or read from cache once) and its drift settings."""

    def __init__(self, config: MonitorConfig, data_dir: str | Path):
        self.config = config
        self.data_dir = Path(data_dir)

    @property
    def name(self) -> str:
        return self.config.name

    @cached_property
    def profile(self) -> ReferenceProfile:
        """The reference profile, from data_dir's cache when the reference and feature config are unchanged."""
        return load_profile(self.config, self.data_dir)

    def check(self, current: Current, *, on_feature: Callable[[str], None] | None = None) -> CheckResult:
        """Compare a batch (Arrow table, pandas DataFrame, or a file, folder or glob) with the reference."""
        table = as_table(current)
        return run_check(self.profile, table, self.config.drift, on_feature=on_feature, ood=self.config.ood)

    def __repr__(self) -> str:
        return f"Monitor({self.name!r}, data_dir={str(self.data_dir)!r})"


def as_table(current: Current) -> pa.Table:
    """An Arrow table from what `Monitor.check` accepts; a path is read as the CLI reads `--current`."""
    if isinstance(current, pa.Table):
        return current
    if isinstance(current, str | os.PathLike):
        from driftwatch.reference import readers

        return readers.read_path(current)
    if _is_dataframe(current):
        return pa.Table.from_pandas(current, preserve_index=False)
    raise TypeError(
        f"current data must be a pyarrow.Table, a pandas.DataFrame or a path (str or os.PathLike), "
        f"got {type(current).__module__}.{type(current).__qualname__}"
    )


def _is_dataframe(value: Any) -> bool:
    # Only a caller that already imported pandas can pass a DataFrame: never import it here.
    import sys

    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def load_monitor(config: str | os.PathLike[str] | Config, name: str | None = None) -> Monitor:
    """The monitor called `name` in a config file (or loaded Config); the name may be left out with one monitor."""
    cfg = config if isinstance(config, Config) else load_config(config)
    source = "the configuration" if isinstance(config, Config) else str(config)
    if name is None:
        if len(cfg.monitors) != 1:
            raise MonitorChoiceError(source, [m.name for m in cfg.monitors])
        return Monitor(cfg.monitors[0], cfg.data_dir)
    return Monitor(cfg.monitor(name), cfg.data_dir)
