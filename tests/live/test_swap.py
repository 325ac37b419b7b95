"""A new reference for a live monitor: the tumbling window closes under the old one, a sliding window is conformed."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch import demo
from driftwatch.config import MonitorConfig
from driftwatch.live.monitor import LiveMonitor
from driftwatch.live.rowbatch import TYPE_ERRORS, RowShaper, conform_rows, monitor_schema
from driftwatch.reference.profile import ReferenceProfile, build_profile

T0 = 1_800_000_000.0  # a multiple of 600
FEATURES = {"patient_age": "numeric", "channel": "categorical"}


def _monitor(features: dict[str, str] | None = None, **window: object) -> MonitorConfig:
    return MonitorConfig(name="t", reference={"path": "unused"}, features=features or {}, window=window)


def _profiles(mon: MonitorConfig) -> tuple[ReferenceProfile, ReferenceProfile]:
    ref = demo.reference_table(2000, seed=1)
    young = ref.filter(pc.less(ref.column("patient_age"), 40))  # a narrower range: more rows out of it
    return build_profile(ref, mon, "v1", "memory"), build_profile(young, mon, "v2", "memory")


def _out_of_range(ages: np.ndarray, profile: ReferenceProfile) -> float:
    numeric = profile.feature("patient_age").numeric
    assert numeric is not None
    present = ages[~np.isnan(ages)]
    return float(np.mean((present < numeric.min) | (present > numeric.max)))


def test_tumbling_window_closes_under_the_old_reference_and_restores(tmp_path: Path) -> None:
    mon = _monitor(FEATURES, type="tumbling", duration="10m")
    old, new = _profiles(mon)
    live = LiveMonitor(mon, old, tmp_path, seed=1)
    before = demo.production_batch(100, 0.0, seed=1)
    live.ingest(before, now=T0 + 10)
    closed = live.swap_profile(new, now=T0 + 20.5)
    assert closed is not None and closed.profile is old and live.profile is new
    assert (closed.start, closed.end, closed.rows, closed.closed) == (T0, T0 + 20.5, 100, True)
    ages = before.column("patient_age").to_numpy()
    assert closed.quality["patient_age"].out_of_range_rate == _out_of_range(ages, old)
    after = demo.production_batch(50, 0.0, seed=2)
    live.ingest(after, now=T0 + 30)
    snap = live.snapshot(now=T0 + 40)
    assert snap.profile is new and (snap.start, snap.end, snap.rows) == (T0 + 20.5, T0 + 600, 50)
    ages = after.column("patient_age").to_numpy()
    assert snap.quality["patient_age"].out_of_range_rate == _out_of_range(ages, new) > _out_of_range(ages, old)
    assert live.take_closed(now=T0 + 40) == [closed]
    assert [seg.tag for seg in live.spool.segments] == [f"w{int(T0)}", "w1800000020.500"]
    live.close()

    # Restarted before the closed window's final check was stored: both windows come back as they were.
    again = LiveMonitor(mon, new, tmp_path, seed=2)
    again.restore(now=T0 + 50)
    (closed_again,) = again.take_closed(now=T0 + 50)
    assert (closed_again.start, closed_again.end, closed_again.rows) == (T0, T0 + 20.5, 100)
    again.finish_closed(closed_again)
    assert not (tmp_path / "windows").exists()  # the daemon keeps the check's sample, not the window
    assert [seg.tag for seg in again.spool.segments] == ["w1800000020.500"]
    snap = again.snapshot(now=T0 + 50)
    assert (snap.start, snap.end, snap.rows) == (T0 + 20.5, T0 + 600, 50)
    again.close()
    third = LiveMonitor(mon, new, tmp_path, seed=3)
    third.restore(now=T0 + 60)
    assert third.take_closed(now=T0 + 60) == []
    assert third.snapshot(now=T0 + 60).start == T0 + 20.5
    # The window a reload began ends with its aligned period; the next is aligned again.
    third.ingest(after, now=T0 + 601)
    (closed_third,) = third.take_closed(now=T0 + 601)
    assert (closed_third.start, closed_third.end, closed_third.rows) == (T0 + 20.5, T0 + 600, 50)
    assert third.snapshot(now=T0 + 602).start == T0 + 600
    third.finish_closed(closed_third)
    assert [seg.tag for seg in third.spool.segments] == [f"w{int(T0) + 600}"]


def test_an_empty_tumbling_window_is_not_closed(tmp_path: Path) -> None:
    mon = _monitor(FEATURES, type="tumbling", duration="10m")
    old, new = _profiles(mon)
    live = LiveMonitor(mon, old, tmp_path, seed=1)
    assert live.swap_profile(new, now=T0 + 20) is None
    live.ingest(demo.production_batch(10, 0.0, seed=1), now=T0 + 30)
    snap = live.snapshot(now=T0 + 30)
    assert (snap.start, snap.rows) == (T0, 10) and snap.profile is new and live.take_closed(now=T0 + 30) == []


def test_ingest_racing_swaps_keeps_every_row_in_one_window(tmp_path: Path) -> None:
    mon = _monitor(type="tumbling", duration="1d")
    ref = demo.reference_table(1000, seed=1)
    profiles = [
        build_profile(ref.select(["patient_age", "channel"]), mon, "a", "memory"),
        build_profile(ref.select(["channel", "heart_rate", "patient_age"]), mon, "b", "memory"),
    ]
    live = LiveMonitor(mon, profiles[0], tmp_path, seed=1)
    batch = demo.production_batch(5, 0.0, seed=1)
    ticks = itertools.count()  # requests are timed before they take the lock, so they may arrive after a swap

    def send() -> None:
        for _ in range(60):
            live.ingest(batch, now=T0 + next(ticks) * 0.001)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(12):
        live.swap_profile(profiles[(i + 1) % 2], now=T0 + next(ticks) * 0.001)
        time.sleep(0.002)
    for t in threads:
        t.join()
    live.ingest(batch, now=T0 + next(ticks) * 0.001)  # the last window has rows, whichever thread finished last
    end = T0 + 3600
    closed, snap = live.take_closed(now=end), live.snapshot(now=end)
    windows = [*closed, snap]
    assert sum(w.rows for w in windows) == (4 * 60 + 1) * 5
    assert all(w.sample.schema == monitor_schema(w.profile) for w in windows)
    starts = [w.start for w in windows]
    assert starts == sorted(set(starts))  # one window per start: their spool segments never mix
    for w in closed:
        live.finish_closed(w)
    live.close()
    again = LiveMonitor(mon, live.profile, tmp_path, seed=2)
    again.restore(now=end)
    restored = again.snapshot(now=end)
    assert again.take_closed(now=end) == [] and (restored.start, restored.rows) == (snap.start, snap.rows)


def test_sliding_window_keeps_its_rows_in_the_new_schema(tmp_path: Path) -> None:
    mon = _monitor(type="sliding", rows=100)
    ref = demo.reference_table(1000, seed=1)
    old = build_profile(ref.select(["patient_age", "channel", "heart_rate"]), mon, "v1", "memory")
    # Reordered, one feature dropped, one added.
    new = build_profile(ref.select(["heart_rate", "patient_age", "insurance"]), mon, "v2", "memory")
    live = LiveMonitor(mon, old, tmp_path, seed=1)
    batch = demo.production_batch(60, 0.0, seed=1).select(["patient_age", "channel", "heart_rate"])
    heart = pa.array(["x" if i % 4 == 0 else str(v) for i, v in enumerate(batch.column("heart_rate").to_pylist())])
    batch = batch.set_column(2, "heart_rate", heart)  # 15 values of the wrong type
    live.ingest(batch, now=T0)
    assert live.snapshot(now=T0).quality["heart_rate"].type_error_rate == 15 / 60
    assert live.swap_profile(new, now=T0 + 1) is None
    snap = live.snapshot(now=T0 + 1)
    assert snap.profile is new and snap.sample.schema.names == [
        "heart_rate",
        "patient_age",
        "insurance",
        "__type_errors",
    ]
    assert snap.rows == 60
    assert snap.quality["heart_rate"].type_error_rate == 15 / 60 and snap.quality["insurance"].missing_rate == 1.0
    np.testing.assert_array_equal(snap.sample.column("patient_age").to_numpy(), batch.column("patient_age").to_numpy())
    live.ingest(batch, now=T0 + 2)
    live.close()
    again = LiveMonitor(mon, new, tmp_path, seed=2)  # older segments replay conformed the same way
    again.restore(now=T0 + 3)
    restored = again.snapshot(now=T0 + 3)
    assert restored.rows == 100 and restored.quality["heart_rate"].type_error_rate == 25 / 100


def test_conform_rows_reindexes_type_errors() -> None:
    mon = _monitor()
    ref = demo.reference_table(500, seed=1)
    old = RowShaper(build_profile(ref.select(["patient_age", "heart_rate", "channel"]), mon, "v1", "m"))
    new = RowShaper(build_profile(ref.select(["channel", "heart_rate"]), mon, "v2", "m"))
    table = pa.table({"patient_age": ["a", "30", "b"], "heart_rate": ["x", "70", "80"], "channel": ["web", "web", "3"]})
    norm = old.normalize(table).batch
    assert norm.column("__type_errors").to_pylist() == ["0,1", None, "0"]
    moved = conform_rows(norm, new.schema)
    assert moved.column("__type_errors").to_pylist() == ["1", None, None]
    assert new.counts(moved)[:-1, TYPE_ERRORS].tolist() == [0, 1]
    assert conform_rows(norm, old.schema) is norm


def test_a_window_a_reload_began_restores_from_its_checkpoint(tmp_path: Path) -> None:
    mon = _monitor(FEATURES, type="tumbling", duration="10m")
    old, new = _profiles(mon)
    live = LiveMonitor(mon, old, tmp_path, seed=1)
    live.ingest(demo.production_batch(100, 0.0, seed=1), now=T0 + 10)
    live.swap_profile(new, now=T0 + 20.5)
    live.ingest(demo.production_batch(60, 0.0, seed=2), now=T0 + 30)
    assert live.checkpoint(now=T0 + 31) > 0
    live.ingest(demo.production_batch(7, 0.0, seed=3), now=T0 + 32)  # the tail; then the process dies (no close)
    again = LiveMonitor(mon, new, tmp_path, seed=1)
    again.restore(now=T0 + 40)
    assert again.progress.checkpoint == "used"
    assert (again.progress.checkpoint_rows, again.progress.replayed_rows) == (60, 100 + 7)
    snap = again.snapshot(now=T0 + 40)
    assert (snap.start, snap.end, snap.rows) == (T0 + 20.5, T0 + 600, 67)
    assert [s.rows for s in again.take_closed(now=T0 + 40)] == [100]
    again.close()
