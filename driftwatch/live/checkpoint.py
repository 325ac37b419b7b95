"""Checkpoints of a monitor's open window, so that a restart replays only the spool records written after one.

A checkpoint file is `MAGIC`, the SHA-256 of the rest, then an Arrow IPC stream: its schema is the monitor's
spool schema with the header (JSON) in its metadata, its batches the window's rows (a tumbling window's sample
in slot order, or a sliding window's kept rows, one batch per arrival). Any damage fails the digest; a file
that does not match the monitor (another reference version, other features or window settings) is stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from driftwatch.config import WindowSettings
from driftwatch.errors import DriftwatchError
from driftwatch.live.rowbatch import COUNT_COLUMNS, RowShaper
from driftwatch.live.spool import Resume
from driftwatch.live.window import SlidingBatch, sample_of, window_start

MAGIC = b"DWCKPT1\n"
_DIGEST = hashlib.sha256().digest_size
_HEADER_KEY = b"driftwatch.checkpoint"
WindowKind = Literal["tumbling", "sliding"]


class CheckpointError(DriftwatchError, ValueError):
    """A checkpoint that cannot be used; `stale` when it is intact but was taken under other settings."""

    def __init__(self, reason: str, *, stale: bool = False):
        self.reason = reason
        self.stale = stale
        super().__init__(reason)


@dataclass(frozen=True)
class Checkpoint:
    """One window's state at one spool position.

    `batches` are the sample's parts with `slots` mapping slot -> row (a tumbling window being taken), or the
    rows themselves in order (`slots` None: a loaded sample, or a sliding window's batches).
    """

    monitor: str
    reference_version: str
    features: list[tuple[str, str]]
    window: WindowKind
    start: float | None  # a tumbling window's start
    length: float  # a tumbling window's duration in seconds, a sliding window's size in rows
    capacity: int
    rows: int
    rejected: int
    unknown_columns: int
    counts: np.ndarray  # the tumbling window's count matrix (live/rowbatch.py)
    seen: int
    rng: dict[str, Any]
    sources: list[str]
    resume: Resume
    taken_at: float
    batches: list[pa.RecordBatch]
    slots: np.ndarray | None = None
    arrivals: list[tuple[float, Any, str | None]] = field(default_factory=list)  # sliding: (at, counts, source)
    alpha_spent: float = 0.0  # tumbling: share of the window's alpha its looks took (checks/looks.py)
    counting: str = ""  # the OOD rules the rows were counted under (RowShaper.counting)

    def sliding_batches(self) -> list[SlidingBatch]:
        """A sliding window's batches as the window keeps them."""
        pairs = zip(self.arrivals, self.batches, strict=True)
        return [(at, b, np.array(c, dtype=np.int64), src) for (at, c, src), b in pairs]

    def mismatch(self, shaper: RowShaper, settings: WindowSettings) -> str | None:
        """Why this checkpoint does not describe a window of this monitor as configured now, or None."""
        profile = shaper.profile
        if self.reference_version != profile.version:
            return f"taken with reference version {self.reference_version}, now {profile.version}"
        if self.features != identity_of(shaper)["features"]:
            return "taken with other features"
        if self.counting != shaper.counting:
            return "taken with other OOD rules"
        length = settings.duration if settings.type == "tumbling" else float(settings.rows)
        if self.window == "tumbling" and self.start is not None:
            # A window a reload began runs from the reload to the end of its aligned period.
            length = window_start(self.start, settings.duration) + settings.duration - self.start
        if (self.window, self.capacity) != (settings.type, settings.max_sample_rows) or not math.isclose(
            self.length, length
        ):
            return "taken with other window settings"
        return None


def identity_of(shaper: RowShaper) -> dict[str, Any]:
    """What a checkpoint's counts depend on besides the reference version: the features and the OOD rules."""
    return {"features": [(f.name, f.kind.value) for f in shaper.profile.features], "counting": shaper.counting}


class _Resume(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: str
    seq: int = Field(ge=0)
    records: int = Field(ge=0)
    segments: list[tuple[int, int, int, float]]


class _Header(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal[1]
    monitor: str
    reference_version: str
    features: list[tuple[str, str]]
    window: WindowKind
    start: float | None
    length: float = Field(gt=0)
    capacity: int = Field(ge=1)
    rows: int = Field(ge=0)
    rejected: int = Field(ge=0)
    unknown_columns: int = Field(ge=0)
    counts: list[list[int]]
    seen: int = Field(ge=0)
    rng: dict[str, Any]
    sources: list[str]
    resume: _Resume
    taken_at: float
    arrivals: list[tuple[float, list[list[int]], str | None]]
    alpha_spent: float = Field(default=0.0, ge=0, le=1)
    counting: str = ""


def save_checkpoint(cp: Checkpoint, path: Path, schema: pa.Schema, *, fsync: bool) -> int:
    """Write `cp` to `path` atomically (a temporary file renamed over it); returns the bytes written."""
    batches = sample_of(cp.batches, cp.slots, schema).to_batches() if cp.slots is not None else cp.batches
    resume = cp.resume
    header = _Header(
        format=1,
        monitor=cp.monitor,
        reference_version=cp.reference_version,
        features=cp.features,
        window=cp.window,
        start=cp.start,
        length=cp.length,
        capacity=cp.capacity,
        rows=cp.rows,
        rejected=cp.rejected,
        unknown_columns=cp.unknown_columns,
        counts=cp.counts.tolist(),
        seen=cp.seen,
        rng=cp.rng,
        sources=sorted(cp.sources),
        resume=_Resume(
            tag=resume.tag,
            seq=resume.seq,
            records=resume.records,
            segments=[(seq, *info) for seq, info in sorted(resume.segments.items())],
        ),
        taken_at=cp.taken_at,
        alpha_spent=cp.alpha_spent,
        counting=cp.counting,
        arrivals=[(at, np.asarray(c).tolist(), src) for at, c, src in cp.arrivals],
    )
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, schema.with_metadata({_HEADER_KEY: header.model_dump_json()})) as writer:
        for batch in batches:
            writer.write_batch(batch)
    body = sink.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for part in (MAGIC, hashlib.sha256(body).digest(), body):
                view = memoryview(part)
                while view:
                    view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    if fsync:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return len(MAGIC) + _DIGEST + body.size


def load_checkpoint(path: Path, schema: pa.Schema) -> Checkpoint:
    """Read and verify a checkpoint; raises CheckpointError (or OSError, e.g. none there) when it is unusable."""
    data = path.read_bytes()
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _DIGEST:
        raise CheckpointError("not a checkpoint file (bad magic or too short)")
    digest, body = data[len(MAGIC) : len(MAGIC) + _DIGEST], data[len(MAGIC) + _DIGEST :]
    if hashlib.sha256(body).digest() != digest:
        raise CheckpointError("its digest does not match: the file is damaged")
    try:
        reader = ipc.open_stream(pa.py_buffer(body))
        meta = reader.schema.metadata or {}
        header = _Header.model_validate_json(meta.get(_HEADER_KEY, b""))
        batches = []
        for batch in reader:
            batch.validate(full=True)
            batches.append(batch)
    except (pa.ArrowException, ValidationError, ValueError) as exc:
        raise CheckpointError(f"unreadable: {type(exc).__name__}: {exc}") from None
    if not reader.schema.remove_metadata().equals(schema):
        raise CheckpointError("its columns are not the monitor's", stale=True)
    cp = Checkpoint(
        monitor=header.monitor,
        reference_version=header.reference_version,
        features=list(header.features),
        window=header.window,
        start=header.start,
        length=header.length,
        capacity=header.capacity,
        rows=header.rows,
        rejected=header.rejected,
        unknown_columns=header.unknown_columns,
        counts=np.array(header.counts, dtype=np.int64),
        seen=header.seen,
        rng=header.rng,
        sources=header.sources,
        resume=Resume(
            header.resume.tag,
            header.resume.seq,
            header.resume.records,
            {seq: (records, rows, last_at) for seq, records, rows, last_at in header.resume.segments},
        ),
        taken_at=header.taken_at,
        alpha_spent=header.alpha_spent,
        counting=header.counting,
        batches=batches,
        arrivals=header.arrivals,
    )
    _check_consistent(cp, len(schema) - 1)
    return cp


def _check_consistent(cp: Checkpoint, n_features: int) -> None:
    """Refuse a checkpoint whose parts contradict each other (one that passed the digest was written so)."""
    rows = sum(b.num_rows for b in cp.batches)
    if cp.window == "tumbling":
        ok = (
            cp.start is not None
            and cp.seen == cp.rows
            and rows == min(cp.seen, cp.capacity)
            and cp.counts.shape == (n_features + 1, COUNT_COLUMNS)
            and not cp.arrivals
            and bool((cp.counts >= 0).all() and (cp.counts <= cp.rows).all())
        )
    else:
        ok = len(cp.arrivals) == len(cp.batches) and rows == cp.rows and rows <= cp.length
        ok = ok and all(np.array(c).shape == (n_features + 1, COUNT_COLUMNS) for _, c, _ in cp.arrivals)
    if not ok:
        raise CheckpointError("its parts contradict each other")
    try:
        np.random.Generator(np.random.PCG64()).bit_generator.state = cp.rng
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"its random generator state is invalid: {exc}") from None
