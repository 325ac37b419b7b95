"""An unexpected exception in a route: a JSON 500, counted, logged without request data, connection kept."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from driftwatch.config import parse_config
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.routes import create_app

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "triage" / "reference.csv"
SECRET = "patient-7731-heart-rate-182"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Daemon, int]]:
    cfg = parse_config(
        f"""data_dir: {tmp_path / "data"}
monitors:
  - name: triage
    reference: {{path: {REFERENCE}}}
    features: {{patient_age: numeric, channel: categorical}}
    schedule: {{interval: 30s}}
"""
    )
    daemon = Daemon(cfg, seed=1)
    daemon.start(schedule=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(daemon), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield daemon, port
    finally:
        server.should_exit = True
        thread.join(10)
        daemon.stop()


def _exchange(sock: socket.socket, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive request on an open socket: status and body."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = next(int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    assert not any(x.lower() == "connection: close" for x in lines)
    return int(lines[0].split()[1]), body


def test_unexpected_error_is_a_counted_json_500(served: tuple[Daemon, int], caplog: pytest.LogCaptureFixture) -> None:
    daemon, port = served

    def broken(*_args: object) -> list:
        raise RuntimeError(f"cannot compare {SECRET}")

    daemon.store.list_checks = broken  # a fault the code did not plan for
    with caplog.at_level(logging.DEBUG), socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        status, body = _exchange(sock, "/v1/monitors/triage/checks")
        assert status == 500
        assert json.loads(body) == {"error": "internal server error; the daemon's log has the details"}
        # The same connection serves the next request.
        status, metrics = _exchange(sock, "/metrics")
        assert status == 200
    line = 'driftwatch_http_requests_total{method="GET",route="/v1/monitors/{monitor}/checks",status_class="5xx"} 1.0'
    assert line in metrics.decode()
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "unhandled RuntimeError in GET /v1/monitors/{monitor}/checks" in logged
    assert SECRET not in logged
