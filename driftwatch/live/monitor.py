"""One monitor's live state: rows in, durably spooled, counted and sampled into windows ready for checks."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from driftwatch.config import MonitorConfig
from driftwatch.live.rowbatch import RowShaper
from driftwatch.live.spool import Durability, Spool
from driftwatch.live.window import SlidingWindow, TumblingWindow, WindowSnapshot, new_tumbling
from driftwatch.reference.profile import ReferenceProfile

log = logging.getLogger(__name__)
SLIDING_TAG = "sliding"


@dataclass(frozen=True)
class IngestOutcome:
    """What became of one request's rows."""

    accepted: int
    rejected: int
    unknown_columns: tuple[str, ...]


@dataclass
class IngestCounters:
    """Totals since start (restored rows included) for metrics and the monitor API."""

    rows_accepted: int = 0
    rows_rejected: dict[str, int] = field(default_factory=dict)
    unknown_columns: int = 0
    restored_rows: int = 0
    last_ingest_at: float | None = None

    def reject(self, reason: str, n: int) -> None:
        if n:
            self.rows_rejected[reason] = self.rows_rejected.get(reason, 0) + n


def _start_of(tag: str) -> float | None:
    """The start of the tumbling window a spool segment's tag names (None for the sliding window's)."""
    try:
        return float(tag[1:]) if tag.startswith("w") else None
    except ValueError:
        return None


def _tag(start: float) -> str:
    # A window a reload started mid-way has a fractional start; aligned windows keep their whole-second name.
    return f"w{int(start)}" if float(start).is_integer() else f"w{start:.3f}"


class LiveMonitor:
    """Holds the open window of one monitor; thread-safe for concurrent ingestion and checks."""

    def __init__(
        self,
        config: MonitorConfig,
        profile: ReferenceProfile,
        data_dir: Path,
        durability: Durability = "process",
        seed: int | None = None,
    ):
        self.config = config
        self.profile = profile
        self.shaper = RowShaper(profile)
        self.settings = config.window
        self.spool = Spool(data_dir / "spool" / config.name, self.shaper.schema, durability)
        self.samples_dir = data_dir / "windows" / config.name
        self.counters = IngestCounters()
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._tumbling: TumblingWindow | None = None
        self._sliding: SlidingWindow | None = None
        if self.settings.type == "sliding":
            self._sliding = SlidingWindow(self.settings.rows, self.shaper, self.settings.max_sample_rows, self._rng)
        self._closed: list[WindowSnapshot] = []
        self._swapped_at = float("-inf")

    @property
    def name(self) -> str:
        return self.config.name

    def restore(self, now: float | None = None) -> set[str]:
        """Replay the spool into windows after a restart; returns the file sources whose rows it held."""
        now = time.time() if now is None else now
        restored = 0
        sources: set[str] = set()
        with self._lock:
            for rec in self.spool.replay():
                start = _start_of(rec.tag)
                self._add(rec.batch, rec.at, rec.rejected, rec.unknown_columns, restored=True, start=start)
                restored += rec.batch.num_rows
                if rec.source:
                    sources.add(rec.source)
            self.counters.restored_rows = restored
            self._roll(now)
        spool = self.spool
        if restored or spool.torn_records or spool.corrupt_segments:
            log.info(
                "rows restored from the spool",
                extra={
                    "monitor": self.name,
                    "rows": restored,
                    "torn_records": spool.torn_records,
                    "corrupt_segments": spool.corrupt_segments,
                },
            )
        return sources

    def ingest(
        self, table: pa.Table | pa.RecordBatch, rejected: int = 0, now: float | None = None, source: str | None = None
    ) -> IngestOutcome:
        """Shape, spool (durably) and count one request's rows; returns once they are safe to acknowledge.

        Raises DiskFullError when the spool cannot take them: nothing of the request is kept or counted.
        """
        now = time.time() if now is None else now
        shaper = self.shaper
        norm = shaper.normalize(table)
        counts = shaper.counts(norm.batch)  # depends on the batch alone: computed before taking the lock
        with self._lock:
            if shaper is not self.shaper:  # the reference was swapped meanwhile: shape the rows for the new one
                norm = self.shaper.normalize(table)
                counts = self.shaper.counts(norm.batch)
            now = max(now, self._swapped_at)  # a request timed before a swap lands after it: in the new window
            unknown = len(norm.unknown_columns)
            self._roll(now)
            tag = SLIDING_TAG if self._sliding is not None else _tag(self._open(now).start)
            ticket = self.spool.append(
                norm.batch, at=now, tag=tag, rejected=rejected, unknown=unknown, source=source, wait=False
            )
            self._add(norm.batch, now, rejected, unknown, counts=counts)
        # Outside the lock, so that concurrent requests share one fsync; the reply waits for it.
        self.spool.wait_durable(ticket)
        return IngestOutcome(norm.batch.num_rows, rejected, norm.unknown_columns)

    def _add(
        self,
        batch: pa.RecordBatch,
        at: float,
        rejected: int,
        unknown: int,
        *,
        counts: np.ndarray | None = None,
        restored: bool = False,
        start: float | None = None,
    ) -> None:
        counts = self.shaper.counts(batch) if counts is None else counts
        if not restored:  # counters describe this process's traffic; restored rows are counted apart
            self.counters.rows_accepted += batch.num_rows
            self.counters.reject("malformed", rejected)
            self.counters.unknown_columns += unknown
            self.counters.last_ingest_at = at
        if self._sliding is not None:
            self._sliding.add(batch, counts, rejected, unknown, at)
            return
        window = self._tumbling
        if window is not None and start is not None and window.start < start <= at:
            window.end = start  # replayed rows of a window a reload began: the window before it ended then
        if window is None or not (window.start <= at < window.end):
            if window is not None and at >= window.end:
                self._close(window)
            window = self._tumbling = new_tumbling(at, self.settings, self.shaper, self._rng, start)
        window.add(batch, counts, rejected, unknown)

    def _open(self, now: float) -> TumblingWindow:
        if self._tumbling is None or not (self._tumbling.start <= now < self._tumbling.end):
            if self._tumbling is not None:
                self._close(self._tumbling)
            self._tumbling = new_tumbling(now, self.settings, self.shaper, self._rng)
        return self._tumbling

    def _close(self, window: TumblingWindow) -> None:
        self._closed.append(window.snapshot(closed=True))
        self._tumbling = None
        self.spool.seal()

    def _roll(self, now: float) -> None:
        if self._tumbling is not None and now >= self._tumbling.end:
            self._close(self._tumbling)

    def take_closed(self, now: float | None = None) -> list[WindowSnapshot]:
        """Windows that ended and still need their final check."""
        now = time.time() if now is None else now
        with self._lock:
            self._roll(now)
            closed, self._closed = self._closed, []
        return closed

    def finish_closed(self, snapshot: WindowSnapshot) -> None:
        """After a closed window's check is stored: keep its sample as Parquet and prune its spool segments.

        The spool is pruned even when the sample cannot be written (its check is stored): on a full disk that
        frees space. The write's OSError is raised afterwards, and no partial sample file is left.
        """
        path = self.samples_dir / f"{_tag(snapshot.start)[1:]}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        try:
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            pq.write_table(snapshot.sample, tmp)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
            tag = _tag(snapshot.start)
            self.spool.prune(lambda seg: seg.tag == tag)

    def snapshot(self, now: float | None = None) -> WindowSnapshot:
        """The open window (tumbling) or the last N rows (sliding), for a check."""
        now = time.time() if now is None else now
        with self._lock:
            if self._sliding is not None:
                snap = self._sliding.snapshot()
                oldest = self._sliding.oldest
            else:
                self._roll(now)
                window = self._tumbling or new_tumbling(now, self.settings, self.shaper, self._rng)
                return window.snapshot(closed=False)
        if oldest is not None:
            self.spool.prune(lambda seg: seg.last_at < oldest and seg.rows > 0)
        return snap

    def swap_profile(self, profile: ReferenceProfile, now: float | None = None) -> WindowSnapshot | None:
        """Judge rows against a new reference from now on; returns the open tumbling window, closed for its final check.

        A tumbling window with rows ends now and keeps the old reference (its snapshot carries it); the next runs
        from now to the end of the aligned period. A sliding window keeps its rows, conformed to the new schema.
        """
        now = time.time() if now is None else now
        shaper = RowShaper(profile)
        with self._lock:
            now = self._swapped_at = max(now, self._swapped_at)
            self._roll(now)
            window, closed = self._tumbling, None
            if window is not None and window.tally.rows + window.tally.rejected > 0:
                window.end = now
                self._close(window)
                closed = self._closed[-1]
                self._tumbling = new_tumbling(now, self.settings, shaper, self._rng, start=now)
            elif window is not None:  # empty: the same window, counted for the new reference
                self._tumbling = new_tumbling(now, self.settings, shaper, self._rng, start=window.start)
            self.spool.reshape(shaper.schema)
            self.profile, self.shaper = profile, shaper
            if self._sliding is not None:
                self._sliding.reshape(shaper)
        return closed

    def window_rows(self) -> tuple[int, int]:
        """Rows seen in the open window and rows currently sampled from it."""
        with self._lock:
            if self._sliding is not None:
                return self._sliding.rows, min(self._sliding.rows, self.settings.max_sample_rows)
            if self._tumbling is None:
                return 0, 0
            return self._tumbling.tally.rows, min(self._tumbling.tally.rows, self.settings.max_sample_rows)

    def close(self) -> None:
        """Flush the spool to disk."""
        self.spool.close()
