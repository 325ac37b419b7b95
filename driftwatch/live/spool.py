"""The on-disk spool: every accepted row is appended here before it is acknowledged, and replayed after a crash."""

from __future__ import annotations

import contextlib
import io
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

from driftwatch.errors import DiskFullError
from driftwatch.live.rowbatch import conform_rows

log = logging.getLogger(__name__)

Durability = Literal["process", "fsync"]
_SEGMENT = re.compile(r"^(\d{10})-([A-Za-z0-9_.-]+)\.arrow$")
# A segment is closed and a new one opened past this size, so pruning can free space in steps.
SEGMENT_BYTES = 64 * 1024 * 1024
# A segment that cannot be read is renamed with this suffix: kept for inspection, never replayed again.
CORRUPT_SUFFIX = ".corrupt"
# After a failed write, readiness probes for space with a file of the failed write's size, within these bounds.
PROBE_MIN_BYTES = 64 * 1024
PROBE_MAX_BYTES = 4 * 1024 * 1024


@dataclass
class Segment:
    """One Arrow IPC stream file of the spool."""

    path: Path
    seq: int
    tag: str
    rows: int = 0
    last_at: float = 0.0
    records: int | None = 0  # None: not read (yet), so a checkpoint cannot point into or past it


@dataclass(frozen=True)
class Resume:
    """Where a checkpoint of a window stops: every record of `tag` up to the first `records` of segment `seq`.

    `segments` keeps (records, rows, last_at) of the tag's segments up to `seq` as they were then, so that a
    replay that skips them still knows what they hold (a sliding window prunes segments by their last row).
    """

    tag: str
    seq: int
    records: int
    segments: dict[int, tuple[int, int, float]]


@dataclass(frozen=True)
class SpoolRecord:
    """One appended batch and what was recorded with it."""

    batch: pa.RecordBatch
    at: float
    rejected: int
    unknown_columns: int
    tag: str
    source: str | None = None
    seq: int = 0


class Spool:
    """Append-only Arrow IPC segments under one folder, durable per `durability` when `append` returns.

    `process` writes each batch to the OS before returning (it survives the process being killed); `fsync`
    also waits for the data to reach the disk, with one fsync covering every append that arrived meanwhile
    (group commit), so concurrent requests do not queue behind each other's fsyncs.

    Each record is encoded in memory and written with plain `os.write`: a write that fails (disk full, read-only)
    is cut off the segment again and the segment closed, so the file always ends on a whole record.
    """

    def __init__(self, folder: Path, schema: pa.Schema, durability: Durability = "process"):
        self.folder = folder
        self.schema = schema
        self.durability = durability
        self.torn_records = 0
        self.corrupt_segments = 0  # set aside at replay
        self.write_errors = 0
        self.write_error: str | None = None  # why the latest write failed; None once a write or probe succeeds
        self._cause: OSError | None = None
        self._failed_bytes = 0
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._synced = threading.Condition(self._lock)
        self._segments = self._scan()
        self._fd: int | None = None
        self._size = 0  # bytes of the open segment that hold whole records
        self._sink = io.BytesIO()
        self._writer: ipc.RecordBatchStreamWriter | None = None
        self._current: Segment | None = None
        self._written = 0  # appends written to the OS
        self._durable = 0  # appends known to be on disk
        self._syncing = False
        self.replay_bytes = 0  # bytes of the segments the running replay reads, and how many of them it has read
        self.replayed_bytes = 0

    def _scan(self) -> list[Segment]:
        segments = []
        for p in sorted(self.folder.iterdir()):
            m = _SEGMENT.match(p.name)
            if m:
                segments.append(Segment(p, int(m.group(1)), m.group(2), records=None))
        return segments

    def replay(self, resume: Resume | None = None) -> Iterator[SpoolRecord]:
        """Every record of the existing segments in order (after `resume`'s position); a torn record ends its segment.

        No content can crash the process: a segment is read from a copy in memory, every batch is fully validated,
        and a segment with no readable record is renamed `*.corrupt`, counted and logged.
        """
        todo = []
        for seg in list(self._segments):
            if resume is not None and seg.tag == resume.tag and seg.seq < resume.seq:
                # Held by the checkpoint whole: not read. Unknown to it: not counted, so never pruned by rows.
                seg.records, seg.rows, seg.last_at = resume.segments.get(seg.seq, (None, 0, 0.0))
            else:
                todo.append(seg)
        self.replay_bytes = sum(_size(seg.path) for seg in todo)
        self.replayed_bytes = 0
        for seg in todo:
            skip = resume.records if resume is not None and (seg.tag, seg.seq) == (resume.tag, resume.seq) else 0
            yield from self._replay_segment(seg, skip)

    def _replay_segment(self, seg: Segment, skip: int) -> Iterator[SpoolRecord]:
        seg.rows, seg.records, seg.last_at = 0, 0, 0.0
        done = self.replayed_bytes
        records = 0
        try:
            source = pa.BufferReader(pa.py_buffer(seg.path.read_bytes()))
            reader = ipc.open_stream(source)
            while True:
                try:
                    item = reader.read_next_batch_with_custom_metadata()
                except StopIteration:
                    break
                meta = {k.decode(): v.decode() for k, v in (item.custom_metadata or {}).items()}
                at = float(meta.get("at", 0.0))
                records += 1
                seg.records = records
                seg.rows += item.batch.num_rows
                seg.last_at = max(seg.last_at, at)
                self.replayed_bytes = done + source.tell()
                if records <= skip:  # in the checkpoint already
                    continue
                item.batch.validate(full=True)
                batch = conform_rows(item.batch, self.schema)  # written under an older reference
                rejected, unknown = int(meta.get("rejected", 0)), int(meta.get("unknown", 0))
                yield SpoolRecord(batch, at, rejected, unknown, seg.tag, meta.get("source"), seg.seq)
        except Exception as exc:  # any Arrow, decoding or I/O error: this segment's remaining bytes are lost
            if records:
                log.warning("torn spool record dropped", extra={"segment": seg.path.name, "error": str(exc)})
                self.torn_records += 1
            else:
                self._set_aside(seg, exc)
        if records < skip:
            log.warning(
                "spool segment holds fewer records than its checkpoint counted: the checkpoint's rows are kept",
                extra={"segment": seg.path.name, "records": records, "checkpoint_records": skip},
            )
        self.replayed_bytes = done + _size(seg.path)

    def _set_aside(self, seg: Segment, exc: Exception) -> None:
        aside = seg.path.with_name(seg.path.name + CORRUPT_SUFFIX)
        try:
            seg.path.replace(aside)
        except OSError as err:
            log.error(
                "unreadable spool segment could not be renamed", extra={"segment": seg.path.name, "error": str(err)}
            )
        log.error(
            "unreadable spool segment set aside",
            extra={"segment": seg.path.name, "renamed_to": aside.name, "error": str(exc)},
        )
        self.corrupt_segments += 1
        with self._lock:
            self._segments = [s for s in self._segments if s is not seg]

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
            if self._current is None or self._current.tag != tag or self._size > SEGMENT_BYTES:
                while self._syncing:  # never close a file another thread is fsyncing
                    self._synced.wait()
                self._open(tag)
            assert self._writer is not None and self._current is not None
            self._writer.write_batch(batch, custom_metadata=meta)
            self._emit()
            self._current.rows += batch.num_rows
            if self._current.records is not None:
                self._current.records += 1
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
            if self._fd is None:  # closed since: _close_writer fsynced everything written
                self._durable = self._written
                break
            self._syncing = True
            target = self._written
            fd = self._fd
            error: OSError | None = None
            self._lock.release()
            try:
                os.fsync(fd)
            except OSError as exc:
                error = exc
            finally:
                self._lock.acquire()
                self._syncing = False
                self._synced.notify_all()
            if error is not None:
                raise self._failed(error, 0) from error
            self._durable = max(self._durable, target)
            self._synced.notify_all()

    def _open(self, tag: str) -> None:
        self._close_writer()
        seq = (self._segments[-1].seq + 1) if self._segments else 1
        path = self.folder / f"{seq:010d}-{tag}.arrow"
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            raise self._failed(exc, 0) from exc
        self._size = 0
        self._sink = io.BytesIO()
        self._writer = ipc.new_stream(self._sink, self.schema)
        self._current = Segment(path, seq, tag)
        self._segments.append(self._current)
        self._emit()  # the schema message, when the writer sends it before the first record
        if self.durability == "fsync":
            try:
                _fsync_dir(self.folder)
            except OSError as exc:
                raise self._failed(exc, 0) from exc

    def _emit(self) -> None:
        """Write what the IPC writer produced to the open segment; on failure cut it off again and close it."""
        data = self._sink.getvalue()
        if not data:
            return
        self._sink.seek(0)
        self._sink.truncate()
        assert self._fd is not None
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            if self._size == 0 and self._current is not None:  # not even the schema: no segment to keep
                self._current.path.unlink(missing_ok=True)
                self._segments = [s for s in self._segments if s is not self._current]
            raise self._failed(exc, len(data)) from exc
        self._size += len(data)
        if self.write_error is not None:
            log.info("spool writable again", extra={"segment": self._current.path.name if self._current else ""})
        self.write_error = None

    def _failed(self, exc: OSError, size: int) -> DiskFullError:
        """Count a failed write, close the open segment (the next append starts a new one) and say why."""
        self.write_errors += 1
        self._failed_bytes = size
        error = DiskFullError(str(self.folder), exc)
        if self.write_error is None:
            log.error("spool write failed: rows refused until it succeeds", extra={"error": error.reason})
        self.write_error = error.reason
        self._cause = exc
        self._drop_writer()
        return error

    def check_writable(self) -> None:
        """Raise DiskFullError while writes fail: for intake that acknowledges before it spools (CloudEvents)."""
        cause = self._cause
        if self.probe() is not None and cause is not None:
            raise DiskFullError(str(self.folder), cause)

    def probe(self) -> str | None:
        """After a failed write, try a write of its size; returns the reason writes still fail, or None."""
        if self.write_error is None:
            return None
        size = min(max(self._failed_bytes, PROBE_MIN_BYTES), PROBE_MAX_BYTES)
        path = self.folder / ".probe"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, bytes(size))
            finally:
                os.close(fd)
                path.unlink(missing_ok=True)
        except OSError as exc:
            return exc.strerror or type(exc).__name__
        with self._lock:
            self.write_error = None
        return None

    def _drop_writer(self) -> None:
        """Close the open segment without an end-of-stream marker: it ends on a whole record, which replays."""
        while self._syncing:  # never close a file another thread is fsyncing
            self._synced.wait()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
        self._writer = None
        self._current = None

    def _close_writer(self) -> None:
        if self._writer is not None and self._fd is not None:
            try:
                self._writer.close()
                self._emit()  # the end-of-stream marker
                if self.durability == "fsync":
                    os.fsync(self._fd)
                    self._durable = self._written
            except (DiskFullError, OSError) as exc:
                log.warning("spool segment closed without its end marker", extra={"error": str(exc)})
            if self._fd is not None:
                os.close(self._fd)
        self._writer = None
        self._fd = None
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

    def reshape(self, schema: pa.Schema) -> None:
        """Write later appends in `schema` (a new reference) to a new segment; replay conforms older ones."""
        self.seal()
        with self._lock:
            self.schema = schema

    def flush(self) -> None:
        """Force everything written so far to disk."""
        with self._lock:
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    raise self._failed(exc, 0) from exc
                self._durable = self._written

    def resume_point(self, tag: str) -> Resume | None:
        """The position after the last record of `tag` appended so far, for a checkpoint; None when unknown."""
        with self._lock:
            mine = [s for s in self._segments if s.tag == tag]
            if not mine or any(s.records is None for s in mine):
                return None
            last = mine[-1]
            assert last.records is not None
            known = {s.seq: (s.records or 0, s.rows, s.last_at) for s in mine}
            return Resume(tag, last.seq, last.records, known)

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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
