"""A real Prometheus server (Debian's package) on a loopback port, scraping the daemon under test."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from services import binaries

from .harness import free_port


class PrometheusProcess:
    """`prometheus` with a 1 s scrape and rule evaluation interval and the given rule files."""

    def __init__(self, folder: Path, target: str, rule_files: list[Path]):
        self.exe = binaries.prometheus()
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [{"job_name": "driftwatch", "static_configs": [{"targets": [target]}]}],
        }
        self.config = folder / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(config))
        self.log_path = folder / "prometheus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> PrometheusProcess:
        self.proc = subprocess.Popen(
            [
                self.exe,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready in {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query; raises with Prometheus's error message when the expression is invalid."""
        resp = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        doc = resp.json()
        if doc.get("status") != "success":
            raise AssertionError(f"{expr!r}: {doc.get('errorType')}: {doc.get('error')}")
        return doc["data"]["result"]

    def rules(self) -> list[dict[str, Any]]:
        resp = httpx.get(f"{self.url}/api/v1/rules", timeout=10).json()
        return [rule for group in resp["data"]["groups"] for rule in group["rules"]]

    def wait_for(self, expr: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Poll until `expr` returns at least one series."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result:
                return result
            time.sleep(0.5)
        raise AssertionError(f"{expr!r} returned no series within {timeout}s")
