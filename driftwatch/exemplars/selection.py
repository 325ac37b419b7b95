"""What a labelling export holds: a period's exemplars, one per fingerprint, every reason in turn."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from driftwatch.config.base import iso_timestamp
from driftwatch.ood.reasons import ORDER
from driftwatch.storage import ExemplarRecord

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class QueueItem:
    """One exemplar to label, with the reason whose turn picked it and how many times checks kept the row."""

    exemplar: ExemplarRecord
    stratum: str
    seen: int


def parse_since(text: str, now: float | None = None) -> float:
    """Epoch seconds of `--since`: a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO 8601 time (bare: UTC)."""
    now = time.time() if now is None else now
    match = _DURATION.match(text)
    if match is not None:
        return now - float(match[1]) * _SECONDS[match[2]]
    try:
        return iso_timestamp(text)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither a duration (90s, 30m, 24h, 7d, 2w) nor an ISO 8601 time"
            " (2026-01-31 or 2026-01-31T08:00:00+01:00)"
        ) from None


def novelty(e: ExemplarRecord) -> tuple[bool, float, float, float, int]:
    """Sort key, most novel first: lowest p-value (none last), largest distance, newest check, rank."""
    return (e.p_value is None, e.p_value or 0.0, -(e.score or 0.0), -e.started_at, e.rank)


def distinct(exemplars: Iterable[ExemplarRecord]) -> tuple[list[ExemplarRecord], dict[str, int]]:
    """One exemplar per fingerprint (its most novel sighting), most novel first, and how often each was kept."""
    best: dict[str, ExemplarRecord] = {}
    seen: dict[str, int] = {}
    for e in exemplars:
        seen[e.fingerprint] = seen.get(e.fingerprint, 0) + 1
        if e.fingerprint not in best or novelty(e) < novelty(best[e.fingerprint]):
            best[e.fingerprint] = e
    return sorted(best.values(), key=novelty), seen


def stratify(exemplars: Iterable[ExemplarRecord], limit: int) -> list[QueueItem]:
    """At most `limit` distinct exemplars, reasons taking turns (each its most novel not yet taken).

    Every reason present gets one before any gets two, so a rare reason is not crowded out by a frequent one; with
    `limit` below the number of reasons, the reasons first in the OOD order are the ones represented.
    """
    if limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    unique, seen = distinct(exemplars)
    present = {r for e in unique for r in e.reasons}
    reasons = [r for r in ORDER if r in present] + sorted(present - set(ORDER))
    queues = {r: deque(e for e in unique if r in e.reasons) for r in reasons}
    taken: set[str] = set()
    out: list[QueueItem] = []
    while len(out) < limit and any(queues.values()):
        for reason in reasons:
            queue = queues[reason]
            while queue and queue[0].fingerprint in taken:
                queue.popleft()
            if not queue:
                continue
            e = queue.popleft()
            taken.add(e.fingerprint)
            out.append(QueueItem(e, reason, seen[e.fingerprint]))
            if len(out) == limit:
                break
    return out
