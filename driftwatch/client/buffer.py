"""What the client holds between `log()` and delivery: queued items, per-monitor buffers, throttled warnings."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import pyarrow as pa

# One logger for the whole client, so a model server configures (or silences) it in one place.
logger = logging.getLogger("driftwatch.client")


@dataclass(slots=True)
class Item:
    seq: int
    monitor: str
    table: pa.Table
    enqueued: float


class Buffer:
    """Rows waiting for one monitor, oldest first."""

    def __init__(self) -> None:
        self.items: deque[Item] = deque()
        self.rows = 0

    def add(self, item: Item) -> None:
        self.items.append(item)
        self.rows += item.table.num_rows

    @property
    def oldest(self) -> float:
        return self.items[0].enqueued

    def take(self, limit: int) -> list[Item]:
        """Remove up to `limit` rows from the front, splitting an item if it straddles the limit."""
        taken: list[Item] = []
        want = limit
        while want and self.items:
            item = self.items[0]
            if item.table.num_rows <= want:
                self.items.popleft()
                want -= item.table.num_rows
                taken.append(item)
            else:
                taken.append(Item(item.seq, item.monitor, item.table.slice(0, want), item.enqueued))
                item.table = item.table.slice(want)
                want = 0
        self.rows -= limit - want
        return taken


class Throttle:
    """Lets one warning of each kind through per interval and reports how many were held back."""

    def __init__(self, every: float) -> None:
        self._every = every
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warn(self, kind: str, msg: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next.get(kind, 0.0):
                self._held[kind] = self._held.get(kind, 0) + 1
                return
            self._next[kind] = now + self._every
            held = self._held.pop(kind, 0)
        if held:
            msg += " (%d similar warnings suppressed)"
            args = (*args, held)
        logger.warning(msg, *args)
