"""Where the window sample a check judged is kept: one Parquet file per check, redacted, beside the history."""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SAMPLES = "samples"
# Left in place of a sample pruned to stay within storage.max_sample_bytes, so its check can say so (0 bytes).
PRUNED = ".pruned"
NEVER_WRITTEN = "never written: a check of the CLI, one stored before samples were kept, or a failed write"


def sample_path(data_dir: Path, monitor: str, started_at: float, trigger: str) -> Path:
    """The file of the sample of the check of `monitor` that started at `started_at` (epoch seconds) by `trigger`.

    A check is named by what identifies it in the history (monitor, start, trigger), so its sample can be written
    before the check has an id: while the database is unreachable, a check waits in the outbox without one.
    """
    return Path(data_dir) / SAMPLES / monitor / f"{round(started_at * 1000)}-{trigger}.parquet"


def write_sample(path: Path, table: pa.Table) -> None:
    """Write a redacted sample atomically: a reader never sees a partial file, a failed write leaves none."""
    tmp = path.with_suffix(".parquet.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def read_sample(path: Path) -> pa.Table | None:
    """The sample, or None when it was never kept or retention has pruned it."""
    try:
        return pq.read_table(path)
    except FileNotFoundError:
        return None


def started_of(path: Path) -> float:
    """The start (epoch seconds) of the check a sample or its pruned marker belongs to; inf for a foreign file."""
    try:
        return int(path.name.split("-", 1)[0]) / 1000
    except ValueError:
        return float("inf")


@dataclass(frozen=True)
class SampleInfo:
    """Whether a check's sample is kept: its rows and path (relative to data_dir) if so, else the reason."""

    kept: bool
    rows: int | None = None
    path: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"kept": self.kept, "rows": self.rows, "path": self.path, "reason": self.reason}


def sample_info(data_dir: Path, monitor: str, started_at: float, trigger: str) -> SampleInfo:
    """What became of the sample of one check (reads the Parquet footer only)."""
    path = sample_path(data_dir, monitor, started_at, trigger)
    try:
        rows = pq.read_metadata(path).num_rows
    except FileNotFoundError:
        if path.with_suffix(PRUNED).exists():
            return SampleInfo(False, reason="pruned to stay within storage.max_sample_bytes")
        return SampleInfo(False, reason=NEVER_WRITTEN)
    except (OSError, pa.ArrowException) as exc:
        return SampleInfo(False, reason=f"unreadable: {exc}")
    return SampleInfo(True, rows, str(path.relative_to(data_dir)))


class SampleFiles:
    """The samples on disk, oldest first, with their total size: pruned by age, and to stay within a byte bound."""

    def __init__(self, data_dir: Path, max_bytes: int):
        self.root = Path(data_dir) / SAMPLES
        self.max_bytes = max_bytes
        self._files: list[tuple[float, str, int]] = []  # (check start, path, bytes)
        self.size_bytes = 0
        self.rescan()

    def rescan(self) -> None:
        """Read what is on disk (at start, and at housekeeping: files may have been removed by hand)."""
        files = []
        for f in self.root.glob("*/*.parquet"):
            try:
                files.append((started_of(f), str(f), f.stat().st_size))
            except FileNotFoundError:
                continue
        self._files = sorted(files)
        self.size_bytes = sum(size for _, _, size in files)

    def added(self, path: Path) -> int:
        """Note a sample just written; prune the oldest while over max_bytes. Returns the files pruned."""
        size = path.stat().st_size
        bisect.insort(self._files, (started_of(path), str(path), size))
        self.size_bytes += size
        return self._bound()

    def prune_older_than(self, cutoff: float) -> int:
        """Delete samples (and pruned markers) of checks started before `cutoff`, as retention deletes the checks."""
        removed = 0
        for f in self.root.glob(f"*/*{PRUNED}"):
            if started_of(f) < cutoff:
                f.unlink(missing_ok=True)
        while self._files and self._files[0][0] < cutoff:
            _, path, size = self._files.pop(0)
            Path(path).unlink(missing_ok=True)
            self.size_bytes -= size
            removed += 1
        return removed + self._bound()

    def _bound(self) -> int:
        pruned = 0
        while self._files and self.size_bytes > self.max_bytes:
            _, path, size = self._files.pop(0)
            p = Path(path)
            with contextlib.suppress(OSError):  # the marker is a courtesy; freeing the space is not
                p.with_suffix(PRUNED).touch()
            p.unlink(missing_ok=True)
            self.size_bytes -= size
            pruned += 1
        return pruned
