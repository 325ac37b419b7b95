"""Durable queue of check results the history database could not take, written to it in order when it returns.

One fsynced JSON file per check under `data_dir/outbox/`, named by a sequence number (so that order survives
restarts) and its trigger. An entry is deleted only after its check is committed; the store skips a check it already
holds (same monitor, start time and trigger), so a crash between the commit and the delete stores nothing twice.

The queue holds at most `max_bytes`: a check that does not fit makes room by dropping queued checks that matter less,
the oldest first: scheduled checks of an open window, then manual ones, and a window's final check only for a newer
final check. A check that would need a more important one dropped is dropped itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from driftwatch.checks.explain import from_dict as explanation_from_dict
from driftwatch.checks.results import CheckResult, FeatureQuality, FeatureResult
from driftwatch.ood.results import Exemplar, OodResult, RuleCounts
from driftwatch.storage.records import PRE_DECISION_RULE, pre_decision_feature_rule
from driftwatch.text.summary import TextSummary
from driftwatch.types import Kind, MultipleTesting, Status

log = logging.getLogger(__name__)
SUFFIX = ".json"
# What is dropped first when the queue is full: lower ranks, then older entries. A closed window's final check is
# the only record of that window; an open window's checks are superseded by the next one and by its final check.
DROP_RANK = {"schedule": 0, "cli": 1, "manual": 1, "window_close": 2}
_NAME = re.compile(r"^(\d{12})(?:-([a-z_]+))?$")


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


@dataclass(frozen=True)
class _Entry:
    path: Path
    size: int
    trigger: str


class Outbox:
    """The queue folder; thread-safe, entries appended with increasing sequence numbers, at most `max_bytes` in all."""

    def __init__(self, folder: Path, max_bytes: int | None = None) -> None:
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.folder = folder
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        for tmp in folder.glob("*.tmp"):  # a write interrupted before its rename never was an entry
            tmp.unlink(missing_ok=True)
        self._entries: dict[int, _Entry] = dict(sorted(self._scan().items()))
        self._next = (max(self._entries) + 1) if self._entries else 1
        # Checks dropped to keep max_bytes, by trigger: all of this process's, and those since the queue was empty.
        self.dropped: Counter[str] = Counter()
        self.dropped_since_empty = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Bytes of the queued entries."""
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def append(
        self,
        result: CheckResult,
        reference: ReferenceInfo,
        *,
        window_start: float | None,
        window_end: float | None,
        trigger: str,
    ) -> int | None:
        """Queue a check durably (fsynced file and folder) and return its sequence number; None when it was dropped."""
        encoded = asdict(result)
        for f, feature in zip(encoded["features"], result.features, strict=True):
            # in its stored form, which from_dict reads back (asdict would give the dataclass fields instead)
            f["explanation"] = feature.explanation.to_dict() if feature.explanation is not None else None
        body = {
            "result": encoded,
            "reference": asdict(reference),
            "window_start": window_start,
            "window_end": window_end,
            "trigger": trigger,
        }
        # default=str: an exemplar's (already redacted) values may hold dates, stored as text like the database does.
        data = json.dumps(body, separators=(",", ":"), default=str).encode()
        with self._lock:
            if not self._make_room(len(data), trigger, result.monitor):
                return None
            seq = self._next
            path = self.folder / f"{seq:012d}-{trigger}{SUFFIX}"
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
            self._entries[seq] = _Entry(path, len(data), trigger)
        return seq

    def _make_room(self, size: int, trigger: str, monitor: str) -> bool:
        """Drop queued checks that matter less than a new one of `trigger` until it fits; False: drop the new one."""
        if self.max_bytes is None:
            return True
        used = sum(e.size for e in self._entries.values())
        rank = DROP_RANK.get(trigger, 1)
        while used + size > self.max_bytes:
            victims = [(DROP_RANK.get(e.trigger, 1), seq) for seq, e in self._entries.items()]
            victim = min(victims, default=None)
            if victim is None or victim[0] > rank:
                self._count_drop(trigger, monitor, "the new check: queued ones matter more or it is larger than all")
                return False
            entry = self._entries.pop(victim[1])
            entry.path.unlink(missing_ok=True)
            used -= entry.size
            self._count_drop(entry.trigger, None, f"an older queued check, to queue a '{trigger}' check")
        return True

    def _count_drop(self, trigger: str, monitor: str | None, which: str) -> None:
        self.dropped[trigger] += 1
        self.dropped_since_empty += 1
        log.warning(
            "outbox full (storage.outbox_max_bytes %s): dropped %s",
            self.max_bytes,
            which,
            extra={"trigger": trigger, **({"monitor": monitor} if monitor else {}), "queued": len(self._entries)},
        )

    def oldest(self) -> PendingCheck | None:
        """The first queued check, or None when the queue is empty; an unreadable entry is set aside."""
        while True:
            with self._lock:
                if not self._entries:
                    self.dropped_since_empty = 0
                    return None
                seq, entry = next(iter(self._entries.items()))
            try:
                return _decode(seq, json.loads(entry.path.read_bytes()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                bad = entry.path.with_suffix(".unreadable")
                with contextlib.suppress(OSError):
                    entry.path.rename(bad)
                with self._lock:
                    self._entries.pop(seq, None)
                log.error("unreadable queued check set aside", extra={"path": str(bad), "error": str(exc)})

    def remove(self, seq: int) -> None:
        """Delete an entry once its check is committed."""
        with self._lock:
            entry = self._entries.pop(seq, None)
            if entry is not None:
                entry.path.unlink(missing_ok=True)
                _fsync_dir(self.folder)

    def _scan(self) -> dict[int, _Entry]:
        entries = {}
        for path in self.folder.glob(f"*{SUFFIX}"):
            match = _NAME.match(path.stem)
            if match is None:
                continue
            try:
                size = path.stat().st_size
                trigger = match[2] or _trigger_of(path)
            except (OSError, ValueError, KeyError, TypeError):
                trigger = "schedule"  # unreadable: oldest() sets it aside; until then it may be dropped first
                size = 0
            entries[int(match[1])] = _Entry(path, size, trigger)
        return entries


def _trigger_of(path: Path) -> str:
    """The trigger of an entry named before names carried it."""
    return str(json.loads(path.read_bytes())["trigger"])


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ood(ood: dict[str, Any]) -> OodResult:
    rules = ood.get("rules")  # absent: queued before rules were counted on every row
    exemplars = [Exemplar(**e) for e in ood["exemplars"]]
    return OodResult(**{**ood, "exemplars": exemplars, "rules": None if rules is None else RuleCounts(**rules)})


def _decode(seq: int, body: dict[str, Any]) -> PendingCheck:
    r = dict(body["result"])
    features = [_feature(f) for f in r.pop("features")]
    r.setdefault("decision", PRE_DECISION_RULE)  # queued before results carried their decision
    ood = r.pop("ood", None)  # absent: queued before results carried an OOD summary
    text = {name: TextSummary.from_json(t) for name, t in r.pop("text", {}).items()}
    result = CheckResult(
        **{**r, "status": Status(r["status"]), "multiple_testing": MultipleTesting(r["multiple_testing"])},
        features=features,
        ood=None if ood is None else _ood(ood),
        text=text,
    )
    return PendingCheck(
        seq=seq,
        result=result,
        reference=ReferenceInfo(**body["reference"]),
        window_start=body["window_start"],
        window_end=body["window_end"],
        trigger=body["trigger"],
    )


def _feature(f: dict[str, Any]) -> FeatureResult:
    status = Status(f["status"])
    if "decision" not in f:
        # Queued before results carried their decision: p_value was the score of p-value tests.
        f = {**f, "decision": pre_decision_feature_rule(status)}
        f.setdefault("p_value", f["score"] if f.get("score_kind") == "p_value" else None)
    quality = FeatureQuality(**f["quality"])
    explanation = explanation_from_dict(f.get("explanation"))
    fields = {**f, "kind": Kind(f["kind"]), "status": status, "quality": quality, "explanation": explanation}
    return FeatureResult(**fields)
