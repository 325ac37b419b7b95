"""Windows of live rows: exact counts of everything seen plus a bounded uniform sample for the stat tests."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from driftwatch.checks.engine import FeatureQuality
from driftwatch.checks.looks import look_share
from driftwatch.config import DriftSettings, WindowSettings
from driftwatch.live.rowbatch import (
    ANY_RULE,
    MISSING,
    OUT_OF_RANGE,
    RULE_COLUMNS,
    TYPE_ERRORS,
    UNSEEN,
    RowShaper,
    conform_rows,
)
from driftwatch.ood.results import RuleCounts
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.types import Kind


class Reservoir:
    """A uniform random sample of at most `capacity` rows of everything added (Vitter's algorithm R, batched)."""

    def __init__(self, capacity: int, schema: pa.Schema, rng: np.random.Generator):
        self.capacity = capacity
        self.schema = schema
        self.seen = 0
        self._rng = rng
        self._chunks: list[pa.RecordBatch] = []
        self._chunk_rows = 0
        # slot -> row index into the concatenation of _chunks
        self._slots = np.empty(0, dtype=np.int64)

    def add(self, batch: pa.RecordBatch) -> None:
        """Offer every row of `batch`; each row seen so far stays in the sample with equal probability."""
        k = batch.num_rows
        if k == 0:
            return
        fill = max(0, min(k, self.capacity - self.seen))
        take_rows: list[np.ndarray] = []
        new_slots: list[np.ndarray] = []
        if fill:
            take_rows.append(np.arange(fill))
            new_slots.append(np.arange(self.seen, self.seen + fill))
        if k > fill:
            # Row number t (0-based, over all rows ever offered) replaces slot j ~ U{0..t} when j < capacity.
            t = np.arange(self.seen + fill, self.seen + k)
            j = (self._rng.random(t.size) * (t + 1)).astype(np.int64)
            hit = j < self.capacity
            if hit.any():
                take_rows.append(np.flatnonzero(hit) + fill)
                new_slots.append(j[hit])
        self.seen += k
        if not take_rows:
            return
        rows = np.concatenate(take_rows)
        slots = np.concatenate(new_slots)
        base = self._chunk_rows
        self._chunks.append(batch if rows.size == k else batch.take(pa.array(rows)))
        self._chunk_rows += rows.size
        size = min(self.seen, self.capacity)
        if self._slots.size < size:
            self._slots = np.concatenate([self._slots, np.full(size - self._slots.size, -1, dtype=np.int64)])
        # Later rows win on duplicate slots, as in the row-by-row algorithm (numpy keeps the last assignment).
        self._slots[slots] = base + np.arange(rows.size)
        if self._chunk_rows > 2 * self.capacity + 1024:
            self._compact()

    def _compact(self) -> None:
        self.load(self.table(), self.seen)

    def load(self, sample: pa.Table, seen: int) -> None:
        """Set the state to `sample` (row i in slot i) after `seen` rows were offered: a checkpoint's reservoir."""
        self._chunks = sample.to_batches()
        self._chunk_rows = sample.num_rows
        self._slots = np.arange(sample.num_rows, dtype=np.int64)
        self.seen = seen

    def parts(self) -> tuple[list[pa.RecordBatch], np.ndarray]:
        """Cheap copies of what the sample is made of (its batches and the slot -> row map), for `sample_of`."""
        return list(self._chunks), self._slots.copy()

    def table(self) -> pa.Table:
        """The current sample."""
        return sample_of(self._chunks, self._slots, self.schema)


def sample_of(chunks: list[pa.RecordBatch], slots: np.ndarray, schema: pa.Schema) -> pa.Table:
    """The sample that a reservoir's parts stand for, in slot order."""
    if not chunks:
        return schema.empty_table()
    return pa.Table.from_batches(chunks, schema=schema).take(pa.array(slots))


@dataclass(frozen=True)
class WindowSnapshot:
    """What a check needs from a window: its bounds, exact counts, the sample and the reference they fit."""

    start: float
    end: float | None
    rows: int
    rejected: int
    sample: pa.Table
    quality: dict[str, FeatureQuality]
    closed: bool
    # The reference the rows were shaped and counted for: a check taken before a reload is judged against it.
    profile: ReferenceProfile
    # This look's share of the window's alpha (checks/looks.py); a sliding window's every check gets all of it.
    look_share: float = 1.0
    rules: RuleCounts | None = None  # the OOD rules over every row


class _Tally:
    """Exact counters for one window."""

    def __init__(self, shaper: RowShaper):
        self.rows = 0
        self.rejected = 0
        self.unknown_columns = 0
        self.counts = shaper.zero_counts()

    def rules(self, shaper: RowShaper) -> RuleCounts | None:
        """The OOD rules over every row counted (None when the monitor counts none)."""
        if not shaper.rules:
            return None
        c = self.counts
        return RuleCounts(
            rows=self.rows,
            ood_rows=int(c[-1, ANY_RULE]),
            by_reason={r.name: int(c[-1, RULE_COLUMNS[r.name]]) for r in shaper.rules},
            features={name: int(n) for name, n in zip(shaper.names, c[:-1, ANY_RULE], strict=True)},
        )

    def quality(self, profile: ReferenceProfile) -> dict[str, FeatureQuality]:
        out = {}
        for i, f in enumerate(profile.features):
            c = self.counts[i]
            present = self.rows - c[MISSING] - c[TYPE_ERRORS]
            out[f.name] = FeatureQuality(
                rows=self.rows,
                missing_rate=_rate(c[MISSING], self.rows),
                reference_missing_rate=f.missing_rate,
                type_error_rate=_rate(c[TYPE_ERRORS], self.rows),
                unseen_category_rate=_rate(c[UNSEEN], present) if f.kind == Kind.CATEGORICAL else None,
                out_of_range_rate=_rate(c[OUT_OF_RANGE], present) if f.kind == Kind.NUMERIC else None,
            )
        return out


def _rate(count: int, total: int) -> float:
    return float(count) / float(total) if total > 0 else 0.0


class TumblingWindow:
    """One fixed time slice [start, end): rows arriving in it are counted and sampled."""

    def __init__(self, start: float, duration: float, shaper: RowShaper, capacity: int, rng: np.random.Generator):
        self.start = start
        self.end = start + duration
        self.shaper = shaper
        self.tally = _Tally(shaper)
        self.reservoir = Reservoir(capacity, shaper.schema, rng)
        self.sources: set[str] = set()  # file sources whose rows the window holds
        self.spent = 0.0  # share of the window's alpha its earlier looks took

    def add(
        self, batch: pa.RecordBatch, counts: np.ndarray, rejected: int, unknown: int, source: str | None = None
    ) -> None:
        self.tally.rows += batch.num_rows
        self.tally.rejected += rejected
        self.tally.unknown_columns += unknown
        self.tally.counts += counts
        self.reservoir.add(batch)
        if source:
            self.sources.add(source)

    def snapshot(self, closed: bool, now: float | None = None, drift: DriftSettings | None = None) -> WindowSnapshot:
        """The window for a check, which takes this look's share of the window's alpha (none below min_rows)."""
        t = self.tally
        profile = self.shaper.profile
        share = 0.0
        if closed:
            share = look_share(1.0, self.spent, 0.0, closed=True)
        elif drift is not None and now is not None and min(t.rows, self.reservoir.capacity) >= drift.min_rows:
            fraction = (now - self.start) / max(self.end - self.start, 1e-9)
            share = look_share(fraction, self.spent, drift.looks.open_share, closed=False)
        self.spent += share
        sample = self.reservoir.table()
        quality, rules = t.quality(profile), t.rules(self.shaper)
        return WindowSnapshot(self.start, self.end, t.rows, t.rejected, sample, quality, closed, profile, share, rules)


SlidingBatch = tuple[float, pa.RecordBatch, np.ndarray, str | None]


class SlidingWindow:
    """The last N rows, whatever their age; the check samples them when N exceeds the sample size."""

    def __init__(self, size: int, shaper: RowShaper, capacity: int, rng: np.random.Generator):
        self.size = size
        self.shaper = shaper
        self.capacity = capacity
        self._rng = rng
        # (arrival time, rows, their counts, file source) per batch kept, oldest first
        self._batches: deque[SlidingBatch] = deque()
        self._rows = 0
        self.rejected = 0
        self.unknown_columns = 0
        self.start = math.nan

    def add(
        self,
        batch: pa.RecordBatch,
        counts: np.ndarray,
        rejected: int,
        unknown: int,
        at: float,
        source: str | None = None,
    ) -> None:
        self.rejected += rejected
        self.unknown_columns += unknown
        if batch.num_rows == 0:
            return
        if batch.num_rows > self.size:
            batch = batch.slice(batch.num_rows - self.size)
            counts = self.shaper.counts(batch)
        self._batches.append((at, batch, counts, source))
        self._rows += batch.num_rows
        while self._rows - self._batches[0][1].num_rows >= self.size:
            _, head, _, _ = self._batches.popleft()
            self._rows -= head.num_rows
        excess = self._rows - self.size
        if excess > 0:
            at0, head, _, src = self._batches[0]
            head = head.slice(excess)
            self._batches[0] = (at0, head, self.shaper.counts(head), src)
            self._rows -= excess

    def parts(self) -> list[SlidingBatch]:
        """A copy of the batches kept (each is immutable), for a checkpoint."""
        return list(self._batches)

    def load(self, batches: list[SlidingBatch], rejected: int, unknown: int) -> None:
        """Set the state to a checkpoint's batches and counters."""
        self._batches = deque(batches)
        self._rows = sum(b.num_rows for _, b, _, _ in batches)
        self.rejected, self.unknown_columns = rejected, unknown

    @property
    def sources(self) -> set[str]:
        """File sources whose rows the window holds."""
        return {src for _, _, _, src in self._batches if src}

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def oldest(self) -> float | None:
        """Arrival time of the oldest row kept (the spool keeps segments from then on)."""
        return self._batches[0][0] if self._batches else None

    def snapshot(self) -> WindowSnapshot:
        tally = _Tally(self.shaper)
        tally.rows = self._rows
        tally.rejected = self.rejected
        for _, _, counts, _ in self._batches:
            tally.counts += counts
        schema = self.shaper.schema
        table = pa.Table.from_batches([b for _, b, _, _ in self._batches], schema=schema)
        if table.num_rows > self.capacity:
            idx = np.sort(self._rng.choice(table.num_rows, self.capacity, replace=False))
            table = table.take(pa.array(idx))
        start = self._batches[0][0] if self._batches else math.nan
        end = self._batches[-1][0] if self._batches else None
        profile = self.shaper.profile
        quality, rules = tally.quality(profile), tally.rules(self.shaper)
        return WindowSnapshot(start, end, self._rows, self.rejected, table, quality, False, profile, rules=rules)

    def reshape(self, shaper: RowShaper) -> None:
        """Keep the rows for another reference: conform them to its schema and count them against it."""
        self.shaper = shaper
        conformed = ((at, conform_rows(batch, shaper.schema), src) for at, batch, _, src in self._batches)
        self._batches = deque((at, batch, shaper.counts(batch), src) for at, batch, src in conformed)


def window_start(at: float, duration: float) -> float:
    """Start of the tumbling window holding time `at`; windows align to multiples of their duration."""
    return math.floor(at / duration) * duration


def new_tumbling(
    at: float, settings: WindowSettings, shaper: RowShaper, rng: np.random.Generator, start: float | None = None
) -> TumblingWindow:
    """The tumbling window that contains `at`; one a reference reload began at `start` runs from there."""
    aligned = window_start(at, settings.duration)
    begin = start if start is not None and aligned < start <= at else aligned
    window = TumblingWindow(begin, settings.duration, shaper, settings.max_sample_rows, rng)
    window.end = aligned + settings.duration
    return window


def window_tag(start: float) -> str:
    """The spool tag of the tumbling window starting at `start`."""
    # A window a reload started mid-way has a fractional start; aligned windows keep their whole-second name.
    return f"w{int(start)}" if float(start).is_integer() else f"w{start:.3f}"


def tag_start(tag: str) -> float | None:
    """The start of the tumbling window a spool segment's tag names (None for the sliding window's)."""
    try:
        return float(tag[1:]) if tag.startswith("w") else None
    except ValueError:
        return None
