"""Logged inferences on their way to the spool: one batch per monitor and flush, kept and retried while it refuses them.

A CloudEvent is acknowledged (202) before its rows are spooled: they are spooled in batches once joined with the
other half or expired. If the spool then refuses them (disk full between the acknowledgement and the flush), they
stay here, at most `max_pending` inferences per monitor, and are tried again until the spool takes them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

import pyarrow as pa

from driftwatch.errors import DiskFullError, DriftwatchError
from driftwatch.reference import readers

log = logging.getLogger("driftwatch.serve.daemon")
# While the spool refuses rows, they are tried again this often rather than at every flush.
RETRY_SECONDS = 1.0


class EventFlusher:
    """Joined (or expired) inferences per monitor, ingested together; those the spool refused wait, oldest first."""

    def __init__(
        self,
        monitors: Iterable[str],
        max_pending: int,
        ingest: Callable[[str, pa.Table], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self._max_pending = max_pending
        self._ingest = ingest
        self._clock = clock
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        names = list(monitors)
        self._queued: dict[str, list[pa.Table]] = {name: [] for name in names}
        self._held: dict[str, deque[pa.Table]] = {name: deque() for name in names}
        self._retry_at = dict.fromkeys(names, 0.0)
        # Inferences (and their rows) given up on: the spool refused them and newer ones took their place.
        self.dropped = dict.fromkeys(names, 0)
        self.dropped_rows = dict.fromkeys(names, 0)

    def add(self, monitor: str, table: pa.Table) -> None:
        """Queue one inference's rows for the next flush."""
        with self._lock:
            self._queued[monitor].append(table)

    def held(self, monitor: str) -> int:
        """Inferences the spool refused that wait for the next try."""
        with self._lock:
            return len(self._held[monitor])

    def flush(self, released: Callable[[str], list[pa.Table]], *, final: bool = False) -> int:
        """Ingest what was queued, what `released(monitor)` adds and, when due, what the spool refused before.

        Returns the rows accepted. With `final` (shutdown) everything is tried now and what the spool still
        refuses is dropped, counted and logged.
        """
        total = 0
        with self._flushing:  # the event thread and shutdown never ingest the same tables twice
            for monitor in self._queued:
                total += self._flush_one(monitor, released(monitor), final)
        return total

    def _flush_one(self, monitor: str, released: list[pa.Table], final: bool) -> int:
        with self._lock:
            fresh, self._queued[monitor] = self._queued[monitor] + released, []
            held = self._held[monitor]
            if held and not final and self._clock() < self._retry_at[monitor]:
                self._hold(monitor, fresh)  # the spool refused rows a moment ago: these would fail the same way
                return 0
            tables, self._held[monitor] = [*held, *fresh], deque()
        if not tables:
            return 0
        accepted, refused = self._spool(monitor, tables)
        if refused:
            with self._lock:
                self._retry_at[monitor] = self._clock() + RETRY_SECONDS
                self._hold(monitor, refused, front=True)
                if final:
                    self._drop(monitor, len(self._held[monitor]), "at shutdown")
        return accepted

    def _spool(self, monitor: str, tables: list[pa.Table]) -> tuple[int, list[pa.Table]]:
        """Rows accepted, and the tables the spool refused (in order) when it is full."""
        try:
            return self._ingest(monitor, readers.concat(tables)), []
        except DiskFullError:
            return 0, tables
        except DriftwatchError:
            pass  # columns that cannot be unified: one batch each
        accepted = 0
        for i, table in enumerate(tables):
            try:
                accepted += self._ingest(monitor, table)
            except DiskFullError:
                return accepted, tables[i:]
            except DriftwatchError:
                log.exception("could not ingest logged inferences", extra={"monitor": monitor})
        return accepted, []

    def _hold(self, monitor: str, tables: list[pa.Table], *, front: bool = False) -> None:
        held = self._held[monitor]
        if front:
            held.extendleft(reversed(tables))
        else:
            held.extend(tables)
        if len(held) > self._max_pending:
            self._drop(monitor, len(held) - self._max_pending, "to keep ingest.max_pending_events")

    def _drop(self, monitor: str, n: int, why: str) -> None:
        held = self._held[monitor]
        rows = 0
        for _ in range(n):
            rows += held.popleft().num_rows
        self.dropped[monitor] += n
        self.dropped_rows[monitor] += rows
        log.error(
            "logged inferences dropped: the spool refused them %s",
            why,
            extra={"monitor": monitor, "inferences": n, "rows": rows, "still_held": len(held)},
        )
