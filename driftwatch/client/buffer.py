"""What the client holds between `log()` and delivery: queued items and per-monitor buffers."""

from __future__ import annotations

import logging
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
