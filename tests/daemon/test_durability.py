"""Crash safety and restarts of the real daemon: kill -9 loses no acknowledged row; files are ingested once."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.ipc as ipc

from driftwatch import demo
from driftwatch.live.spool import Spool

from .harness import DaemonProcess, free_port, post_rows, write_config

FORMATS = [("json", False), ("ndjson", False), ("arrow", False), ("json", True), ("ndjson", True), ("arrow", True)]
SENDERS = 4
KILLS = 10  # per durability mode (process, fsync): 20 kill points in all
ID_COLUMN = "heart_rate"  # carries a unique row id, so that the spool can be checked row by row


def _rows_seen(proc: DaemonProcess) -> int:
    with proc.client() as c:
        return c.get("/v1/monitors/triage").json()["window"]["rows_seen"]


@dataclass
class Sender:
    """One client posting batches of uniquely numbered rows until the daemon dies under it."""

    first_id: int
    rng: random.Random
    base: pa.Table
    acked: list[int] = field(default_factory=list)
    cut: list[int] = field(default_factory=list)  # rows of requests whose reply the kill cut off
    cut_requests: int = 0
    failures: list[str] = field(default_factory=list)

    def _batch(self) -> pa.Table:
        n = self.rng.choice([1, self.rng.randint(2, 20), self.rng.randint(50, 400), self.rng.randint(1000, 3000)])
        offset = self.rng.randint(0, self.base.num_rows - n)
        ids = np.arange(self.first_id, self.first_id + n, dtype=np.float64)
        self.first_id += n
        table = self.base.slice(offset, n)
        return table.set_column(table.schema.get_field_index(ID_COLUMN), ID_COLUMN, pa.array(ids))

    def run(self, url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while True:
                table = self._batch()
                ids = [int(x) for x in table.column(ID_COLUMN).to_numpy()]
                fmt, gz = self.rng.choice(FORMATS)
                try:
                    resp = post_rows(client, table, fmt=fmt, gzip_body=gz)
                except httpx.ConnectError:  # refused: the daemon is gone and nothing of this request reached it
                    return
                except httpx.HTTPError:  # sent, but no reply: the rows may or may not be in the spool
                    self.cut.extend(ids)
                    self.cut_requests += 1
                    return
                if resp.status_code != 202 or resp.json()["accepted"] != len(ids):
                    self.failures.append(f"{fmt} gzip={gz} {len(ids)} rows: {resp.status_code} {resp.text[:200]}")
                    return
                self.acked.extend(ids)


def _spooled_ids(data_dir: Path) -> list[int]:
    """The id of every row the spool replays, read with the daemon's own replay (torn records dropped)."""
    folder = data_dir / "spool" / "triage"
    first = min(folder.glob("*.arrow"))
    schema = ipc.open_stream(pa.py_buffer(first.read_bytes())).schema
    return [int(x) for rec in Spool(folder, schema).replay() for x in rec.batch.column(ID_COLUMN).to_numpy()]


@dataclass
class KillRun:
    """What one durability mode's senders were told, and what the restart after the last kill found."""

    senders: list[Sender]
    restored: int
    spooled: list[int]

    @property
    def acked(self) -> list[int]:
        return [i for s in self.senders for i in s.acked]

    @property
    def cut(self) -> list[int]:
        return [i for s in self.senders for i in s.cut]


def _kill_repeatedly(folder: Path, durability: str) -> KillRun:
    """Start the daemon, let SENDERS clients post, kill -9 it at a random moment; KILLS times, then restart."""
    folder.mkdir()
    config = write_config(folder, extra=f"ingest: {{durability: {durability}}}\n")
    port = free_port()
    rng = random.Random(f"20261129-{durability}")
    base = demo.production_batch(3000, 0.3, seed=7)
    senders = [Sender(i * 10**9, random.Random(rng.random()), base) for i in range(SENDERS)]
    for _ in range(KILLS):
        proc = DaemonProcess(config, port=port).start()
        threads = [threading.Thread(target=s.run, args=(proc.url,)) for s in senders]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.2, 1.2))
        proc.kill9()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads), durability
    proc = DaemonProcess(config, port=port).start()
    try:
        # Every row in the spool, whichever window it belongs to: a run across a window boundary (the test's
        # one-day windows roll at UTC midnight) leaves rows in the closed window, not in the open one.
        with proc.client() as c:
            restored = c.get("/v1/monitors/triage").json()["ingest"]["restored_rows"]
    finally:
        assert proc.stop() == 0, durability
    return KillRun(senders, restored, _spooled_ids(folder / "data"))


def test_kill9_at_random_points_loses_no_acknowledged_row(tmp_path: Path) -> None:
    # Both modes at once: a start is mostly single-threaded imports, so two daemons keep both cores busy.
    modes = ["process", "fsync"]
    with ThreadPoolExecutor(len(modes)) as pool:
        runs = dict(zip(modes, pool.map(lambda m: _kill_repeatedly(tmp_path / m, m), modes), strict=True))
    for mode, run in runs.items():
        assert [f for s in run.senders for f in s.failures] == [], mode
        acked, cut = run.acked, run.cut
        assert len(acked) > 10_000, f"{mode}: the test must acknowledge a meaningful number of rows"
        # Most kills cut requests off mid-flight (four senders keep requests in flight): the upper bound is exercised.
        assert sum(s.cut_requests for s in run.senders) >= KILLS // 2, mode
        # Nothing acknowledged is lost; of the rows whose reply the kill cut off, any subset may have been kept.
        assert len(acked) <= run.restored <= len(acked) + len(cut), (mode, len(acked), run.restored, len(cut))
        # Row by row: every acknowledged row exactly once, nothing twice, nothing that was never sent.
        assert len(run.spooled) == run.restored, mode
        assert len(set(run.spooled)) == len(run.spooled), f"{mode}: a row was spooled twice"
        assert set(acked) <= set(run.spooled) <= set(acked) | set(cut), mode


def test_sigterm_drains_flushes_and_exits_0(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    proc = DaemonProcess(config).start()
    with proc.client() as c:
        assert post_rows(c, demo.production_batch(250, 0.0, seed=1)).status_code == 202
    assert proc.stop(signal.SIGTERM) == 0
    log = proc.log()
    assert "signal=SIGTERM" in log and "spools flushed" in log
    again = DaemonProcess(config, port=proc.port).start()
    try:
        assert _rows_seen(again) == 250
    finally:
        assert again.stop(signal.SIGINT) == 0


def test_file_source_ingests_each_file_once_across_restarts(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(3):
        pa_csv.write_csv(demo.production_batch(100, 0.0, seed=i), inbox / f"part-{i}.csv")
    old = time.time() - 60
    for f in inbox.iterdir():
        os.utime(f, (old, old))
    extra = f"    file_source: {{path: '{inbox}/*.csv', poll_interval: 1s, settle_seconds: 1s}}\n"
    config = write_config(tmp_path, monitor_extra=extra)
    proc = DaemonProcess(config).start()
    try:
        deadline = time.monotonic() + 30
        while _rows_seen(proc) < 300 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _rows_seen(proc) == 300
    finally:
        assert proc.stop() == 0
    pa_csv.write_csv(demo.production_batch(50, 0.0, seed=9), inbox / "part-9.csv")
    proc = DaemonProcess(config, port=proc.port).start()
    try:
        deadline = time.monotonic() + 30
        while _rows_seen(proc) < 350 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2.5)  # more polls: nothing may be ingested twice
        assert _rows_seen(proc) == 350
    finally:
        assert proc.stop() == 0
