"""Start the real `driftwatch run` process on a loopback port and talk to it over HTTP."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.ipc as ipc

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "triage" / "reference.csv"
FAST_FEATURES = """      patient_age: numeric
      heart_rate: numeric
      temperature_c: numeric
      pain_score: numeric
      arrival_mode: categorical
      channel: categorical
      insurance: categorical
      predicted_urgency: categorical
"""


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, step: float = 0.2) -> Any:
    """Poll `predicate` until it returns something true (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def free_port() -> int:
    """A free loopback port: from DRIFTWATCH_TEST_PORTS (`low-high`) when set, for machines that share ports."""
    low, _, high = os.environ.get("DRIFTWATCH_TEST_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return s.getsockname()[1]
            except OSError:
                continue
    raise RuntimeError(f"no free port in DRIFTWATCH_TEST_PORTS={os.environ['DRIFTWATCH_TEST_PORTS']}")


def write_config(
    folder: Path,
    *,
    storage_url: str | None = None,
    extra: str = "",
    monitor_extra: str = "",
    interval: str = "1h",
    window: str = "{type: tumbling, duration: 1d}",
    features: str = FAST_FEATURES,
    reference: str = f"path: {REFERENCE}",
) -> Path:
    """A config for the triage example without the slow text feature, data kept under `folder`."""
    storage = f"storage: {{url: '{storage_url}'}}\n" if storage_url else ""
    text = f"""data_dir: {folder / "data"}
{storage}{extra}monitors:
  - name: triage
    reference: {{{reference}}}
    features:
{features}    window: {window}
    schedule: {{interval: {interval}}}
{monitor_extra}"""
    path = folder / "config.yaml"
    path.write_text(text)
    return path


class DaemonProcess:
    """One `driftwatch run` subprocess."""

    def __init__(self, config: Path, port: int | None = None, log_path: Path | None = None, args: tuple[str, ...] = ()):
        self.config = config
        self.args = args
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or config.parent / f"daemon-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0, *, restored: bool = True) -> DaemonProcess:
        """Start the daemon and wait until it answers; with `restored`, also until its windows are restored."""
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "driftwatch", "run", "-c", str(self.config), "--port", str(self.port), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    if restored:
                        self.wait_restored(deadline - time.monotonic())
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daemon did not start within {timeout}s:\n{self.log()}")

    def wait_restored(self, timeout: float = 60.0) -> None:
        """Wait until no monitor is restoring its windows (/readyz answers anything but status "restoring")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = httpx.get(f"{self.url}/readyz", timeout=5)
            if reply.status_code == 200 or reply.json().get("status") != "restoring":
                return
            time.sleep(0.05)
        raise RuntimeError(f"daemon still restoring after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


def arrow_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def post_rows(
    client: httpx.Client, table: pa.Table, monitor: str = "triage", *, fmt: str = "arrow", gzip_body: bool = False
) -> httpx.Response:
    if fmt == "arrow":
        body, ctype = arrow_bytes(table), "application/vnd.apache.arrow.stream"
    elif fmt == "ndjson":
        import orjson

        body = b"\n".join(orjson.dumps(r) for r in table.to_pylist())
        ctype = "application/x-ndjson"
    else:
        import orjson

        body, ctype = orjson.dumps(table.to_pylist()), "application/json"
    headers: dict[str, Any] = {"content-type": ctype}
    if gzip_body:
        body = gzip.compress(body)
        headers["content-encoding"] = "gzip"
    return client.post(f"/v1/monitors/{monitor}/rows", content=body, headers=headers)
