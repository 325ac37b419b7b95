"""A full data_dir, on a real tmpfs the test mounts: 507 with a JSON error, readiness and a counter say so,
intake recovers by itself when space returns, and no acknowledged row is lost across kill -9 and a restart."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from driftwatch import demo

from .harness import DaemonProcess, post_rows, write_config

ROWS_PER_POST = 200
CE = {
    "ce-id": "full-1",
    "ce-type": "org.kubeflow.serving.inference.request",
    "ce-source": "http://localhost:9081/",
    "ce-specversion": "1.0",
    "ce-inferenceservicename": "triage-model",
    "content-type": "application/json",
}


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder` for the duration (needs root, as in CI)."""
    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs to fill a real file system: run it as root (CI does)")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the file system is full; returns it."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        # Fill the last partial chunk too, byte-exact.
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 512):
                pass
    finally:
        os.close(fd)
    return filler


def _metric(text: str, name: str) -> float:
    match = re.search(rf'^{name}{{monitor="triage"}} (\S+)$', text, re.M)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def _post(client: httpx.Client, seed: int) -> httpx.Response:
    return post_rows(client, demo.production_batch(ROWS_PER_POST, 0.0, seed=seed))


def test_full_data_dir_refuses_with_507_recovers_and_keeps_every_acknowledged_row(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "6m") as mnt:
        routes = "ingest:\n  cloudevents:\n    - {inference_service: triage-model, monitor: triage}\n"
        config = write_config(tmp_path, extra=routes)
        config.write_text(config.read_text().replace(f"data_dir: {tmp_path / 'data'}", f"data_dir: {mnt / 'data'}"))
        proc = DaemonProcess(config).start()
        acked = 0
        try:
            with proc.client() as c:
                for seed in range(5):
                    resp = _post(c, seed)
                    assert resp.status_code == 202, resp.text
                    acked += resp.json()["accepted"]
                filler = fill(mnt)
                # A few KB free: the next records are written in part before ENOSPC (a torn write, cut off again).
                os.truncate(filler, filler.stat().st_size - 3000)
                refused = 0
                for seed in range(100, 110):
                    resp = _post(c, seed)
                    if resp.status_code == 202:  # a record small enough for what was left
                        acked += resp.json()["accepted"]
                        continue
                    assert resp.status_code == 507, resp.text
                    assert resp.headers["content-type"] == "application/json"
                    assert "No space left on device" in resp.json()["error"]
                    refused += 1
                assert refused >= 8
                # A logged inference is refused too, rather than acknowledged and lost when its rows are spooled.
                event = c.post(
                    "/v1/cloudevents", content=orjson.dumps({"instances": [{"patient_age": 50.0}]}), headers=CE
                )
                assert event.status_code == 507, event.text
                assert "No space left on device" in event.json()["error"]
                # A check still runs; its result may not be storable on the full disk, but the answer is JSON, no 500.
                check = c.post("/v1/monitors/triage/checks")
                assert check.status_code in (200, 503, 507), check.text
                assert check.headers["content-type"] == "application/json"
                ready = c.get("/readyz")
                assert ready.status_code == 503
                assert any("cannot write its spool" in r and "No space" in r for r in ready.json()["reasons"])
                assert _metric(c.get("/metrics").text, "driftwatch_spool_write_errors_total") >= refused
                assert c.get("/healthz").status_code == 200  # alive: nothing to restart
                # Space returns: readiness recovers by itself, and intake with it.
                filler.unlink()
                deadline = time.monotonic() + 10
                while c.get("/readyz").status_code != 200 and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert c.get("/readyz").status_code == 200, c.get("/readyz").text
                for seed in range(200, 215):
                    resp = _post(c, seed)
                    assert resp.status_code == 202, resp.text
                    acked += resp.json()["accepted"]
                assert c.get("/v1/monitors/triage").json()["window"]["rows_seen"] == acked
            proc.kill9()
            assert proc.log().count("spool write failed") == 1, "one ERROR line per outage, not one per request"
            again = DaemonProcess(config, port=proc.port, log_path=proc.log_path).start()
            try:
                with again.client() as c:
                    assert c.get("/v1/monitors/triage").json()["window"]["rows_seen"] == acked
                    assert _metric(c.get("/metrics").text, "driftwatch_spool_corrupt_segments_total") == 0
            finally:
                assert again.stop() == 0
        finally:
            if proc.proc is not None and proc.proc.poll() is None:
                proc.kill9()


def _events_config(tmp_path: Path, mnt: Path, max_pending: int) -> Path:
    ingest = (
        f"ingest:\n  join_timeout: 1s\n  max_pending_events: {max_pending}\n"
        "  cloudevents:\n    - {inference_service: triage-model, monitor: triage}\n"
    )
    config = write_config(tmp_path, extra=ingest)
    config.write_text(config.read_text().replace(f"data_dir: {tmp_path / 'data'}", f"data_dir: {mnt / 'data'}"))
    return config


def _log_request(client: httpx.Client, n: int) -> httpx.Response:
    # A value of several pages: the spool cannot fit the batch into the last page it has partly written.
    row = {"patient_age": 40.0 + n, "channel": f"web-{n}-" + "x" * 6000}
    return client.post("/v1/cloudevents", content=orjson.dumps({"instances": [row]}), headers={**CE, "ce-id": f"e{n}"})


def _wait_for(predicate: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_acknowledged_cloudevents_wait_for_the_spool_and_are_ingested_when_space_returns(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "6m") as mnt:
        proc = DaemonProcess(_events_config(tmp_path, mnt, 100)).start()
        try:
            with proc.client() as c:
                for n in range(3):
                    assert _log_request(c, n).status_code == 202
                filler = fill(mnt)  # after the 202s, before the join times out and the rows are spooled
                assert _wait_for(lambda: _metric(c.get("/metrics").text, "driftwatch_cloudevents_unspooled") == 3)
                assert c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == 0
                time.sleep(1.5)  # retried meanwhile, still refused: nothing dropped, nothing half-ingested
                text = c.get("/metrics").text
                assert _metric(text, "driftwatch_cloudevents_unspooled") == 3
                assert _metric(text, "driftwatch_spool_write_errors_total") >= 2
                filler.unlink()
                assert _wait_for(lambda: c.get("/v1/monitors/triage").json()["ingest"]["rows_accepted"] == 3)
                text = c.get("/metrics").text
                assert _metric(text, "driftwatch_cloudevents_unspooled") == 0
                assert 'driftwatch_cloudevents_total{monitor="triage",outcome="dropped_unspooled"} 0.0' in text
            assert proc.stop() == 0
            assert "logged inferences dropped" not in proc.log()
            again = DaemonProcess(proc.config, port=proc.port, log_path=proc.log_path).start()
            try:
                with again.client() as c:
                    assert c.get("/v1/monitors/triage").json()["window"]["rows_seen"] == 3
            finally:
                assert again.stop() == 0
        finally:
            if proc.proc is not None and proc.proc.poll() is None:
                proc.kill9()


def test_refused_cloudevents_past_the_bound_and_at_shutdown_are_dropped_counted_and_logged(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "6m") as mnt:
        config = _events_config(tmp_path, mnt, 2)
        config.write_text(config.read_text().replace("join_timeout: 1s", "join_timeout: 1h"))
        proc = DaemonProcess(config).start()
        try:
            with proc.client() as c:
                assert _log_request(c, 0).status_code == 202
                assert _log_request(c, 1).status_code == 202
                fill(mnt)
                # A third request evicts the oldest from the join (max 2 waiting): its rows are refused and held.
                assert _log_request(c, 2).status_code == 202
                assert _wait_for(lambda: _metric(c.get("/metrics").text, "driftwatch_cloudevents_unspooled") == 1)
                assert _log_request(c, 3).status_code == 507  # the spool is known to be full: refused, not acked
            # At shutdown the two still waiting for their response join the one held: one over the bound.
            assert proc.stop() == 0
            log = proc.log()
            bound = re.search(r"logged inferences dropped: .*max_pending_events.* inferences=(\d+) rows=(\d+)", log)
            shutdown = re.search(r"logged inferences dropped: .*at shutdown.* inferences=(\d+) rows=(\d+)", log)
            assert bound and bound.groups() == ("1", "1"), log
            assert shutdown and shutdown.groups() == ("2", "2"), log
            assert "xxxxxxxx" not in log  # counts only, never the rows
        finally:
            if proc.proc is not None and proc.proc.poll() is None:
                proc.kill9()
