"""Every check keeps the sample it judged, redacted, under data_dir/samples: the real daemon, SQLite and files."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from driftwatch import demo
from driftwatch.ood.redact import redact

from .harness import FAST_FEATURES, DaemonProcess, post_rows, wait_for, write_config
from .test_disk_full import fill, small_tmpfs

PORT = 19300
TEXT_FEATURES = FAST_FEATURES + "      symptoms: text\n"
HASH_CHANNEL = "    ood: {redact: {channel: hash}}\n"


def _sample(c: httpx.Client, check_id: int) -> pa.Table:
    reply = c.get(f"/v1/checks/{check_id}/sample")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/vnd.apache.arrow.stream"
    return ipc.open_stream(reply.content).read_all()


def _metric(text: str, name: str) -> float:
    match = re.search(rf'^{name}{{monitor="triage"}} (\S+)$', text, re.M)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def test_sliding_manual_check_keeps_its_sample_redacted_with_text_signals(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        window="{type: sliding, rows: 1000}",
        features=TEXT_FEATURES,
        monitor_extra=HASH_CHANNEL,
    )
    sent = demo.production_batch(300, 0.3, seed=7)
    proc = DaemonProcess(config, port=PORT).start()
    try:
        with proc.client() as c:
            assert post_rows(c, sent).status_code == 202
            run = c.post("/v1/monitors/triage/checks").json()
            assert run["stored"] is True and run["rows"] == 300
            check = c.get(f"/v1/checks/{run['id']}").json()
            sample = check["sample"]
            assert sample["kept"] is True and sample["rows"] == check["rows"] == 300
            assert re.fullmatch(r"samples/triage/\d+-manual\.parquet", sample["path"]), sample
            assert (tmp_path / "data" / sample["path"]).is_file()
            table = _sample(c, run["id"])
    finally:
        assert proc.stop() == 0, proc.log()
    assert table.num_rows == 300
    # The text is dropped (the default for text); what the check derived from it is kept for drill-down.
    assert "symptoms" not in table.column_names
    assert {"symptoms.language", "symptoms.script", "symptoms.length"} <= set(table.column_names)
    lengths = sorted(table.column("symptoms.length").to_pylist())
    texts = sent.column("symptoms").to_pylist()
    assert lengths == sorted(float(len(t)) if t is not None else 0.0 for t in texts)
    assert set(table.column("symptoms.language").to_pylist()) >= {"en"}
    # hash keeps equal values equal, with the salt exemplars use (the monitor's name).
    assert sorted(table.column("channel").to_pylist()) == sorted(
        redact(v, "hash", "triage")[1] for v in sent.column("channel").to_pylist()
    )
    assert all(v.startswith("sha256:") for v in table.column("channel").to_pylist())
    ages = [np.sort(np.array(t.column("patient_age").to_pylist(), float)) for t in (table, sent)]
    np.testing.assert_array_equal(*ages)  # kept as received (missing as NaN, equal to itself here)
    # No raw text of the dropped feature anywhere under data_dir/samples.
    raw = max((t for t in texts if t is not None), key=len).encode()
    assert not any(raw in f.read_bytes() for f in (tmp_path / "data" / "samples").rglob("*") if f.is_file())


def test_tumbling_scheduled_and_closed_checks_keep_their_samples(tmp_path: Path) -> None:
    config = write_config(tmp_path, interval="1s", window="{type: tumbling, duration: 4s}")
    proc = DaemonProcess(config, port=PORT + 1).start()
    try:
        with proc.client() as c:
            # Post at the start of a window, so that a scheduled check sees it open before it closes.
            wait_for(lambda: time.time() % 4 < 0.3, timeout=10, step=0.02)
            assert post_rows(c, demo.production_batch(250, 0.0, seed=3)).status_code == 202

            def both() -> list[dict]:
                checks = c.get("/v1/monitors/triage/checks").json()["checks"]
                triggers = {ch["trigger"] for ch in checks}
                return checks if {"schedule", "window_close"} <= triggers else []

            checks = wait_for(both, timeout=30)
            for summary in checks:
                check = c.get(f"/v1/checks/{summary['id']}").json()
                assert check["rows"] == 250
                assert check["sample"]["kept"] is True and check["sample"]["rows"] == 250, check["sample"]
                assert check["sample"]["path"].endswith(f"-{check['trigger']}.parquet")
                assert _sample(c, summary["id"]).num_rows == 250
            assert not (tmp_path / "data" / "windows").exists()  # the old layout is no longer written
    finally:
        assert proc.stop() == 0, proc.log()


def test_max_sample_bytes_prunes_the_oldest_and_the_api_says_so(tmp_path: Path) -> None:
    window = "{type: sliding, rows: 1000}"
    proc = DaemonProcess(write_config(tmp_path, window=window), port=PORT + 2).start()
    try:
        with proc.client() as c:
            assert post_rows(c, demo.production_batch(300, 0.0, seed=5)).status_code == 202
            first = c.post("/v1/monitors/triage/checks").json()["id"]
    finally:
        assert proc.stop() == 0, proc.log()
    size = next((tmp_path / "data" / "samples" / "triage").glob("*.parquet")).stat().st_size
    # Room for two samples of the same rows (the sliding window restores them from the spool), not three.
    extra = f"storage: {{max_sample_bytes: {2 * size + size // 2}}}\n"
    proc = DaemonProcess(write_config(tmp_path, window=window, extra=extra), port=PORT + 2).start()
    try:
        with proc.client() as c:
            ids = [first] + [c.post("/v1/monitors/triage/checks").json()["id"] for _ in range(3)]
            kept = [c.get(f"/v1/checks/{i}").json()["sample"] for i in ids]
            assert [s["kept"] for s in kept] == [False, False, True, True], kept
            assert kept[0] == {
                "kept": False,
                "rows": None,
                "path": None,
                "reason": "pruned to stay within storage.max_sample_bytes",
            }
            gone = c.get(f"/v1/checks/{ids[0]}/sample")
            assert gone.status_code == 410 and gone.json()["error"].startswith(f"check {ids[0]} has no sample")
            assert _sample(c, ids[-1]).num_rows == 300
            assert _metric(c.get("/metrics").text, "driftwatch_sample_write_errors_total") == 0
            assert (
                0
                < float(re.search(r"^driftwatch_sample_bytes (\S+)$", c.get("/metrics").text, re.M)[1])
                <= (2 * size + size // 2)
            )
    finally:
        assert proc.stop() == 0, proc.log()
    assert len(list((tmp_path / "data" / "samples" / "triage").glob("*.parquet"))) == 2


def test_a_full_samples_folder_still_stores_the_check(tmp_path: Path) -> None:
    config = write_config(tmp_path, window="{type: sliding, rows: 1000}")
    with small_tmpfs(tmp_path / "data" / "samples", "1m") as mnt:
        fill(mnt)
        proc = DaemonProcess(config, port=PORT + 3).start()
        try:
            with proc.client() as c:
                assert post_rows(c, demo.production_batch(300, 0.0, seed=6)).status_code == 202
                runs = [c.post("/v1/monitors/triage/checks") for _ in range(2)]
                assert [r.status_code for r in runs] == [200, 200]
                for run in runs:
                    check = c.get(f"/v1/checks/{run.json()['id']}").json()
                    assert check["rows"] == 300
                    assert check["sample"]["kept"] is False
                    assert check["sample"]["reason"].startswith("never written")
                    missing = c.get(f"/v1/checks/{check['id']}/sample")
                    assert missing.status_code == 404 and f"check {check['id']} has no sample" in missing.text
                assert _metric(c.get("/metrics").text, "driftwatch_sample_write_errors_total") == 2
                assert c.get("/readyz").json()["status"] == "ready"
        finally:
            assert proc.stop() == 0, proc.log()
        assert [f.name for f in mnt.rglob("*") if f.is_file()] == ["filler"]  # no partial file
    assert proc.log().count("window samples cannot be written") == 1  # logged once, not per check
