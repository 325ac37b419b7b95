"""The spool: records come back in order after a restart; a torn tail is dropped, not fatal; fsync groups commits."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa

from driftwatch.live.spool import Spool

SCHEMA = pa.schema([("x", pa.float64()), ("__type_errors", pa.string())])


def _batch(start: int, n: int) -> pa.RecordBatch:
    return pa.record_batch(
        [pa.array([float(i) for i in range(start, start + n)]), pa.nulls(n, pa.string())], schema=SCHEMA
    )


def test_replay_returns_every_record_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path, SCHEMA)
    for i in range(5):
        spool.append(_batch(i * 10, 10), at=100.0 + i, tag="w100", rejected=i, source=f"f{i}" if i == 2 else None)
    spool.append(_batch(50, 3), at=200.0, tag="w200")
    spool.close()
    records = list(Spool(tmp_path, SCHEMA).replay())
    assert [r.batch.num_rows for r in records] == [10, 10, 10, 10, 10, 3]
    assert [r.rejected for r in records] == [0, 1, 2, 3, 4, 0]
    assert [r.tag for r in records] == ["w100"] * 5 + ["w200"]
    assert records[2].source == "f2" and records[0].source is None
    values = pa.concat_arrays([r.batch.column(0) for r in records]).to_pylist()
    assert values == [float(i) for i in range(53)]


def test_torn_last_record_is_dropped_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, SCHEMA)
    for i in range(4):
        spool.append(_batch(i * 100, 100), at=1.0, tag="w0")
    # A process killed mid-write leaves a partial record at the end of the open segment.
    seg = spool.segments[-1].path
    size = seg.stat().st_size
    with seg.open("r+b") as fh:
        fh.truncate(size - 50)
    again = Spool(tmp_path, SCHEMA)
    records = list(again.replay())
    assert [r.batch.num_rows for r in records] == [100, 100, 100]
    assert again.torn_records == 1
    # Appending after a torn segment starts a new one; both replay.
    again.append(_batch(1000, 7), at=2.0, tag="w0")
    again.close()
    assert sum(r.batch.num_rows for r in Spool(tmp_path, SCHEMA).replay()) == 307


def test_garbage_segment_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "0000000001-w0.arrow").write_bytes(b"not arrow at all")
    spool = Spool(tmp_path, SCHEMA)
    assert list(spool.replay()) == []
    assert spool.corrupt_segments == 1
    assert (tmp_path / "0000000001-w0.arrow.corrupt").exists()
    spool.append(_batch(0, 5), at=1.0, tag="w0")
    spool.close()
    assert sum(r.batch.num_rows for r in Spool(tmp_path, SCHEMA).replay()) == 5


def test_prune_and_rotation(tmp_path: Path) -> None:
    spool = Spool(tmp_path, SCHEMA)
    spool.append(_batch(0, 5), at=1.0, tag="w1")
    spool.append(_batch(5, 5), at=2.0, tag="w2")
    assert [s.tag for s in spool.segments] == ["w1", "w2"]
    assert spool.prune(lambda seg: seg.tag == "w1") == 1
    assert spool.prune(lambda seg: seg.tag == "w2") == 0  # the open segment is never deleted
    spool.close()
    assert [r.tag for r in Spool(tmp_path, SCHEMA).replay()] == ["w2"]


def test_schema_change_is_conformed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, SCHEMA)
    spool.append(_batch(0, 3), at=1.0, tag="w0")
    spool.close()
    wider = pa.schema([("x", pa.float64()), ("y", pa.string()), ("__type_errors", pa.string())])
    (record,) = Spool(tmp_path, wider).replay()
    assert record.batch.schema == wider
    assert record.batch.column(1).null_count == 3


def test_fsync_group_commit_is_safe_under_concurrency(tmp_path: Path) -> None:
    spool = Spool(tmp_path, SCHEMA, durability="fsync")

    def writer(k: int) -> None:
        for i in range(25):
            spool.append(_batch(k * 1000 + i, 1), at=float(i), tag="w0")

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spool.close()
    assert sum(r.batch.num_rows for r in Spool(tmp_path, SCHEMA).replay()) == 200
