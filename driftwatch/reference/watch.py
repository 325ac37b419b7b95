"""Whether a monitor's reference files still hold the version its loaded profile was built from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from driftwatch.config import MonitorConfig
from driftwatch.errors import DataError
from driftwatch.reference import readers
from driftwatch.reference.profile import ReferenceProfile, ReferenceReadError, hash_files
from driftwatch.reference.versions import active_reference

Problem = Literal["changed", "missing", "unreadable"]
PROBLEMS: tuple[Problem, ...] = ("changed", "missing", "unreadable")


@dataclass(frozen=True)
class ReferenceProblem:
    """How the reference on disk differs from the loaded profile: `path` is the file concerned (or the pattern)."""

    reason: Problem
    path: str
    detail: str
    version: str | None = None  # the version on disk, when it could be read

    def describe(self, loaded: str | None) -> str:
        """The problem in a sentence that names the file and the version still in use (if any is)."""
        if self.reason == "changed":
            return f"{self.path} changed on disk ({self.detail}; version {self.version}, {loaded} in use)"
        in_use = "" if loaded is None else f"; version {loaded} in use"
        return f"{self.path} is {self.reason} ({self.detail}){in_use}"


def inspect_reference(
    monitor: MonitorConfig, data_dir: Path, profile: ReferenceProfile | None
) -> ReferenceProblem | None:
    """Compare a path reference on disk with `profile`, reading only files whose size or mtime changed.

    None when it holds the profile's version (any readable version when `profile` is None), or when the
    reference in use is a SQL query (not watched: only running the query would tell, and it may be expensive).
    """
    try:  # a promoted version in use is the one compared
        monitor = active_reference(monitor, data_dir)
    except DataError as exc:
        return ReferenceProblem("unreadable", "active.json", str(exc))
    pattern = monitor.reference.path
    if pattern is None:
        return None
    try:
        files = readers.resolve_files(pattern)
    except DataError as exc:
        return ReferenceProblem("missing", pattern, str(exc).removeprefix(f"{pattern}: "))
    for f in files:
        try:  # a file whose permissions changed keeps its size and mtime: its cached digest would hide it
            os.close(os.open(f, os.O_RDONLY))
        except OSError as exc:
            return ReferenceProblem("unreadable", str(f), exc.strerror or type(exc).__name__)
    try:
        version, digests = hash_files(files, data_dir / "profiles" / monitor.name)
    except ReferenceReadError as exc:
        return ReferenceProblem("unreadable", exc.path, exc.reason)
    if profile is None or version == profile.version:
        return None
    loaded = profile.file_digests
    changed = [f for f, digest in digests.items() if f in loaded and loaded[f] != digest]
    added = [f for f in digests if f not in loaded]
    removed = [f for f in loaded if f not in digests]
    concerned = changed + added + removed
    if len(concerned) == 1 and changed:
        return ReferenceProblem("changed", changed[0], "content differs", version)
    listed = (("changed", changed), ("new", added), ("removed", removed))
    detail = "; ".join(f"{what}: {', '.join(Path(f).name for f in names)}" for what, names in listed if names)
    path = concerned[0] if len(concerned) == 1 else pattern
    return ReferenceProblem("changed", path, detail or "content differs", version)
