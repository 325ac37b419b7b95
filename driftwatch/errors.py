"""Exceptions raised at driftwatch's boundaries, each with a message a user can act on."""

from __future__ import annotations


class DriftwatchError(Exception):
    """Base class for every error driftwatch raises on purpose."""


class ConfigError(DriftwatchError, ValueError):
    """The configuration file is unreadable or invalid; `problems` lists each as 'path: message'."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid configuration\n" + "\n".join(f"  {p}" for p in problems))


class DataError(DriftwatchError, ValueError):
    """Input data cannot be read or does not fit what the monitor expects."""


class UnknownMonitorError(DriftwatchError, KeyError):
    """A monitor name that the configuration does not define."""

    def __init__(self, name: str, valid: list[str]):
        self.name = name
        self.valid = valid
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown monitor '{self.name}' (valid: {', '.join(self.valid) or 'none configured'})"


class DiskFullError(DriftwatchError, OSError):
    """A write under data_dir failed (no space, over quota, read-only or not permitted); nothing was kept."""

    def __init__(self, path: str, cause: OSError):
        self.path = path
        self.reason = cause.strerror or type(cause).__name__
        super().__init__(
            cause.errno,
            f"cannot write under data_dir ({path}): {self.reason}; rows were not accepted, "
            "free space or fix permissions there and retry",
        )

    def __str__(self) -> str:
        return str(self.args[1])


class MonitorRestoringError(DriftwatchError, RuntimeError):
    """The monitor is replaying its spool after a restart: nothing of the request was kept; retry after a while."""

    def __init__(self, monitor: str, progress: str, retry_after: int):
        self.monitor = monitor
        self.progress = progress
        self.retry_after = retry_after
        super().__init__(f"monitor '{monitor}' is {progress}; retry in {retry_after} s")
