"""One monitor's live state: rows in, durably spooled, counted and sampled into windows ready for checks."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from driftwatch.config import MonitorConfig
from driftwatch.errors import MonitorRestoringError
from driftwatch.live.checkpoint import Checkpoint, CheckpointError, identity_of, load_checkpoint, save_checkpoint
from driftwatch.live.rowbatch import RowShaper
from driftwatch.live.spool import Durability, Resume, Spool, SpoolRecord
from driftwatch.live.window import (
    SlidingWindow,
    TumblingWindow,
    WindowSnapshot,
    new_tumbling,
    tag_start,
    window_tag,
)
from driftwatch.reference.profile import ReferenceProfile

log = logging.getLogger(__name__)
SLIDING_TAG = "sliding"
# Consecutive spool records of one window are replayed as one batch of up to this many rows: counting and
# sampling cost per batch, and a spool of small requests holds many records.
REPLAY_BATCH_ROWS = 65536


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


@dataclass
class RestoreProgress:
    """How the restore at start went, or how far it is: for readiness, the monitor API and metrics."""

    state: Literal["none", "waiting", "restoring", "done", "stopped"] = "none"
    checkpoint: str = "none"  # "used", or why not: missing, stale, unreadable, of a finished window
    checkpoint_rows: int = 0
    replayed_rows: int = 0
    started: float | None = None  # monotonic
    seconds: float | None = None

    @property
    def rows(self) -> int:
        return self.checkpoint_rows + self.replayed_rows


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
        self.shaper = RowShaper(profile, config.ood)
        self.settings = config.window
        self.spool = Spool(data_dir / "spool" / config.name, self.shaper.schema, durability)
        self.checkpoint_path = data_dir / "checkpoints" / f"{config.name}.checkpoint"
        self.counters = IngestCounters()
        self.restoring = False  # while True, ingestion is refused (MonitorRestoringError)
        self.progress = RestoreProgress()
        self.checkpoint_errors = 0
        self.checkpoint_at: float | None = None  # when the latest checkpoint was written
        self._checkpointed: tuple[Resume, float] | None = None  # the spool position and alpha spent written
        self._checkpoint_lock = threading.Lock()
        self._stopping = threading.Event()
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

    def defer_restore(self) -> None:
        """Refuse ingestion until `restore` has run (it runs later, in another thread)."""
        self.restoring = True
        self.progress = RestoreProgress(state="waiting")

    def restore(self, now: float | None = None, *, use_checkpoint: bool = True) -> set[str]:
        """Restore the windows after a restart; returns the file sources whose rows they hold.

        A usable checkpoint gives the open window's state up to a spool position, and only the records after it
        are replayed; otherwise (none, stale, damaged) the whole spool is, as it holds every unfinished window.
        """
        now = time.time() if now is None else now
        self.restoring = True
        progress = self.progress = RestoreProgress(state="restoring", started=time.monotonic())
        cp = self._usable_checkpoint() if use_checkpoint else None
        resume = cp.resume if cp is not None else None
        sources: set[str] = set(cp.sources) if cp is not None else set()
        group: list[SpoolRecord] = []
        group_rows = 0
        for rec in self.spool.replay(resume):
            if self._stopping.is_set():
                progress.state = "stopped"
                return sources
            if cp is not None and resume is not None and (rec.tag == resume.tag or rec.seq > resume.seq):
                self._replay(group)
                group, group_rows = [], 0
                self._install(cp)
                cp = None
            if rec.source:
                sources.add(rec.source)
            if group and (group_rows >= REPLAY_BATCH_ROWS or self._group_key(group[0]) != self._group_key(rec)):
                self._replay(group)
                group, group_rows = [], 0
            group.append(rec)
            group_rows += rec.batch.num_rows
        self._replay(group)
        if cp is not None:
            self._install(cp)
        with self._lock:
            self._roll(now)
        self.counters.restored_rows = progress.rows
        progress.seconds = time.monotonic() - (progress.started or 0.0)
        progress.state = "done"
        self.restoring = False
        spool = self.spool
        log.info(
            "rows restored",
            extra={
                "monitor": self.name,
                "rows": progress.rows,
                "checkpoint": progress.checkpoint,
                "checkpoint_rows": progress.checkpoint_rows,
                "replayed_rows": progress.replayed_rows,
                "seconds": round(progress.seconds, 3),
                "torn_records": spool.torn_records,
                "corrupt_segments": spool.corrupt_segments,
            },
        )
        return sources

    def _usable_checkpoint(self) -> Checkpoint | None:
        """The checkpoint, when it describes an unfinished window of this monitor as configured; logs why not."""
        try:
            cp = load_checkpoint(self.checkpoint_path, self.shaper.schema)
        except FileNotFoundError:
            self.progress.checkpoint = "missing"
            return None
        except (OSError, CheckpointError) as exc:
            reason = exc.reason if isinstance(exc, CheckpointError) else f"unreadable: {exc.strerror or exc}"
            stale = isinstance(exc, CheckpointError) and exc.stale
            self.progress.checkpoint = f"{'stale' if stale else 'unusable'}: {reason}"
            (log.info if stale else log.warning)(
                "checkpoint not used: the whole spool is replayed",
                extra={"monitor": self.name, "checkpoint": self.checkpoint_path.name, "reason": reason},
            )
            if stale:
                self.checkpoint_path.unlink(missing_ok=True)  # intact but never usable: see below
            return None
        why = cp.mismatch(self.shaper, self.settings) if cp.monitor == self.name else "of another monitor"
        if why is None and not any(seg.tag == cp.resume.tag for seg in self.spool.segments):
            why = "its window is finished (no spool segment of it is left)"
        if why is not None:
            self.progress.checkpoint = f"stale: {why}"
            log.info("checkpoint not used: the whole spool is replayed", extra={"monitor": self.name, "reason": why})
            # It can never be used, and holds sampled rows as received (of a finished window: rows no spool holds).
            self.checkpoint_path.unlink(missing_ok=True)
            return None
        self.progress.checkpoint = "used"
        return cp

    def _group_key(self, rec: SpoolRecord) -> tuple[float | str, str | None]:
        """Records with equal keys go to one window as one batch, exactly as they would one by one."""
        if self._sliding is not None:
            return rec.at, rec.source  # a sliding window keeps each arrival time
        return rec.tag, rec.source  # a tumbling window's tag names it, also one a reload began off the grid

    def _replay(self, group: list[SpoolRecord]) -> None:
        if not group:
            return
        batch = group[0].batch if len(group) == 1 else pa.concat_batches([r.batch for r in group])
        counts = self.shaper.counts(batch)
        rejected = sum(r.rejected for r in group)
        unknown = sum(r.unknown_columns for r in group)
        with self._lock:
            first = group[0]
            start = tag_start(first.tag)
            self._add(
                batch, first.at, rejected, unknown, counts=counts, restored=True, start=start, source=first.source
            )
        self.progress.replayed_rows += batch.num_rows

    def _install(self, cp: Checkpoint) -> None:
        """Make the checkpoint's window the open one, as replaying its records would have."""
        with self._lock:
            self._rng.bit_generator.state = cp.rng
            if self._sliding is not None:
                self._sliding.load(cp.sliding_batches(), cp.rejected, cp.unknown_columns)
            else:
                assert cp.start is not None
                window = self._tumbling
                if window is not None and window.start < cp.start:
                    window.end = min(window.end, cp.start)  # ended then, also when a reload began the next one
                    self._close(window)
                window = TumblingWindow(cp.start, cp.length, self.shaper, cp.capacity, self._rng)
                window.tally.rows, window.tally.rejected = cp.rows, cp.rejected
                window.tally.unknown_columns, window.tally.counts = cp.unknown_columns, cp.counts.copy()
                window.reservoir.load(pa.Table.from_batches(cp.batches, schema=self.shaper.schema), cp.seen)
                window.sources, window.spent = set(cp.sources), cp.alpha_spent
                self._tumbling = window
            self._checkpointed = (cp.resume, cp.alpha_spent)
        self.progress.checkpoint_rows = cp.rows

    def restore_status(self) -> str:
        """What the restore is doing, for readiness and refusals: state, rows so far, spool read."""
        p = self.progress
        if p.state == "waiting":
            return "waiting to restore its windows from the spool"
        done, total = self.spool.replayed_bytes, self.spool.replay_bytes
        read = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB of spool read" if total else "no spool to read"
        return f"restoring its windows: {p.rows} rows so far, {read}, checkpoint {p.checkpoint}"

    def retry_after(self) -> int:
        """Seconds until the restore is likely done (1 to 60), from how fast it has read the spool so far."""
        p = self.progress
        done, total = self.spool.replayed_bytes, self.spool.replay_bytes
        if p.state != "restoring" or p.started is None or done <= 0:
            return 1
        elapsed = time.monotonic() - p.started
        return int(min(60, max(1, math.ceil(elapsed * (total - done) / done))))

    def checkpoint(self, now: float | None = None) -> int:
        """Write the open window's state, so that a restart replays only the spool after it; returns its bytes.

        Taken under the monitor's lock (references and small copies only) and written outside it. Nothing is
        written while restoring, without an open window, or when nothing changed since the last one (0).
        """
        with self._checkpoint_lock:
            if self.restoring:
                return 0
            with self._lock:
                cp = self._capture(time.time() if now is None else now)
            if cp is None or (cp.resume, cp.alpha_spent) == self._checkpointed:
                return 0
            fsync = self.spool.durability == "fsync"
            try:
                if fsync:
                    self.spool.flush()  # the checkpoint never holds a record the spool could lose
                size = save_checkpoint(cp, self.checkpoint_path, self.shaper.schema, fsync=fsync)
            except OSError:
                self.checkpoint_errors += 1
                raise
            self._checkpointed = (cp.resume, cp.alpha_spent)
            self.checkpoint_at = cp.taken_at
            return size

    def _capture(self, now: float) -> Checkpoint | None:
        rng = self._rng.bit_generator.state
        common = dict(monitor=self.name, reference_version=self.profile.version, **identity_of(self.shaper))
        if self._sliding is not None:
            s = self._sliding
            resume = self.spool.resume_point(SLIDING_TAG)
            if resume is None:
                return None
            parts = s.parts()
            return Checkpoint(
                **common,  # type: ignore[arg-type]
                window="sliding",
                start=None,
                length=float(s.size),
                capacity=s.capacity,
                rows=s.rows,
                rejected=s.rejected,
                unknown_columns=s.unknown_columns,
                counts=self.shaper.zero_counts(),
                seen=s.rows,
                rng=rng,
                sources=sorted(s.sources),
                resume=resume,
                taken_at=now,
                batches=[b for _, b, _, _ in parts],
                arrivals=[(at, c, src) for at, _, c, src in parts],
            )
        w = self._tumbling
        resume = self.spool.resume_point(window_tag(w.start)) if w is not None else None
        if w is None or resume is None:
            return None
        chunks, slots = w.reservoir.parts()
        t = w.tally
        return Checkpoint(
            **common,  # type: ignore[arg-type]
            window="tumbling",
            start=w.start,
            length=w.end - w.start,
            capacity=w.reservoir.capacity,
            rows=t.rows,
            rejected=t.rejected,
            unknown_columns=t.unknown_columns,
            counts=t.counts.copy(),
            seen=w.reservoir.seen,
            rng=rng,
            sources=list(w.sources),
            alpha_spent=w.spent,
            resume=resume,
            taken_at=now,
            batches=chunks,
            slots=slots,
        )

    def ingest(
        self, table: pa.Table | pa.RecordBatch, rejected: int = 0, now: float | None = None, source: str | None = None
    ) -> IngestOutcome:
        """Shape, spool (durably) and count one request's rows; returns once they are safe to acknowledge.

        Raises DiskFullError when the spool cannot take them: nothing of the request is kept or counted.
        """
        now = time.time() if now is None else now
        if self.restoring:
            raise MonitorRestoringError(self.name, self.restore_status(), self.retry_after())
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
            tag = SLIDING_TAG if self._sliding is not None else window_tag(self._open(now).start)
            ticket = self.spool.append(
                norm.batch, at=now, tag=tag, rejected=rejected, unknown=unknown, source=source, wait=False
            )
            self._add(norm.batch, now, rejected, unknown, counts=counts, source=source)
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
        source: str | None = None,
    ) -> None:
        counts = self.shaper.counts(batch) if counts is None else counts
        if not restored:  # counters describe this process's traffic; restored rows are counted apart
            self.counters.rows_accepted += batch.num_rows
            self.counters.reject("malformed", rejected)
            self.counters.unknown_columns += unknown
            self.counters.last_ingest_at = at
        if self._sliding is not None:
            self._sliding.add(batch, counts, rejected, unknown, at, source)
            return
        window = self._tumbling
        if window is not None and start is not None and window.start < start <= at:
            window.end = start  # replayed rows of a window a reload began: the window before it ended then
        if window is None or not (window.start <= at < window.end):
            if window is not None and at >= window.end:
                self._close(window)
            window = self._tumbling = new_tumbling(at, self.settings, self.shaper, self._rng, start)
        window.add(batch, counts, rejected, unknown, source)

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
        """After a closed window's check is stored (its sample kept with it): prune the window's spool segments.

        The window's checkpoint goes with them: it holds the window's sampled rows as received, which nothing
        needs once the window is judged (its kept sample is redacted).
        """
        tag = window_tag(snapshot.start)
        self.spool.prune(lambda seg: seg.tag == tag)
        with self._checkpoint_lock:
            if self._checkpointed is not None and self._checkpointed[0].tag == tag:
                self.checkpoint_path.unlink(missing_ok=True)
                self._checkpointed = None

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
                return window.snapshot(closed=False, now=now, drift=self.config.drift)
        if oldest is not None:
            self.spool.prune(lambda seg: seg.last_at < oldest and seg.rows > 0)
        return snap

    def swap_profile(self, profile: ReferenceProfile, now: float | None = None) -> WindowSnapshot | None:
        """Judge rows against a new reference from now on; returns the open tumbling window, closed for its final check.

        A tumbling window with rows ends now and keeps the old reference (its snapshot carries it); the next runs
        from now to the end of the aligned period. A sliding window keeps its rows, conformed to the new schema.
        """
        now = time.time() if now is None else now
        shaper = RowShaper(profile, self.config.ood)
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
        """Stop a running restore, write a checkpoint (when not restoring) and flush the spool to disk."""
        self._stopping.set()
        try:
            self.checkpoint()
        except OSError as exc:
            log.warning("checkpoint not written at stop", extra={"monitor": self.name, "error": str(exc)})
        self.spool.close()
