"""Durable queue of check results the history database could not take, written to it in order when it returns.

One fsynced JSON file per check under `data_dir/outbox/`, named by a sequence number so that order survives
restarts. An entry is deleted only after its check is committed; the store skips a check it already holds
(same monitor, start time and trigger), so a crash between the commit and the delete stores nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from driftwatch.checks.engine import CheckResult, FeatureResult
from driftwatch.checks.results import FeatureQuality
from driftwatch.types import Kind, MultipleTesting, Status

log = logging.getLogger(__name__)
SUFFIX = ".json"


@dataclass(frozen=True)
class ReferenceInfo:
    """The reference version a queued check was computed against; recorded before the check."""

    monitor: str
    version: str
    source: str
    rows: int
    created_at: float


@dataclass(frozen=True)
class PendingCheck:
    """A computed check waiting to be stored, with what record_check needs."""

    seq: int
    result: CheckResult
    reference: ReferenceInfo
    window_start: float | None
    window_end: float | None
    trigger: str


class Outbox:
    """The queue folder; thread-safe, entries appended with increasing sequence numbers."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        for tmp in folder.glob("*.tmp"):  # a write interrupted before its rename never was an entry
            tmp.unlink(missing_ok=True)
        seqs = self._seqs()
        self._next = (seqs[-1] + 1) if seqs else 1
        self._count = len(seqs)

    def __len__(self) -> int:
        return self._count

    def append(
        self,
        result: CheckResult,
        reference: ReferenceInfo,
        *,
        window_start: float | None,
        window_end: float | None,
        trigger: str,
    ) -> int:
        """Queue a check durably (fsynced file and folder) and return its sequence number."""
        body = {
            "result": asdict(result),
            "reference": asdict(reference),
            "window_start": window_start,
            "window_end": window_end,
            "trigger": trigger,
        }
        data = json.dumps(body, separators=(",", ":")).encode()
        with self._lock:
            seq = self._next
            path = self.folder / f"{seq:012d}{SUFFIX}"
            tmp = path.with_suffix(".tmp")
            try:
                with tmp.open("wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                tmp.rename(path)
            except OSError:
                tmp.unlink(missing_ok=True)  # a half-written entry must not be read as a queued check
                raise
            _fsync_dir(self.folder)
            self._next += 1
            self._count += 1
        return seq

    def oldest(self) -> PendingCheck | None:
        """The first queued check, or None when the queue is empty; an unreadable entry is set aside."""
        while True:
            with self._lock:
                seqs = self._seqs()
            if not seqs:
                return None
            path = self._path(seqs[0])
            try:
                return _decode(seqs[0], json.loads(path.read_bytes()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                bad = path.with_suffix(".unreadable")
                path.rename(bad)
                with self._lock:
                    self._count -= 1
                log.error("unreadable queued check set aside", extra={"path": str(bad), "error": str(exc)})

    def remove(self, seq: int) -> None:
        """Delete an entry once its check is committed."""
        with self._lock:
            path = self._path(seq)
            if path.exists():
                path.unlink()
                self._count -= 1
                _fsync_dir(self.folder)

    def _path(self, seq: int) -> Path:
        return self.folder / f"{seq:012d}{SUFFIX}"

    def _seqs(self) -> list[int]:
        return sorted(int(p.stem) for p in self.folder.glob(f"*{SUFFIX}") if p.stem.isdigit())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _decode(seq: int, body: dict[str, Any]) -> PendingCheck:
    r = dict(body["result"])
    features = [
        FeatureResult(
            **{
                **f,
                "kind": Kind(f["kind"]),
                "status": Status(f["status"]),
                "quality": FeatureQuality(**f["quality"]),
            }
        )
        for f in r.pop("features")
    ]
    result = CheckResult(
        **{**r, "status": Status(r["status"]), "multiple_testing": MultipleTesting(r["multiple_testing"])},
        features=features,
    )
    return PendingCheck(
        seq=seq,
        result=result,
        reference=ReferenceInfo(**body["reference"]),
        window_start=body["window_start"],
        window_end=body["window_end"],
        trigger=body["trigger"],
    )
