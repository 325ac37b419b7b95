"""PostgreSQL outages under the real daemon: checks computed meanwhile are queued and stored in order afterwards."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from prometheus_client.parser import text_string_to_metric_families
from services.postgres import ClusterError, ThrowawayCluster, server_bindir
from sqlalchemy import create_engine, text

from driftwatch import demo

from .harness import DaemonProcess, post_rows, wait_for, write_config


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL cluster of this test alone, so that it can be stopped and started."""
    bindir = server_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are needed", pytrace=False)
    c = ThrowawayCluster(bindir, durable=True)  # halt() kills it: what it acknowledged must survive
    try:
        c.start()
    except ClusterError as exc:
        pytest.fail(f"cannot start a throwaway PostgreSQL cluster: {exc}", pytrace=False)
    try:
        yield c
    finally:
        c.stop()


def _metrics(c: httpx.Client) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(c.get("/metrics").text):
        for s in family.samples:
            if not s.labels:
                out[s.name] = s.value
    return out


def _stored_checks(url: str) -> list[tuple[int, float, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT id, started_at, trigger FROM checks ORDER BY id"))]
    finally:
        engine.dispose()


def _computed_checks(log: str) -> int:
    """Checks the daemon computed and judged (not skipped), from its JSON log: each is stored or queued once."""
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return sum(e["message"] in ("check stored", "check queued: storage unreachable") for e in events)


def _assert_all_stored_in_order(url: str, expected: int, must_have: set[float]) -> None:
    stored = _stored_checks(url)
    starts = [s for _, s, _ in stored]
    assert len(stored) == expected, (len(stored), expected)
    assert len(set(starts)) == len(starts), "a check was stored twice"
    assert starts == sorted(starts), "checks were stored out of order"
    assert must_have <= set(starts), must_have - set(starts)


def test_checks_computed_during_an_outage_are_stored_in_order_after_it(
    tmp_path: Path, cluster: ThrowawayCluster
) -> None:
    config = write_config(tmp_path, storage_url=cluster.url, interval="1s")
    proc = DaemonProcess(config, args=("--log-format", "json")).start()
    queued: set[float] = set()
    try:
        with proc.client() as c:
            assert post_rows(c, demo.production_batch(300, 0.0, seed=1)).status_code == 202
            wait_for(lambda: len(_stored_checks(cluster.url)) >= 2)
            cluster.halt()
            # Traffic and checks go on: rows are spooled locally, checks queue in data_dir/outbox.
            outage_end = time.monotonic() + 8
            for i in range(1000):
                if time.monotonic() > outage_end:
                    break
                assert post_rows(c, demo.production_batch(20, 0.0, seed=10 + i)).status_code == 202
                if i % 5 == 0:
                    run = c.post("/v1/monitors/triage/checks")
                    assert run.status_code == 200, run.text
                    body = run.json()
                    assert body["id"] is None and body["stored"] is False
                    queued.add(body["started_at"])
                time.sleep(0.2)
            ready = c.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["status"] == "degraded"
            (reason,) = ready.json()["reasons"]
            assert reason.startswith("storage unreachable: postgresql+psycopg://") and "waiting to be stored" in reason
            m = _metrics(c)
            assert m["driftwatch_storage_up"] == 0 and m["driftwatch_up"] == 1
            assert m["driftwatch_checks_pending_storage"] >= 8  # 1 s checks for 8 s, plus the manual ones
            assert len(list((tmp_path / "data" / "outbox").glob("*.json"))) >= 8

            cluster.resume()
            wait_for(
                lambda: (
                    _metrics(c)["driftwatch_storage_up"] == 1 and not _metrics(c)["driftwatch_checks_pending_storage"]
                )
            )
            assert c.get("/readyz").json() == {"status": "ready"}
            last = c.get("/v1/monitors/triage").json()["last_check"]
            assert c.get(f"/v1/checks/{last['id']}").status_code == 200
    finally:
        assert proc.stop() == 0, proc.log()
    assert not list((tmp_path / "data" / "outbox").glob("*.json"))
    _assert_all_stored_in_order(cluster.url, _computed_checks(proc.log()), queued)


def test_a_daemon_started_while_the_database_is_down_serves_and_catches_up(
    tmp_path: Path, cluster: ThrowawayCluster
) -> None:
    cluster.halt()
    config = write_config(tmp_path, storage_url=cluster.url, interval="1s")
    proc = DaemonProcess(config, args=("--log-format", "json")).start()
    try:
        with proc.client() as c:
            assert post_rows(c, demo.production_batch(300, 0.0, seed=2)).status_code == 202
            assert c.get("/v1/monitors/triage").json()["window"]["rows_seen"] == 300
            wait_for(lambda: _metrics(c)["driftwatch_checks_pending_storage"] >= 3)
            ready = c.get("/readyz").json()
            assert ready["status"] == "degraded" and "storage unreachable" in ready["reasons"][0], ready
            assert c.get("/v1/monitors/triage").json()["last_check"]["stored"] is False
            cluster.resume()
            wait_for(lambda: c.get("/readyz").json() == {"status": "ready"})
            assert _metrics(c)["driftwatch_checks_pending_storage"] == 0
            # Their samples were written while they waited without an id; each stored check finds its own.
            for summary in c.get("/v1/monitors/triage/checks").json()["checks"]:
                sample = c.get(f"/v1/checks/{summary['id']}").json()["sample"]
                assert sample["kept"] is True and sample["rows"] == 300, sample
    finally:
        assert proc.stop() == 0, proc.log()
    _assert_all_stored_in_order(cluster.url, _computed_checks(proc.log()), set())


def test_checks_queued_before_a_kill_are_stored_by_the_next_start(tmp_path: Path, cluster: ThrowawayCluster) -> None:
    cluster.halt()
    proc = DaemonProcess(write_config(tmp_path, storage_url=cluster.url, interval="1s")).start()
    with proc.client() as c:
        assert post_rows(c, demo.production_batch(300, 0.0, seed=3)).status_code == 202
        wait_for(lambda: _metrics(c)["driftwatch_checks_pending_storage"] >= 3)
    proc.kill9()
    queued = sorted((tmp_path / "data" / "outbox").glob("*.json"))
    assert len(queued) >= 3
    expected = [json.loads(p.read_text())["result"]["started_at"] for p in queued]
    cluster.resume()
    # No scheduled check for an hour: the only checks stored are the queued ones.
    proc = DaemonProcess(write_config(tmp_path, storage_url=cluster.url, interval="1h")).start()
    try:
        with proc.client() as c:
            wait_for(lambda: c.get("/readyz").json() == {"status": "ready"})
    finally:
        assert proc.stop() == 0, proc.log()
    assert [s for _, s, _ in _stored_checks(cluster.url)] == expected
    assert not list((tmp_path / "data" / "outbox").glob("*.json"))


FILES = 40
FILE_ROWS = 2000


def _progress(url: str) -> list[tuple[str, int]]:
    """The file source's record of ingested files: (file name, rows), one row per file."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT path, rows FROM file_source_progress ORDER BY path"))
            return [(Path(path).name, n) for path, n in rows]
    finally:
        engine.dispose()


def _drop_file(folder: Path, name: str, table: pa.Table) -> None:
    """A settled request-log file: written whole, its mtime in the past so the next poll takes it."""
    path = folder / name
    pa_csv.write_csv(table, path)
    old = time.time() - 60
    os.utime(path, (old, old))


def test_file_polling_pauses_during_an_outage_and_resumes_after_it(tmp_path: Path, cluster: ThrowawayCluster) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _drop_file(inbox, "a.csv", demo.production_batch(100, 0.0, seed=1))
    extra = f"    file_source: {{path: '{inbox}/*.csv', poll_interval: 1s, settle_seconds: 1s}}\n"
    config = write_config(tmp_path, storage_url=cluster.url, monitor_extra=extra)
    proc = DaemonProcess(config, args=("--log-format", "json")).start()
    try:
        with proc.client() as c:

            def rows_seen() -> int:  # this process's total: unlike the window's, it does not reset at midnight
                return c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"]

            wait_for(lambda: rows_seen() == 100)
            assert _progress(cluster.url) == [("a.csv", 100)]
            # Many files for one poll, and the database halted while it reads them: most likely a file is spooled
            # but cannot be marked, the case where polling on would read it again once the database is back.
            batch = demo.production_batch(FILE_ROWS, 0.0, seed=10)
            for i in range(FILES):
                _drop_file(inbox, f"batch-{i:02d}.csv", batch)
            wait_for(lambda: rows_seen() > 100, step=0.02)
            cluster.halt()
            wait_for(lambda: c.get("/readyz").json()["status"] == "degraded")
            during = rows_seen()
            _drop_file(inbox, "b.csv", demo.production_batch(50, 0.0, seed=2))
            time.sleep(2.5)  # two polls
            assert rows_seen() == during
            assert post_rows(c, demo.production_batch(10, 0.0, seed=3)).status_code == 202  # HTTP intake goes on
            cluster.resume()
            total = 100 + FILES * FILE_ROWS + 50 + 10
            wait_for(lambda: rows_seen() >= total)
            assert rows_seen() == total
            assert c.get("/readyz").json() == {"status": "ready"}
            time.sleep(1.5)  # another poll: nothing is read twice
            assert rows_seen() == total
    finally:
        assert proc.stop() == 0, proc.log()
    names = ["a.csv", "b.csv", *(f"batch-{i:02d}.csv" for i in range(FILES))]
    assert [name for name, _ in _progress(cluster.url)] == names  # each file recorded once
    events = [json.loads(line) for line in proc.log().splitlines() if line.startswith("{")]
    log = [(e["message"], Path(e.get("path", "")).name) for e in events]
    assert not [e for e in log if e[0] == "file source poll failed"]
    # No file is read from the moment the daemon sees the database down until it has caught up with it again.
    down = next(i for i, e in enumerate(log) if e[0].startswith("storage unreachable"))
    up = next(i for i, e in enumerate(log) if e[0].startswith("storage reachable"))
    assert not [e for e in log[down:up] if e[0] == "file ingested"]
    assert ("file ingested", "b.csv") in log[up:]


def test_a_full_outbox_drops_scheduled_checks_first_and_readiness_says_so(
    tmp_path: Path, cluster: ThrowawayCluster
) -> None:
    cluster.halt()
    config = write_config(tmp_path, storage_url=cluster.url, interval="1s")
    config.write_text(config.read_text().replace("'}", "', outbox_max_bytes: 65536}", 1))
    proc = DaemonProcess(config).start()
    outbox = tmp_path / "data" / "outbox"
    try:
        with proc.client() as c:
            assert post_rows(c, demo.production_batch(300, 0.0, seed=4)).status_code == 202
            manual = c.post("/v1/monitors/triage/checks").json()["started_at"]

            def dropped() -> float:
                text = c.get("/metrics").text
                for family in text_string_to_metric_families(text):
                    if family.name == "driftwatch_outbox_dropped_checks":
                        return sum(s.value for s in family.samples if s.labels == {"trigger": "schedule"})
                raise AssertionError("driftwatch_outbox_dropped_checks missing")

            wait_for(lambda: dropped() >= 3, timeout=90)
            sizes = sum(p.stat().st_size for p in outbox.glob("*.json"))
            assert sizes <= 65536 and _metrics(c)["driftwatch_outbox_bytes"] <= 65536
            ready = c.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
            assert any(
                r.startswith("outbox full: ") and "storage.outbox_max_bytes (65536)" in r
                for r in ready.json()["reasons"]
            )
            assert any(p.name.endswith("-manual.json") for p in outbox.glob("*.json"))  # kept: scheduled ones go first
            cluster.resume()
            wait_for(lambda: c.get("/readyz").json() == {"status": "ready"})
    finally:
        assert proc.stop() == 0, proc.log()
    assert "outbox full (storage.outbox_max_bytes 65536): dropped an older queued check" in proc.log()
    stored = _stored_checks(cluster.url)
    starts = [s for _, s, _ in stored]
    assert manual in starts and starts == sorted(starts)
