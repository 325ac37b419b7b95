"""Where the window sample a check judged is kept: one Parquet file per check, redacted, beside the history."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def sample_path(data_dir: Path, monitor: str, started_at: float, trigger: str) -> Path:
    """The file of the sample of the check of `monitor` that started at `started_at` (epoch seconds) by `trigger`.

    A check is named by what identifies it in the history (monitor, start, trigger), so its sample can be written
    before the check has an id: while the database is unreachable, a check waits in the outbox without one.
    """
    return Path(data_dir) / "samples" / monitor / f"{round(started_at * 1000)}-{trigger}.parquet"


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
