"""Windows: exact counts, a uniform bounded reservoir, sliding last-N rows, tumbling roll-over and restore."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from scipy import stats

from driftwatch import demo
from driftwatch.config import MonitorConfig
from driftwatch.live.monitor import LiveMonitor
from driftwatch.live.rowbatch import MISSING, OUT_OF_RANGE, TYPE_ERRORS, UNSEEN, RowShaper
from driftwatch.live.window import Reservoir, SlidingWindow
from driftwatch.reference.profile import build_profile

FEATURES = {"patient_age": "numeric", "channel": "categorical", "symptoms": "text"}


def _monitor(**window: object) -> MonitorConfig:
    return MonitorConfig(name="t", reference={"path": "unused"}, features=FEATURES, window=window or {})


def _profile(mon: MonitorConfig):
    return build_profile(demo.reference_table(2000, seed=1), mon, "v1", "memory")


def test_row_shaper_counts_exactly() -> None:
    shaper = RowShaper(_profile(_monitor()))
    table = pa.table(
        {
            "patient_age": ["30", "x", None, "500", "inf", "41"],
            "channel": ["web", "whatsapp", None, "web", "3", "kiosk"],
            "symptoms": ["cough", None, "fever", "pain", "x", "y"],
            "extra": [1, 2, 3, 4, 5, 6],
        }
    )
    norm = shaper.normalize(table)
    assert norm.unknown_columns == ("extra",)
    counts = shaper.counts(norm.batch)
    age, channel, symptoms, _ = counts
    assert age[MISSING] == 1 and age[TYPE_ERRORS] == 1 and age[OUT_OF_RANGE] == 2  # 500 and inf
    assert channel[MISSING] == 1 and channel[UNSEEN] == 2  # whatsapp, "3"
    assert symptoms[MISSING] == 1
    numeric_as_text = shaper.normalize(pa.table({"symptoms": [1, 2, None]}))
    assert shaper.counts(numeric_as_text.batch)[2][TYPE_ERRORS] == 2


def test_reservoir_is_uniform_and_bounded() -> None:
    schema = pa.schema([("x", pa.int64())])
    hits = np.zeros(2000)
    for seed in range(300):
        r = Reservoir(100, schema, np.random.default_rng(seed))
        for start in range(0, 2000, 173):
            r.add(pa.record_batch({"x": np.arange(start, min(start + 173, 2000))}, schema=schema))
        sample = r.table().column("x").to_numpy()
        assert sample.size == 100 and np.unique(sample).size == 100
        hits[sample] += 1
    # Each row is kept with probability 100/2000; compare the counts of 20 equal blocks with uniform.
    blocks = hits.reshape(20, 100).sum(axis=1)
    assert stats.chisquare(blocks).pvalue > 0.001


def test_reservoir_memory_is_bounded_by_capacity() -> None:
    schema = pa.schema([("x", pa.float64())])
    r = Reservoir(1000, schema, np.random.default_rng(0))
    for i in range(300):
        r.add(pa.record_batch({"x": np.full(5000, float(i))}, schema=schema))
        assert r._chunk_rows <= 2 * 1000 + 1024 + 5000
    assert r.table().num_rows == 1000 and r.seen == 1_500_000


def test_sliding_window_keeps_exactly_the_last_n_rows() -> None:
    prof = _profile(_monitor())
    shaper = RowShaper(prof)
    window = SlidingWindow(250, shaper, capacity=100, rng=np.random.default_rng(0))
    batches = [demo.production_batch(n, 0.8, seed=i) for i, n in enumerate([90, 120, 300, 17, 64])]
    for i, b in enumerate(batches):
        norm = shaper.normalize(b).batch
        window.add(norm, shaper.counts(norm), 0, 0, at=float(i))
    assert window.rows == 250
    last = pa.concat_tables(batches).slice(591 - 250)
    expected = shaper.counts(shaper.normalize(last).batch)
    snap = window.snapshot()
    assert snap.rows == 250 and snap.sample.num_rows == 100
    for i, f in enumerate(prof.features):
        assert snap.quality[f.name].missing_rate == expected[i][MISSING] / 250


def test_tumbling_windows_roll_and_restore(tmp_path: Path) -> None:
    mon = _monitor(type="tumbling", duration="10m", max_sample_rows=500)
    prof = _profile(mon)
    live = LiveMonitor(mon, prof, tmp_path, seed=1)
    t0 = 1_800_000_000.0  # a multiple of 600
    live.ingest(demo.production_batch(300, 0.0, seed=1), now=t0 + 5)
    live.ingest(demo.production_batch(400, 0.0, seed=2), rejected=3, now=t0 + 590)
    assert live.window_rows() == (700, 500)
    live.ingest(demo.production_batch(50, 0.0, seed=3), now=t0 + 601)  # next window
    (closed,) = live.take_closed(now=t0 + 601)
    assert closed.rows == 700 and closed.rejected == 3 and closed.sample.num_rows == 500
    assert (closed.start, closed.end) == (t0, t0 + 600)
    live.close()

    again = LiveMonitor(mon, prof, tmp_path, seed=2)
    again.restore(now=t0 + 602)
    # The restored spool still holds the closed window (its check had not been stored yet): it closes again.
    (closed_again,) = again.take_closed(now=t0 + 602)
    assert closed_again.rows == 700
    assert again.window_rows() == (50, 50)
    again.finish_closed(closed_again)
    assert not (tmp_path / "windows").exists()  # the daemon keeps the check's sample, not the window
    assert all(seg.tag != f"w{int(t0)}" for seg in again.spool.segments)
    again.close()
    third = LiveMonitor(mon, prof, tmp_path, seed=3)
    third.restore(now=t0 + 603)
    assert third.take_closed(now=t0 + 603) == []
    assert third.window_rows() == (50, 50)


def test_concurrent_ingest_with_fsync_durability_restores_everything(tmp_path: Path) -> None:
    import threading

    mon = _monitor(type="tumbling", duration="1d")
    prof = _profile(mon)
    live = LiveMonitor(mon, prof, tmp_path, durability="fsync", seed=1)
    now = 1_800_000_000.0

    def sender(k: int) -> None:
        for i in range(10):
            live.ingest(demo.production_batch(7, 0.1, seed=k * 100 + i), now=now + k)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert live.window_rows()[0] == 420
    # No close(): the data must already be on disk when ingest returned.
    again = LiveMonitor(mon, prof, tmp_path, seed=2)
    again.restore(now=now + 10)
    assert again.window_rows()[0] == 420
