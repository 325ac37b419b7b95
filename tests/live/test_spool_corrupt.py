"""No spool content can crash a restore, and a write that fails leaves the segment whole.

Each case is replayed in a child process, so that a crash in native code (SIGSEGV) fails the test instead of
taking pytest down with it.
"""

from __future__ import annotations

import errno
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from driftwatch.errors import DiskFullError
from driftwatch.live.spool import Spool

SCHEMA = pa.schema([("x", pa.float64()), ("c", pa.string()), ("__type_errors", pa.string())])
REPLAY = """
import json, sys
from pathlib import Path
import pyarrow as pa
from driftwatch.live.spool import Spool
schema = pa.schema([("x", pa.float64()), ("c", pa.string()), ("__type_errors", pa.string())])
spool = Spool(Path(sys.argv[1]), schema)
rows = sum(r.batch.num_rows for r in spool.replay())
print(json.dumps({"rows": rows, "corrupt": spool.corrupt_segments, "torn": spool.torn_records}))
"""


def _batch(start: int, n: int) -> pa.RecordBatch:
    return pa.record_batch(
        [
            pa.array([float(i) for i in range(start, start + n)]),
            pa.array([f"cat-{i % 7}" for i in range(start, start + n)]),
            pa.nulls(n, pa.string()),
        ],
        schema=SCHEMA,
    )


def _good_segment(folder: Path, batches: int = 6, rows: int = 50) -> Path:
    spool = Spool(folder, SCHEMA)
    for i in range(batches):
        spool.append(_batch(i * rows, rows), at=1.0 + i, tag="w0")
    spool.close()
    (seg,) = spool.segments
    return seg.path


def _replay_in_child(folder: Path) -> dict[str, int]:
    proc = subprocess.run([sys.executable, "-c", REPLAY, str(folder)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"replay exited {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _mutations(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    cases = [
        ("empty", b""),
        ("garbage", bytes(rng.randrange(256) for _ in range(4096))),
        ("zeros", bytes(len(data))),
        ("header only, torn", data[:20]),
    ]
    for cut in sorted(rng.sample(range(8, len(data)), 12)):
        cases.append((f"truncated at {cut}", data[:cut]))
    for k in range(24):
        flipped = bytearray(data)
        for pos in rng.sample(range(len(data)), 1 + k % 8):
            flipped[pos] = rng.randrange(256)
        cases.append((f"{1 + k % 8} bytes overwritten #{k}", bytes(flipped)))
    for _ in range(6):
        start = rng.randrange(8, len(data) - 64)
        noise = bytes(rng.randrange(256) for _ in range(64))
        cases.append((f"64 random bytes at {start}", data[:start] + noise + data[start + 64 :]))
    return cases


def test_no_segment_content_crashes_restore(tmp_path: Path) -> None:
    data = _good_segment(tmp_path / "source").read_bytes()
    cases = _mutations(data, random.Random(8))
    # All cases in one spool folder (one child process): each is a segment of its own, followed by a good one.
    folder = tmp_path / "spool"
    folder.mkdir()
    for seq, (_, content) in enumerate(cases, start=1):
        (folder / f"{seq:010d}-w{seq}.arrow").write_bytes(content)
    (folder / f"{len(cases) + 1:010d}-wlast.arrow").write_bytes(data)
    result = _replay_in_child(folder)
    # The good segment always comes back whole; a broken one is either set aside or read up to its damage.
    assert result["rows"] >= 300
    assert result["corrupt"] >= 4  # at least empty, garbage, zeros and the torn header
    assert result["corrupt"] + result["torn"] >= len([c for c in cases if c[1] != data]) // 2
    aside = sorted(p.name for p in folder.glob("*.corrupt"))
    assert len(aside) == result["corrupt"]
    # Set aside means never replayed again: a second restore finds the same rows, nothing more to set aside.
    again = _replay_in_child(folder)
    assert again["corrupt"] == 0 and again["rows"] == result["rows"]


@pytest.mark.parametrize("cut", [9, 100, 333])
def test_truncated_segment_keeps_whole_records(tmp_path: Path, cut: int) -> None:
    path = _good_segment(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut])
    result = _replay_in_child(tmp_path)
    assert result["corrupt"] == 0 and result["torn"] == 1
    assert result["rows"] == 250  # the last of six 50-row records is torn


class _FullDisk:
    """os.write failing with ENOSPC after `budget` bytes, as a filling file system does (a short write, then errors)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, budget: int):
        self.budget = budget
        self._write = os.write
        monkeypatch.setattr(os, "write", self)

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = self._write(fd, bytes(data[: self.budget]))
        self.budget -= n
        return n


def test_failed_write_is_cut_off_and_spooling_recovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = Spool(tmp_path, SCHEMA)
    spool.append(_batch(0, 100), at=1.0, tag="w0")
    size = spool.segments[0].path.stat().st_size
    disk = _FullDisk(monkeypatch, budget=500)  # the next record is larger: a short write, then ENOSPC
    with pytest.raises(DiskFullError) as info:
        spool.append(_batch(100, 100), at=2.0, tag="w0")
    assert "No space left on device" in str(info.value) and str(tmp_path) in str(info.value)
    assert spool.segments[0].path.stat().st_size == size  # the partial record is gone
    assert spool.write_errors == 1 and spool.write_error is not None
    # Still full: opening a new segment fails too, and leaves no empty file behind.
    with pytest.raises(DiskFullError):
        spool.append(_batch(100, 100), at=2.0, tag="w0")
    assert len(list(tmp_path.glob("*.arrow"))) == 1
    assert spool.probe() is not None and spool.write_errors == 2
    disk.budget = 10**9  # space is back
    assert spool.probe() is None and spool.write_error is None
    spool.append(_batch(200, 100), at=3.0, tag="w0")
    spool.append(_batch(300, 100), at=4.0, tag="w0")
    # No close: as after kill -9. Every acknowledged record replays; the refused ones do not.
    again = Spool(tmp_path, SCHEMA)
    values = [v for r in again.replay() for v in r.batch.column(0).to_pylist()]
    assert values == [float(i) for i in range(100)] + [float(i) for i in range(200, 400)]
    assert again.torn_records == 0 and again.corrupt_segments == 0


def test_failed_fsync_refuses_the_append(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = Spool(tmp_path, SCHEMA, durability="fsync")
    spool.append(_batch(0, 10), at=1.0, tag="w0")

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(DiskFullError):
        spool.append(_batch(10, 10), at=2.0, tag="w0")
    assert spool.write_errors == 1
