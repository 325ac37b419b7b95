"""Exemplars through the real daemon: stored redacted, served over HTTP, shown and exported by the CLI.

A text feature carries a distinctive marker under a `hash` redaction rule: after checks through the daemon (on
SQLite, and on PostgreSQL through an outage so that checks wait in the outbox), the marker is in no history
database, outbox file or log line. The spool (data_dir/spool) and the window checkpoint (data_dir/checkpoints) hold
the window's rows as received, by design (they are its durable copy): the test asserts they are the only files that
do.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from daemon.harness import FAST_FEATURES, DaemonProcess, post_rows, wait_for, write_config
from services.postgres import ClusterError, ThrowawayCluster, server_bindir
from sqlalchemy import create_engine, text

from driftwatch import demo

MARKER = "ZQX-7731-MARKER"
FEATURES = FAST_FEATURES + "      symptoms: text\n"
OOD = "    ood: {redact: {symptoms: hash}}\n"


def _batch(rows: int, odd: int, seed: int) -> pa.Table:
    """Production-like rows, the first `odd` of them out of range, unseen and carrying the marker in their text."""
    t = demo.production_batch(rows, 0.0, seed=seed).to_pylist()
    for i, row in enumerate(t[:odd]):
        row["patient_age"] = 400.0 + i
        row["channel"] = f"carrier_pigeon_{i % 3}"
        row["symptoms"] = f"Reports {MARKER} number {i} since this morning."
    return pa.Table.from_pylist(t)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftwatch", *args], capture_output=True, text=True, timeout=120, check=False
    )


def _check(c: Any) -> dict[str, Any]:
    run = c.post("/v1/monitors/triage/checks")
    assert run.status_code == 200, run.text
    return run.json()


def _files_holding(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture(scope="module")
def sqlite_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DaemonProcess, list[int]]]:
    folder = tmp_path_factory.mktemp("exemplars")
    config = write_config(folder, features=FEATURES, monitor_extra=OOD)
    proc = DaemonProcess(config, args=("--log-format", "json")).start()
    ids = []
    try:
        with proc.client() as c:
            for seed in (1, 2):
                assert post_rows(c, _batch(300, 6, seed)).status_code == 202
                body = _check(c)
                assert body["stored"] is True and body["ood"]["ood_rows"] >= 6, body["ood"]
                ids.append(body["id"])
        yield proc, ids
    finally:
        assert proc.stop() == 0, proc.log()


def test_the_check_and_its_exemplars_over_http(sqlite_daemon: tuple[DaemonProcess, list[int]]) -> None:
    proc, ids = sqlite_daemon
    with proc.client() as c:
        check = c.get(f"/v1/checks/{ids[0]}").json()
        assert check["ood"]["ood_rows"] >= 6 and check["ood"]["exemplars"] >= 6
        assert {"out_of_range", "unseen_category"} <= set(check["ood"]["by_reason"])
        rules = check["ood"]["rules"]  # counted on every row the window received, as it arrived
        assert rules["rows"] == check["rows"] and rules["ood_rows"] >= 6
        assert rules["by_reason"]["out_of_range"] * rules["rows"] >= 6 and "novel" not in rules["by_reason"]
        listed = c.get("/v1/monitors/triage/checks").json()["checks"]
        assert {r["id"]: r["ood"]["exemplars"] for r in listed}[ids[0]] == check["ood"]["exemplars"]
        resp = c.get(f"/v1/checks/{ids[0]}/exemplars")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["check_id"] == ids[0] and body["monitor"] == "triage"
        rows = body["exemplars"]
        assert len(rows) == check["ood"]["exemplars"] and [r["rank"] for r in rows] == list(range(len(rows)))
        odd = [r for r in rows if r["values"]["patient_age"] >= 400]
        assert len(odd) == 6
        for r in odd:
            assert "out_of_range" in r["reasons"] and "unseen_category" in r["reasons"]
            assert r["values"]["symptoms"].startswith("sha256:") and len(r["fingerprint"]) == 64
        missing = c.get("/v1/checks/987654/exemplars")
        assert missing.status_code == 404 and missing.json() == {"error": "no check with id 987654"}


def test_the_cli_shows_a_checks_exemplars(sqlite_daemon: tuple[DaemonProcess, list[int]]) -> None:
    proc, ids = sqlite_daemon
    with proc.client() as c:
        served = c.get(f"/v1/checks/{ids[1]}/exemplars").json()
    done = _cli("exemplars", str(ids[1]), "--config", str(proc.config), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == served
    table = _cli("exemplars", str(ids[1]), "-c", str(proc.config))
    assert table.returncode == 0, table.stderr
    assert f"check {ids[1]} (triage)" in table.stdout and "out_of_range" in table.stdout
    unknown = _cli("exemplars", "987654", "-c", str(proc.config))
    assert unknown.returncode == 2 and "no check with id 987654" in unknown.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "label-studio"])
def test_every_export_format_parses_back(
    sqlite_daemon: tuple[DaemonProcess, list[int]], tmp_path: Path, fmt: str
) -> None:
    proc, ids = sqlite_daemon
    out = tmp_path / f"queue.{fmt}"
    done = _cli("exemplars", "export", "-c", str(proc.config), "--monitor", "triage", "--since", "1h", "-o", str(out))
    assert done.returncode == 0, done.stderr
    done = _cli(
        "exemplars", "export", "-c", str(proc.config), "-m", "triage", "--since", "1h", "-o", str(out), "-f", fmt
    )
    assert done.returncode == 0, done.stderr
    content = out.read_text()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in content.splitlines()]
        ages = [r["values"]["patient_age"] for r in rows]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(content)))
        ages = [float(r["patient_age"]) for r in rows]
    else:
        tasks = json.loads(content)
        assert isinstance(tasks, list) and all(set(t) == {"data"} and isinstance(t["data"], dict) for t in tasks)
        rows = [t["data"] for t in tasks]
        ages = [r["patient_age"] for r in rows]
        assert all(isinstance(r["ood_row"], str) and "patient_age: " in r["ood_row"] for r in rows)
    assert rows and len({r["ood_fingerprint"] for r in rows}) == len(rows)
    # the two checks saw different odd rows (seeds 1 and 2 differ elsewhere), each kept by one check
    assert sum(a >= 400 for a in ages) >= 6
    assert {int(r["ood_check_id"]) for r in rows} <= set(ids)
    assert MARKER not in content


def test_nothing_unredacted_reaches_the_database_or_the_log(sqlite_daemon: tuple[DaemonProcess, list[int]]) -> None:
    proc, _ = sqlite_daemon
    data = proc.config.parent / "data"
    dbs = [p for p in data.iterdir() if p.name.startswith("driftwatch.db")]
    assert dbs and b"sha256:" in b"".join(p.read_bytes() for p in dbs)  # the hashed text is there
    holders = {p.relative_to(data).parts[0] for p in _files_holding(data, MARKER.encode())}
    # The window's rows as received: the spool and the window checkpoint, nowhere else.
    assert holders <= {"spool", "checkpoints"}, holders
    assert MARKER not in proc.log() and "check stored" in proc.log()


def test_exemplars_wait_in_the_outbox_redacted_and_are_stored_after_an_outage(tmp_path: Path) -> None:
    bindir = server_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are needed", pytrace=False)
    cluster = ThrowawayCluster(bindir, durable=True)
    try:
        cluster.start()
    except ClusterError as exc:
        pytest.fail(f"cannot start a throwaway PostgreSQL cluster: {exc}", pytrace=False)
    try:
        config = write_config(tmp_path, storage_url=cluster.url, features=FEATURES, monitor_extra=OOD)
        proc = DaemonProcess(config, args=("--log-format", "json")).start()
        outbox = tmp_path / "data" / "outbox"
        try:
            with proc.client() as c:
                assert post_rows(c, _batch(300, 5, 3)).status_code == 202
                cluster.halt()
                queued = _check(c)
                assert queued["stored"] is False and queued["ood"]["exemplars"] >= 5
                (entry,) = outbox.glob("*.json")
                body = entry.read_bytes()
                assert b'"exemplars":[{"values"' in body and b"sha256:" in body and MARKER.encode() not in body
                cluster.resume()
                last = wait_for(lambda: c.get("/v1/monitors/triage").json()["last_check"]["id"], timeout=90)
                served = c.get(f"/v1/checks/{last}/exemplars").json()["exemplars"]
                assert len(served) == queued["ood"]["exemplars"]
                assert c.get(f"/v1/checks/{last}").json()["ood"] == queued["ood"]
        finally:
            assert proc.stop() == 0, proc.log()
        assert not list(outbox.glob("*.json")) and MARKER not in proc.log()
        engine = create_engine(cluster.url)
        try:
            with engine.connect() as conn:
                dumped = [
                    json.dumps(conn.execute(text(f"SELECT json_agg(t) FROM {table} t")).scalar(), default=str)
                    for table in ("checks", "feature_results", "exemplars", "monitors", "reference_versions")
                ]
        finally:
            engine.dispose()
        assert "sha256:" in dumped[2] and not any(MARKER in d for d in dumped)
    finally:
        cluster.stop()
