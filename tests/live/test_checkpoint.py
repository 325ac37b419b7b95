"""Checkpoints of open windows: a restart replays only the spool after one, and falls back to a full replay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from driftwatch import demo
from driftwatch.config import MonitorConfig, OodSettings
from driftwatch.errors import MonitorRestoringError
from driftwatch.live.checkpoint import MAGIC, CheckpointError, load_checkpoint
from driftwatch.live.monitor import LiveMonitor
from driftwatch.live.window import WindowSnapshot
from driftwatch.reference.profile import build_profile

FEATURES = {"patient_age": "numeric", "heart_rate": "numeric", "channel": "categorical", "insurance": "categorical"}
T0 = 1_800_000_000.0  # a multiple of 600


def _monitor(**window: object) -> MonitorConfig:
    settings = {"type": "tumbling", "duration": "10m", "max_sample_rows": 300, **window}
    return MonitorConfig(name="t", reference={"path": "unused"}, features=FEATURES, window=settings)


def _profile(mon: MonitorConfig, version: str = "v1"):
    return build_profile(demo.reference_table(2000, seed=1), mon, version, "memory")


def _feed(live: LiveMonitor, seeds: range, at: float, rows: int = 40) -> int:
    for s in seeds:
        live.ingest(demo.production_batch(rows, 0.5, seed=s), rejected=s % 3, now=at + s * 0.001)
    return rows * len(seeds)


def _same(a: WindowSnapshot, b: WindowSnapshot) -> None:
    assert (a.start, a.end, a.rows, a.rejected, a.quality) == (b.start, b.end, b.rows, b.rejected, b.quality)
    assert a.rules == b.rules and a.rules is not None and a.rules.rows == a.rows
    assert a.sample.num_rows == b.sample.num_rows
    for name in a.sample.column_names:
        x, y = (t.column(name).to_numpy(zero_copy_only=False) for t in (a.sample, b.sample))
        assert np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else list(x) == list(y), name


def test_checkpoint_plus_tail_restores_the_window_exactly(tmp_path: Path) -> None:
    mon = _monitor()
    prof = _profile(mon)
    live = LiveMonitor(mon, prof, tmp_path, seed=1)
    _feed(live, range(0, 12), T0 + 5)
    assert live.checkpoint(T0 + 6) > 0
    assert live.checkpoint(T0 + 7) == 0  # nothing new since
    _feed(live, range(12, 20), T0 + 8)  # the tail, after the checkpoint; then the process dies (no close)
    original = live.snapshot(T0 + 9)

    again = LiveMonitor(mon, prof, tmp_path, seed=99)
    assert again.restore(T0 + 9) == set()
    p = again.progress
    assert (p.state, p.checkpoint, p.checkpoint_rows, p.replayed_rows) == ("done", "used", 480, 320)
    assert again.counters.restored_rows == 800
    # The checkpoint carries the random generator's state: the sample is the one the first process had.
    _same(again.snapshot(T0 + 9), original)

    full = LiveMonitor(mon, prof, tmp_path, seed=1)
    full.restore(T0 + 9, use_checkpoint=False)
    assert full.progress.replayed_rows == 800
    # One batch per window instead of one per record, with the same random draws: the same sample too.
    _same(full.snapshot(T0 + 9), original)


def test_a_window_that_closed_after_its_checkpoint_closes_again_with_all_its_rows(tmp_path: Path) -> None:
    mon = _monitor()
    prof = _profile(mon)
    live = LiveMonitor(mon, prof, tmp_path, seed=1)
    _feed(live, range(0, 5), T0 + 5)
    live.checkpoint(T0 + 6)
    _feed(live, range(5, 8), T0 + 500)
    _feed(live, range(8, 10), T0 + 605)  # the next window
    again = LiveMonitor(mon, prof, tmp_path, seed=2)
    again.restore(T0 + 700)
    (closed,) = again.take_closed(T0 + 700)
    assert (closed.start, closed.rows, closed.rejected) == (T0, 320, sum(s % 3 for s in range(8)))
    assert again.window_rows() == (80, 80)
    assert again.progress.checkpoint_rows == 200 and again.counters.restored_rows == 400
    kept = again.checkpoint_path.read_bytes()
    again.finish_closed(closed)
    # The judged window's checkpoint goes with its segments: it held its sampled rows as received.
    assert not again.checkpoint_path.exists()
    third = LiveMonitor(mon, prof, tmp_path, seed=3)
    third.restore(T0 + 701)
    assert third.take_closed(T0 + 701) == [] and third.window_rows() == (80, 80)
    assert third.progress.checkpoint == "missing"
    # One left behind (a process killed between the two) is not used again, its rows would count twice: removed.
    third.checkpoint_path.write_bytes(kept)
    fourth = LiveMonitor(mon, prof, tmp_path, seed=4)
    fourth.restore(T0 + 702)
    assert fourth.window_rows() == (80, 80) and fourth.progress.checkpoint.startswith("stale: its window is finished")
    assert not fourth.checkpoint_path.exists()


def _checkpointed(tmp_path: Path) -> tuple[MonitorConfig, LiveMonitor]:
    mon = _monitor()
    live = LiveMonitor(mon, _profile(mon), tmp_path, seed=1)
    _feed(live, range(0, 10), T0 + 5)
    live.close()  # a graceful stop writes the checkpoint
    assert live.checkpoint_path.exists()
    return mon, live


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[: len(b) // 2], "unusable: its digest does not match"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 0x01]), "unusable: its digest does not match"),
        (lambda b: b"garbage" * 10, "unusable: not a checkpoint file"),
        (lambda b: b"", "unusable: not a checkpoint file"),
        (lambda b: MAGIC + bytes(32) + b[40:], "unusable: its digest does not match"),
    ],
)
def test_a_damaged_checkpoint_falls_back_to_a_full_replay(tmp_path: Path, damage, reason: str) -> None:
    mon, live = _checkpointed(tmp_path)
    path = live.checkpoint_path
    path.write_bytes(damage(path.read_bytes()))
    again = LiveMonitor(mon, live.profile, tmp_path, seed=2)
    again.restore(T0 + 6)
    assert again.progress.checkpoint.startswith(reason)
    assert (again.progress.checkpoint_rows, again.progress.replayed_rows) == (0, 400)
    assert again.window_rows()[0] == 400


def test_a_checkpoint_that_verifies_but_contradicts_itself_is_refused(tmp_path: Path) -> None:
    import hashlib

    _, live = _checkpointed(tmp_path)
    data = live.checkpoint_path.read_bytes()
    body = data[len(MAGIC) + 32 :].replace(b'"seen":400', b'"seen":401')
    live.checkpoint_path.write_bytes(MAGIC + hashlib.sha256(body).digest() + body)
    with pytest.raises(CheckpointError, match="contradict"):
        load_checkpoint(live.checkpoint_path, live.shaper.schema)


def test_a_stale_or_missing_checkpoint_falls_back_to_a_full_replay(tmp_path: Path) -> None:
    mon, live = _checkpointed(tmp_path)
    taken = live.checkpoint_path.read_bytes()
    other = LiveMonitor(mon, _profile(mon, version="v2"), tmp_path, seed=2)
    other.restore(T0 + 6)
    assert other.progress.checkpoint == "stale: taken with reference version v1, now v2"
    assert other.progress.replayed_rows == 400
    # A stale checkpoint can never be used: it goes (it holds sampled rows as received).
    assert not live.checkpoint_path.exists()
    live.checkpoint_path.write_bytes(taken)
    wider = _monitor(max_sample_rows=301)
    resized = LiveMonitor(wider, _profile(wider), tmp_path, seed=2)
    resized.restore(T0 + 6)
    assert resized.progress.checkpoint == "stale: taken with other window settings"
    live.checkpoint_path.write_bytes(taken)
    stricter = mon.model_copy(update={"ood": OodSettings(reasons={"out_of_range": {"tolerance": 0.0}})})
    recounted = LiveMonitor(stricter, live.profile, tmp_path, seed=2)
    recounted.restore(T0 + 6)
    assert recounted.progress.checkpoint == "stale: taken with other OOD rules"
    assert recounted.progress.replayed_rows == 400  # every row counted again under the rules in force
    assert not live.checkpoint_path.exists()
    none = LiveMonitor(mon, live.profile, tmp_path, seed=2)
    none.restore(T0 + 6)
    assert (none.progress.checkpoint, none.window_rows()[0]) == ("missing", 400)


def test_sliding_window_checkpoint_plus_tail(tmp_path: Path) -> None:
    mon = _monitor(type="sliding", rows=250, max_sample_rows=100)
    prof = _profile(mon)
    live = LiveMonitor(mon, prof, tmp_path, seed=1)
    _feed(live, range(0, 9), T0, rows=30)
    live.checkpoint(T0 + 1)
    _feed(live, range(9, 13), T0 + 2, rows=30)
    original = live.snapshot(T0 + 3)  # prunes the segments older than the oldest row kept (none yet)
    again = LiveMonitor(mon, prof, tmp_path, seed=7)
    again.restore(T0 + 3)
    assert again.progress.checkpoint == "used" and again.window_rows() == (250, 100)
    assert (again.progress.checkpoint_rows, again.progress.replayed_rows) == (250, 120)
    restored = again.snapshot(T0 + 3)
    _same(restored, original)


def test_sliding_segments_skipped_by_a_checkpoint_are_still_pruned(tmp_path: Path) -> None:
    mon = _monitor(type="sliding", rows=100)
    prof = _profile(mon)
    live = LiveMonitor(mon, prof, tmp_path, seed=1)
    for i in range(3):  # three segments, the last one open
        _feed(live, range(i * 3, i * 3 + 3), T0 + i * 10, rows=20)
        live.spool.seal()
    live.checkpoint(T0 + 30)
    again = LiveMonitor(mon, prof, tmp_path, seed=2)
    again.restore(T0 + 31)
    assert len(again.spool.segments) == 3
    _feed(again, range(20, 25), T0 + 40, rows=20)  # 100 newer rows: every older segment leaves the window
    again.snapshot(T0 + 41)
    assert len(again.spool.segments) == 1


def test_ingest_is_refused_while_restoring(tmp_path: Path) -> None:
    mon = _monitor()
    live = LiveMonitor(mon, _profile(mon), tmp_path, seed=1)
    live.defer_restore()
    with pytest.raises(MonitorRestoringError, match="waiting to restore") as err:
        live.ingest(demo.production_batch(5, 0.0, seed=1), now=T0)
    assert err.value.retry_after == 1
    assert live.checkpoint(T0) == 0  # a window being restored is never checkpointed
    live.restore(T0)
    assert live.ingest(demo.production_batch(5, 0.0, seed=1), now=T0).accepted == 5


def test_a_checkpoint_that_cannot_be_written_is_counted_and_a_stop_still_flushes(tmp_path: Path) -> None:
    mon = _monitor()
    live = LiveMonitor(mon, _profile(mon), tmp_path, durability="fsync", seed=1)
    _feed(live, range(0, 3), T0)
    live.checkpoint_path.parent.mkdir(parents=True)
    live.checkpoint_path.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        live.checkpoint(T0)
    assert live.checkpoint_errors == 1 and list(live.checkpoint_path.parent.iterdir()) == [live.checkpoint_path]
    live.close()  # logs, does not raise
    assert live.checkpoint_errors == 2
    again = LiveMonitor(mon, live.profile, tmp_path, seed=2)
    again.restore(T0 + 1)
    assert again.window_rows()[0] == 120 and again.progress.checkpoint.startswith("unusable: unreadable")


def test_file_sources_of_the_window_survive_a_checkpoint(tmp_path: Path) -> None:
    mon = _monitor()
    live = LiveMonitor(mon, _profile(mon), tmp_path, seed=1)
    live.ingest(demo.production_batch(10, 0.0, seed=1), now=T0, source="a.csv|10|1")
    live.checkpoint(T0)
    live.ingest(demo.production_batch(10, 0.0, seed=2), now=T0, source="b.csv|10|2")
    again = LiveMonitor(mon, live.profile, tmp_path, seed=2)
    assert again.restore(T0 + 1) == {"a.csv|10|1", "b.csv|10|2"}
    assert again.progress.checkpoint_rows == 10


def test_checkpoint_keeps_the_monitor_schema(tmp_path: Path) -> None:
    _, live = _checkpointed(tmp_path)
    cp = load_checkpoint(live.checkpoint_path, live.shaper.schema)
    assert pa.Table.from_batches(cp.batches).num_rows == 300 and cp.rows == 400 and cp.resume.records == 10


def test_the_alpha_a_window_spent_survives_a_restart(tmp_path: Path) -> None:
    """A look with no new rows still changes the window: its checkpoint is written, and a restart continues from it."""
    from driftwatch.checks.looks import spent_by

    mon = _monitor()
    prof = _profile(mon)
    live = LiveMonitor(mon, prof, tmp_path, seed=1)
    _feed(live, range(0, 5), T0 + 5)
    assert live.checkpoint(T0 + 6) > 0
    first = live.snapshot(T0 + 120)  # a look at a fifth of the 10-minute window
    assert first.look_share == pytest.approx(spent_by(0.2, 0.5))
    assert live.checkpoint(T0 + 121) > 0  # no new rows, but alpha spent: written
    assert live.checkpoint(T0 + 122) == 0

    again = LiveMonitor(mon, prof, tmp_path, seed=2)
    again.restore(T0 + 300)
    assert again.snapshot(T0 + 300).look_share == pytest.approx(spent_by(0.5, 0.5) - spent_by(0.2, 0.5))
