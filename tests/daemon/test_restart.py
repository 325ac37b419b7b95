"""Restarts of the real daemon: checkpoint plus spool tail restore exact counts; the server answers while restoring."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx

from driftwatch import demo
from driftwatch.config import load_config
from driftwatch.live.rowbatch import RowShaper
from driftwatch.live.spool import Spool
from driftwatch.live.window import window_start, window_tag
from driftwatch.reference.profile import load_profile

from .harness import DaemonProcess, free_port, post_rows, write_config


def _monitor(proc: DaemonProcess) -> dict:
    with proc.client() as c:
        return c.get("/v1/monitors/triage").json()


def _post(proc: DaemonProcess, rows: int, seed: int) -> None:
    with proc.client() as c:
        for i in range(rows // 100):
            assert post_rows(c, demo.production_batch(100, 0.2, seed=seed + i)).status_code == 202


def test_checkpoint_plus_tail_and_a_corrupt_checkpoint_restore_exact_counts(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    checkpoint = tmp_path / "data" / "checkpoints" / "triage.checkpoint"
    port = free_port()
    proc = DaemonProcess(config, port=port).start()
    _post(proc, 2000, seed=0)
    assert proc.stop() == 0  # a graceful stop checkpoints the open window
    assert checkpoint.exists()

    proc = DaemonProcess(config, port=port).start()
    restore = _monitor(proc)["restore"]
    assert (restore["checkpoint"], restore["checkpoint_rows"], restore["replayed_rows"]) == ("used", 2000, 0)
    _post(proc, 300, seed=100)  # the tail: after the checkpoint, then kill -9 (no new checkpoint)
    proc.kill9()

    proc = DaemonProcess(config, port=port).start()
    doc = _monitor(proc)
    assert (doc["restore"]["checkpoint_rows"], doc["restore"]["replayed_rows"]) == (2000, 300)
    assert doc["ingest"]["restored_rows"] == doc["window"]["rows_seen"] == 2300
    assert proc.stop() == 0

    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    proc = DaemonProcess(config, port=port).start()
    try:
        doc = _monitor(proc)
        assert doc["restore"]["checkpoint"] == "unusable: its digest does not match: the file is damaged"
        assert (doc["restore"]["checkpoint_rows"], doc["restore"]["replayed_rows"]) == (0, 2300)
        assert doc["window"]["rows_seen"] == 2300
        assert "checkpoint not used: the whole spool is replayed" in proc.log()
    finally:
        assert proc.stop() == 0


def _big_spool(config: Path, records: int) -> None:
    """A spool of one-row records, written with the daemon's own Spool: replaying it takes a while."""
    cfg = load_config(config)
    monitor = cfg.monitors[0]
    shaper = RowShaper(load_profile(monitor, cfg.data_dir))
    spool = Spool(cfg.data_dir / "spool" / monitor.name, shaper.schema)
    now = time.time()
    tag = window_tag(window_start(now, monitor.window.duration))
    batch = shaper.normalize(demo.production_batch(1, 0.0, seed=1)).batch
    for _ in range(records):
        spool.append(batch, at=now, tag=tag)
    spool.close()


def test_the_server_answers_while_a_big_spool_is_restored(tmp_path: Path) -> None:
    config = write_config(tmp_path, interval="200ms")
    records = 60_000
    _big_spool(config, records)
    proc = DaemonProcess(config).start(restored=False)
    try:
        with proc.client() as c:
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "restoring", ready.text
            (reason,) = ready.json()["reasons"]
            assert reason.startswith("monitor 'triage' restoring its windows: ") and "rows so far" in reason
            refused = post_rows(c, demo.production_batch(50, 0.0, seed=2))
            assert refused.status_code == 503 and refused.json()["status"] == "restoring"
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert c.post("/v1/monitors/triage/checks").status_code == 503
            assert c.get("/v1/monitors/triage").json()["restore"]["state"] == "restoring"
            assert 'driftwatch_restoring{monitor="triage"} 1.0' in c.get("/metrics").text
        proc.wait_restored()
        with proc.client() as c:
            assert c.get("/readyz").json()["status"] == "ready"
            doc = c.get("/v1/monitors/triage").json()
            # Nothing of the refused request was kept; every spooled row is back.
            assert doc["window"]["rows_seen"] == doc["ingest"]["restored_rows"] == records
            assert doc["ingest"]["rows_accepted"] == 0 and doc["checks_by_outcome"]["restoring"] >= 1
            assert doc["restore"]["state"] == "done" and doc["restore"]["checkpoint"] == "missing"
            assert post_rows(c, demo.production_batch(50, 0.0, seed=2)).status_code == 202
    finally:
        assert proc.stop() == 0


def test_kill9_while_checkpoints_are_written_loses_and_doubles_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra="checkpoint_interval: 100ms\n")
    port = free_port()
    rng = random.Random(20261130)
    acked = sent = 0
    for _ in range(3):
        proc = DaemonProcess(config, port=port).start()
        stop = threading.Event()

        def sender(url: str = proc.url, stop: threading.Event = stop) -> None:
            nonlocal acked, sent
            with httpx.Client(base_url=url, timeout=10) as client:
                seed = 0
                while not stop.is_set():
                    seed += 1
                    table = demo.production_batch(rng.randint(1, 300), 0.3, seed=seed)
                    sent += table.num_rows
                    try:
                        resp = post_rows(client, table)
                    except httpx.HTTPError:
                        return
                    if resp.status_code == 202:
                        acked += resp.json()["accepted"]

        thread = threading.Thread(target=sender)
        thread.start()
        time.sleep(rng.uniform(0.6, 1.5))
        proc.kill9()
        stop.set()
        thread.join(30)
    proc = DaemonProcess(config, port=port).start()
    try:
        doc = _monitor(proc)
        assert doc["restore"]["checkpoint"] == "used" and doc["restore"]["checkpoint_rows"] > 0
        seen = doc["ingest"]["restored_rows"]
        assert acked <= seen <= sent, (acked, seen, sent)
    finally:
        assert proc.stop() == 0
