"""The real daemon over loopback HTTP: each body format, bad input, checks and the read API."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from driftwatch import demo

from .harness import DaemonProcess, post_rows, write_config

TOKEN_EXTRA = "ingest: {max_body_bytes: 2000000}\n"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    folder = tmp_path_factory.mktemp("http")
    proc = DaemonProcess(write_config(folder, extra=TOKEN_EXTRA)).start()
    yield proc
    assert proc.stop() == 0, proc.log()


def _monitor(client: httpx.Client) -> dict:
    resp = client.get("/v1/monitors/triage")
    assert resp.status_code == 200
    return resp.json()


@pytest.mark.parametrize("fmt", ["json", "ndjson", "arrow"])
@pytest.mark.parametrize("gz", [False, True])
def test_each_body_format(daemon: DaemonProcess, fmt: str, gz: bool) -> None:
    table = demo.production_batch(120, 0.0, seed=5).drop_columns(["systolic_bp", "symptoms"])
    with daemon.client() as c:
        before = _monitor(c)["ingest"]["rows_accepted"]
        resp = post_rows(c, table, fmt=fmt, gzip_body=gz)
        assert resp.status_code == 202, resp.text
        assert resp.json() == {"accepted": 120, "rejected": 0, "errors": [], "ignored_columns": []}
        assert _monitor(c)["ingest"]["rows_accepted"] == before + 120


def test_bad_rows_are_counted_not_fatal(daemon: DaemonProcess) -> None:
    body = b'{"patient_age": 30, "channel": "web", "extra": 1}\nnot json\n[1,2]\n{"patient_age": "old"}\n'
    with daemon.client() as c:
        before = _monitor(c)["ingest"]
        resp = c.post("/v1/monitors/triage/rows", content=body, headers={"content-type": "application/x-ndjson"})
        assert resp.status_code == 202, resp.text
        doc = resp.json()
        assert doc["accepted"] == 2 and doc["rejected"] == 2
        assert [(e["row"], e["column"]) for e in doc["errors"]] == [(1, None), (2, None), (3, "patient_age")]
        assert doc["ignored_columns"] == ["extra"]
        after = _monitor(c)["ingest"]
        assert after["rows_rejected"].get("malformed", 0) == before["rows_rejected"].get("malformed", 0) + 2
        assert after["unknown_columns"] == before["unknown_columns"] + 1


def test_rows_without_a_feature_column_are_refused(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        before = _monitor(c)
        resp = c.post("/v1/monitors/triage/rows", json=[{"foo": 1}, {"bar": 2}])
        assert resp.status_code == 422
        assert resp.json()["error"].startswith(
            "none of the rows' columns (foo, bar) is a feature of monitor 'triage' (features: patient_age, "
        )
        after = _monitor(c)
        assert after["window"]["rows_seen"] == before["window"]["rows_seen"]
        assert after["ingest"]["rows_rejected"].get("no_feature_columns", 0) == 1 + before["ingest"][
            "rows_rejected"
        ].get("no_feature_columns", 0)
        assert c.post("/v1/monitors/triage/rows", json=[{"foo": 1, "channel": "web"}]).status_code == 202


def test_malformed_payloads_get_clear_errors(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        resp = c.post("/v1/monitors/triage/rows", content=b"[{", headers={"content-type": "application/json"})
        assert resp.status_code == 400 and "error" in resp.json()
        resp = c.post("/v1/monitors/triage/rows", content=b"a,b", headers={"content-type": "text/csv"})
        assert resp.status_code == 415 and resp.json()["error"].startswith("unsupported Content-Type 'text/csv'")
        resp = c.post("/v1/monitors/nope/rows", content=b"[]", headers={"content-type": "application/json"})
        assert resp.status_code == 404
        assert resp.json() == {"error": "unknown monitor 'nope' (valid: triage)", "monitors": ["triage"]}
        big = b"[" + b'{"patient_age": 1},' * 200_000 + b"{}]"
        resp = c.post("/v1/monitors/triage/rows", content=big, headers={"content-type": "application/json"})
        assert resp.status_code == 413
        bomb = gzip.compress(b" " * 50_000_000)
        resp = c.post(
            "/v1/monitors/triage/rows",
            content=bomb,
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
        assert resp.status_code == 413
        assert c.get("/healthz").status_code == 200


def test_check_now_and_history(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        post_rows(c, demo.production_batch(600, 0.9, seed=9))
        resp = c.post("/v1/monitors/triage/checks")
        assert resp.status_code == 200, resp.text
        run = resp.json()
        assert run["trigger"] == "manual" and run["rows"] >= 600
        assert run["dataset_drift"] is True
        drifted = {f["name"] for f in run["features"] if f["drifted"]}
        assert {"patient_age", "channel", "arrival_mode"} <= drifted
        listing = c.get("/v1/monitors/triage/checks", params={"limit": 5}).json()
        assert listing["checks"][0]["id"] == run["id"]
        detail = c.get(f"/v1/checks/{run['id']}").json()
        assert detail["dataset_drift"] is True
        assert {f["name"] for f in detail["features"] if f["drifted"]} == drifted
        assert c.get("/v1/checks/999999").status_code == 404
        since = c.get("/v1/monitors/triage/checks", params={"since": run["started_at"] + 1}).json()
        assert all(ch["id"] != run["id"] for ch in since["checks"])


def test_process_endpoints_and_openapi(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        assert c.get("/healthz").json() == {"status": "alive"}
        assert c.get("/readyz").json() == {"status": "ready"}
        spec = c.get("/openapi.json").json()
        models = {
            ("/v1/monitors/{monitor}/rows", "post", "202"): "RowsAccepted",
            ("/v1/cloudevents", "post", "202"): "CloudEventAccepted",
            ("/v1/monitors/{monitor}/checks", "post", "200"): "CheckRunOut",
            ("/v1/monitors", "get", "200"): "MonitorList",
            ("/v1/monitors/{monitor}", "get", "200"): "MonitorOut",
            ("/v1/monitors/{monitor}/checks", "get", "200"): "CheckList",
            ("/v1/checks/{check_id}", "get", "200"): "CheckRecordOut",
            ("/healthz", "get", "200"): "Alive",
            ("/readyz", "get", "200"): "Ready",
        }
        for (path, method, status), model in models.items():
            schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{model}"}, (path, method)
        rows = spec["paths"]["/v1/monitors/{monitor}/rows"]["post"]["responses"]
        assert set(rows) == {"202", "400", "401", "403", "404", "413", "415", "422", "500", "503"}
        monitors = c.get("/v1/monitors").json()["monitors"]
        assert [m["name"] for m in monitors] == ["triage"]
        assert monitors[0]["reference"]["rows"] == 5000


def test_token_is_enforced(tmp_path: Path) -> None:
    proc = DaemonProcess(write_config(tmp_path, extra="ingest: {token: s3cret}\n")).start()
    try:
        with proc.client() as c:
            table = pa.table({"patient_age": [30.0]})
            assert post_rows(c, table).status_code == 401
            resp = c.post(
                "/v1/monitors/triage/rows",
                content=b'[{"patient_age": 3}]',
                headers={"content-type": "application/json", "authorization": "Bearer s3cret"},
            )
            assert resp.status_code == 202
    finally:
        assert proc.stop() == 0


def test_replay_into_the_example_daemon(example_config: Path) -> None:
    """`make run` then `driftwatch replay`: stored checks show drift."""
    import subprocess
    import sys

    proc = DaemonProcess(example_config).start()
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "driftwatch",
                "replay",
                "-c",
                str(example_config),
                "--url",
                proc.url,
                "--batches",
                "4",
                "--rows",
                "400",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert "DATASET DRIFT on 1600 rows" in out.stdout
        with proc.client() as c:
            checks = c.get("/v1/monitors/triage/checks").json()["checks"]
            assert checks and checks[0]["dataset_drift"] is True and checks[0]["rows"] == 1600
    finally:
        assert proc.stop() == 0, proc.log()


def test_python_client_against_the_daemon(daemon: DaemonProcess) -> None:
    from driftwatch.client import Client

    table = demo.production_batch(700, 0.0, seed=21).drop_columns(["systolic_bp", "symptoms"])
    with daemon.client() as c:
        before = _monitor(c)["ingest"]["rows_accepted"]
        with Client(daemon.url, monitor="triage", batch_rows=256) as client:
            client.log(table.slice(0, 300))
            for row in table.slice(300).to_pylist():
                client.log(row)
            assert client.flush(20)
            assert client.stats.rows_sent == 700
        assert _monitor(c)["ingest"]["rows_accepted"] == before + 700
