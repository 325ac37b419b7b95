"""Promoted reference versions of a monitor: where they are kept, which one is active, and their history.

Under `data_dir/references/<monitor>/`: each promoted version as `<version>/reference.parquet`, `history.jsonl`
(one line per promotion or restore) and `active.json` (the version in use; `config` or no file: the configured
reference). The configured reference stays in the config as the base; only the pointer moves.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from driftwatch.config import MonitorConfig
from driftwatch.errors import DataError

BASE = "config"  # the version name of the configured reference
FILE_NAME = "reference.parquet"
Action = Literal["promote", "restore"]


class VersionError(DataError):
    """A promotion or restore that was refused; `status` is its HTTP status, `reason` a short machine word."""

    def __init__(self, message: str, status: int = 422, reason: str = "invalid"):
        self.status = status
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class HistoryEntry:
    """One line of history.jsonl: a version promoted (with where its rows came from) or one made active again."""

    action: Action
    version: str
    created_at: float
    reason: str
    by: str  # cli or api
    previous: str  # the version active before
    rows: int | None = None
    merged: bool = False
    checks: list[int] = field(default_factory=list)
    since: float | None = None  # a promotion of a time range: [since, until)
    until: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def folder(data_dir: Path, monitor: str) -> Path:
    """Where a monitor's promoted versions, history and active pointer are kept."""
    return Path(data_dir) / "references" / monitor


def version_file(data_dir: Path, monitor: str, version: str) -> Path:
    """The Parquet file of one promoted version."""
    return folder(data_dir, monitor) / version / FILE_NAME


def version_of(path: Path) -> str:
    """The version a promoted file gets, the one checks record: the profile's version of a one-file reference."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    # As driftwatch.reference.profile.hash_files names a reference of this one file.
    return hashlib.sha256(FILE_NAME.encode() + b"\0" + digest.hexdigest().encode()).hexdigest()[:16]


def active_version(data_dir: Path, monitor: str) -> str:
    """The version in use: a promoted version's name, or `config` (the configured reference)."""
    path = folder(data_dir, monitor) / "active.json"
    try:
        doc = json.loads(path.read_text())
        version = doc["version"]
    except FileNotFoundError:
        return BASE
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{path}: cannot read the active reference version ({exc}); "
            f"`driftwatch reference restore --monitor {monitor} --version config` rewrites it"
        ) from None
    if not isinstance(version, str) or not version:
        raise DataError(f"{path}: 'version' must be a version name, got {version!r}")
    return version


def active_reference(monitor: MonitorConfig, data_dir: Path) -> MonitorConfig:
    """The monitor with its reference replaced by the promoted version in use, if any (else unchanged)."""
    version = active_version(data_dir, monitor.name)
    if version == BASE:
        return monitor
    return reading(monitor, version_file(data_dir, monitor.name, version))


def reading(monitor: MonitorConfig, path: Path) -> MonitorConfig:
    """The monitor with a promoted version's file as its reference (its watch settings kept)."""
    update = {"path": str(path), "query": None, "url": None, "format": "parquet"}
    return monitor.model_copy(update={"reference": monitor.reference.model_copy(update=update)})


def active_source(monitor: MonitorConfig, data_dir: Path) -> str:
    """The `source` a profile of the reference in use has: its path, or `SQL query`."""
    return active_reference(monitor, data_dir).reference.path or "SQL query"


def read_history(data_dir: Path, monitor: str) -> list[HistoryEntry]:
    """Every promotion and restore of a monitor, oldest first; a torn last line (a crash mid-write) is skipped."""
    path = folder(data_dir, monitor) / "history.jsonl"
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(HistoryEntry(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return entries


def promoted_versions(data_dir: Path, monitor: str) -> list[str]:
    """The promoted versions kept on disk, in the order they were first promoted."""
    seen = [e.version for e in read_history(data_dir, monitor) if e.action == "promote"]
    return [v for i, v in enumerate(seen) if v not in seen[:i] and version_file(data_dir, monitor, v).is_file()]


@contextlib.contextmanager
def locked(data_dir: Path, monitor: str) -> Iterator[Path]:
    """Hold the monitor's promotion lock: the CLI and a running daemon never write its history at once."""
    root = folder(data_dir, monitor)
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield root
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def activate(data_dir: Path, entry: HistoryEntry, monitor: str) -> None:
    """Append `entry` to the history, then point the monitor at its version (call under `locked`)."""
    root = folder(data_dir, monitor)
    with (root / "history.jsonl").open("a") as fh:
        fh.write(json.dumps(entry.to_dict(), sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp = root / f"active.json.tmp{os.getpid()}"
    tmp.write_text(json.dumps({"version": entry.version, "since": entry.created_at}))
    os.replace(tmp, root / "active.json")


def restore(data_dir: Path, monitor: str, version: str, *, reason: str, by: str, now: float) -> HistoryEntry:
    """Make an earlier version (or `config`, the configured reference) the active one again."""
    with locked(data_dir, monitor):
        previous = active_version(data_dir, monitor)
        if version != BASE and not version_file(data_dir, monitor, version).is_file():
            valid = ", ".join([BASE, *promoted_versions(data_dir, monitor)])
            raise VersionError(f"monitor '{monitor}' has no reference version '{version}' (valid: {valid})", 404)
        if version == previous:
            raise VersionError(f"monitor '{monitor}': reference version '{version}' is already the active one", 409)
        entry = HistoryEntry("restore", version, now, reason, by, previous)
        activate(data_dir, entry, monitor)
        return entry
