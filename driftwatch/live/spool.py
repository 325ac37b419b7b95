"""The on-disk spool: every accepted row is appended here before it is acknowledged, and replayed after a crash."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.ipc as ipc

log = logging.getLogger(__name__)

Durability = Literal["process", "fsync"]
_SEGMENT = re.compile(r"^(\d{10})-([A-Za-z0-9_.-]+)\.arrow$")
# A segment is closed and a new one opened past this size, so pruning can free space in steps.
SEGMENT_BYTES = 64 * 1024 * 1024


@dataclass
class Segment:
    """One Arrow IPC stream file of the spool."""

    path: Path
    seq: int
    tag: str
    rows: int = 0
    last_at: float = 0.0


@dataclass(frozen=True)
class SpoolRecord:
    """One appended batch and what was recorded with it."""

    batch: pa.RecordBatch
    at: float
    rejected: int
    unknown_columns: int
    tag: str
    source: str | None = None


class Spool:
    """Append-only Arrow IPC segments under one folder, durable per `durability` when `append` returns.

    `process` writes each batch to the OS before returning (it survives the process being killed); `fsync`
    also waits for the data to reach the disk, with one fsync covering every append that arrived meanwhile
    (group commit), so concurrent requests do not queue behind each other's fsyncs.
    """

    def __init__(self, folder: Path, schema: pa.Schema, durability: Durability = "process"):
        self.folder = folder
        self.schema = schema
        self.durability = durability
        self.torn_records = 0
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._synced = threading.Condition(self._lock)
        self._segments = self._scan()
        self._file: pa.NativeFile | None = None
        self._writer: ipc.RecordBatchStreamWriter | None = None
        self._current: Segment | None = None
        self._written = 0  # appends written to the OS
        self._durable = 0  # appends known to be on disk
        self._syncing = False

    def _scan(self) -> list[Segment]:
        segments = []
        for p in sorted(self.folder.iterdir()):
            m = _SEGMENT.match(p.name)
            if m:
                segments.append(Segment(p, int(m.group(1)), m.group(2)))
        return segments

    def replay(self) -> Iterator[SpoolRecord]:
        """Every record of the existing segments in order; a torn record ends its segment and is counted."""
        for seg in list(self._segments):
            seg.rows = 0
            try:
                reader = ipc.open_stream(pa.memory_map(str(seg.path)))
            except (pa.ArrowInvalid, OSError) as exc:
                log.warning("unreadable spool segment skipped", extra={"segment": seg.path.name, "error": str(exc)})
                self.torn_records += 1
                continue
            while True:
                try:
                    item = reader.read_next_batch_with_custom_metadata()
                except StopIteration:
                    break
                except (pa.ArrowInvalid, OSError) as exc:
                    log.warning("torn spool record dropped", extra={"segment": seg.path.name, "error": str(exc)})
                    self.torn_records += 1
                    break
                meta = {k.decode(): v.decode() for k, v in (item.custom_metadata or {}).items()}
                batch = _conform(item.batch, self.schema)
                at = float(meta.get("at", 0.0))
                seg.rows += batch.num_rows
                seg.last_at = max(seg.last_at, at)
                rejected, unknown = int(meta.get("rejected", 0)), int(meta.get("unknown", 0))
                yield SpoolRecord(batch, at, rejected, unknown, seg.tag, meta.get("source"))

    def append(
        self,
        batch: pa.RecordBatch,
        *,
        at: float,
        tag: str,
        rejected: int = 0,
        unknown: int = 0,
        source: str | None = None,
        wait: bool = True,
    ) -> int:
        """Write one batch and return its ticket; with `wait`, return once it is as durable as configured.

        Callers holding their own lock pass `wait=False` and call `wait_durable(ticket)` after releasing it,
        so that concurrent appends can share one fsync.
        """
        meta = {"at": repr(at), "rejected": str(rejected), "unknown": str(unknown)}
        if source is not None:
            meta["source"] = source
        with self._lock:
            if self._current is None or self._current.tag != tag or self._file.tell() > SEGMENT_BYTES:  # type: ignore[union-attr]
                while self._syncing:  # never close a file another thread is fsyncing
                    self._synced.wait()
                self._open(tag)
            assert self._writer is not None and self._current is not None
            self._writer.write_batch(batch, custom_metadata=meta)
            self._current.rows += batch.num_rows
            self._current.last_at = max(self._current.last_at, at)
            self._written += 1
            ticket = self._written
            if wait and self.durability == "fsync":
                self._wait_durable(ticket)
            return ticket

    def wait_durable(self, ticket: int) -> None:
        """Return once the append with `ticket` is as durable as configured."""
        if self.durability != "fsync":
            return
        with self._lock:
            self._wait_durable(ticket)

    def _wait_durable(self, ticket: int) -> None:
        while self._durable < ticket:
            if self._syncing:
                self._synced.wait()
                continue
            if self._file is None:  # closed since: _close_writer fsynced everything written
                self._durable = self._written
                break
            self._syncing = True
            target = self._written
            fd = self._file.fileno()
            self._lock.release()
            try:
                os.fsync(fd)
            finally:
                self._lock.acquire()
                self._syncing = False
            self._durable = max(self._durable, target)
            self._synced.notify_all()

    def _open(self, tag: str) -> None:
        self._close_writer()
        seq = (self._segments[-1].seq + 1) if self._segments else 1
        path = self.folder / f"{seq:010d}-{tag}.arrow"
        # Unbuffered OS file: each write_batch reaches the kernel before append returns.
        self._file = pa.OSFile(str(path), "wb")
        self._writer = ipc.new_stream(self._file, self.schema)
        self._current = Segment(path, seq, tag)
        self._segments.append(self._current)
        if self.durability == "fsync":
            _fsync_dir(self.folder)

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            if self.durability == "fsync":
                os.fsync(self._file.fileno())  # type: ignore[union-attr]
                self._durable = self._written
            self._file.close()  # type: ignore[union-attr]
        self._writer = None
        self._file = None
        self._current = None

    def prune(self, drop: Callable[[Segment], bool]) -> int:
        """Delete closed segments for which `drop` is true; returns how many were deleted."""
        with self._lock:
            keep, gone = [], 0
            for seg in self._segments:
                if seg is not self._current and drop(seg):
                    seg.path.unlink(missing_ok=True)
                    gone += 1
                else:
                    keep.append(seg)
            self._segments = keep
            return gone

    def seal(self) -> None:
        """Close the open segment so that the next append starts a new one (and it can be pruned)."""
        with self._lock:
            while self._syncing:
                self._synced.wait()
            self._close_writer()

    def flush(self) -> None:
        """Force everything written so far to disk."""
        with self._lock:
            if self._file is not None:
                os.fsync(self._file.fileno())
                self._durable = self._written

    @property
    def segments(self) -> list[Segment]:
        with self._lock:
            return list(self._segments)

    def size_bytes(self) -> int:
        """Bytes on disk across all segments."""
        total = 0
        for seg in self.segments:
            with contextlib.suppress(OSError):
                total += seg.path.stat().st_size
        return total

    def close(self) -> None:
        """Flush and close the open segment."""
        self.flush()
        self.seal()


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A batch written under an older feature list, reshaped to the current schema (new features null)."""
    if batch.schema.equals(schema):
        return batch
    cols = []
    for field in schema:
        idx = batch.schema.get_field_index(field.name)
        if idx >= 0 and batch.schema.field(idx).type == field.type:
            cols.append(batch.column(idx))
        else:
            cols.append(pa.nulls(batch.num_rows, field.type))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
