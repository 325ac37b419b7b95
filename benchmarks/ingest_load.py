"""The ingestion benchmark's load generator: keep-alive httpx clients in threads, timed, with CPU accounting."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from harness import DaemonProcess, machine_busy_seconds, own_cpu_seconds
from ingest_setup import HeaderFn


@dataclass
class LoadSpec:
    """What to send: bodies round-robin to `path`, from `threads` clients, for a time or a number of requests."""

    label: str
    path: str
    bodies: list[bytes]
    rows_per_body: int
    headers: HeaderFn
    threads: int
    duration: float | None = None
    total_requests: int | None = None
    min_requests: int = 0
    max_seconds: float = 300.0
    steady_after: float | None = None  # also report the requests completed after this many seconds


@dataclass
class LoadResult:
    label: str
    threads: int
    requests: int
    rows: int
    seconds: float
    requests_per_s: float
    rows_per_s: float
    p50_ms: float
    p99_ms: float
    daemon_cpu_s: float  # user + system, all threads
    daemon_sys_s: float  # of which in the kernel (socket reads, spool writes)
    client_cpu_s: float  # this process
    other_cpu_s: float  # the rest of the machine: other processes competing for the cores
    body_bytes: int
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    steady_after: float | None = None
    steady_requests_per_s: float = math.nan
    steady_p50_ms: float = math.nan
    steady_p99_ms: float = math.nan

    @property
    def rows_per_daemon_cpu_s(self) -> float:
        return self.rows / self.daemon_cpu_s if self.daemon_cpu_s > 0 else math.nan


def run_load(daemon: DaemonProcess, spec: LoadSpec, on_ack: Callable[[int], None] | None = None) -> LoadResult:
    """Send `spec` and time it; every reply must be 202 (the first other reply stops the run)."""
    lock = threading.Lock()
    stop = threading.Event()
    barrier = threading.Barrier(spec.threads + 1)
    latencies: list[list[float]] = [[] for _ in range(spec.threads)]
    finished: list[list[float]] = [[] for _ in range(spec.threads)]
    errors: list[str] = []
    state = {"issued": 0, "start": 0.0, "deadline": 0.0}

    def claim() -> int | None:
        with lock:
            if stop.is_set():
                return None
            issued = state["issued"]
            if spec.total_requests is not None:
                if issued >= spec.total_requests:
                    return None
            else:
                now = time.perf_counter()
                if now - state["start"] > spec.max_seconds:
                    return None
                if now >= state["deadline"] and issued >= spec.min_requests:
                    return None
            state["issued"] = issued + 1
            return int(issued)

    def fail(message: str) -> None:
        with lock:
            if len(errors) < 5:
                errors.append(message)
        stop.set()

    def worker(t: int) -> None:
        n = len(spec.bodies)
        lat = latencies[t]
        ends = finished[t]
        with httpx.Client(base_url=daemon.url, timeout=120) as client:
            try:
                client.get("/healthz")  # open the keep-alive connection before the clock starts
            except httpx.HTTPError as exc:
                fail(f"connect: {exc!r}")
            barrier.wait()
            while (i := claim()) is not None:
                t0 = time.perf_counter()
                try:
                    reply = client.post(spec.path, content=spec.bodies[i % n], headers=spec.headers(t, i))
                except httpx.HTTPError as exc:
                    fail(f"{spec.label}: request failed: {exc!r}")
                    break
                t1 = time.perf_counter()
                if reply.status_code != 202:
                    fail(f"{spec.label}: HTTP {reply.status_code}: {reply.text[:300]}")
                    break
                lat.append(t1 - t0)
                ends.append(t1)
                if on_ack is not None:
                    on_ack(spec.rows_per_body)

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(spec.threads)]
    for th in threads:
        th.start()
    daemon_user0, daemon_sys0 = daemon.cpu_user_sys()
    client_cpu0 = own_cpu_seconds()
    busy0 = machine_busy_seconds()
    state["start"] = time.perf_counter()
    state["deadline"] = state["start"] + (spec.duration or 0.0)
    barrier.wait()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - state["start"]
    daemon_user, daemon_sys = daemon.cpu_user_sys()
    daemon_cpu = daemon_user + daemon_sys - daemon_user0 - daemon_sys0
    client_cpu = own_cpu_seconds() - client_cpu0
    other_cpu = max(0.0, machine_busy_seconds() - busy0 - daemon_cpu - client_cpu)
    all_lat = np.array([x for lat in latencies for x in lat])
    requests = int(all_lat.size)
    p50, p99 = (np.percentile(all_lat, [50, 99]) * 1000).tolist() if requests else (math.nan, math.nan)
    body_bytes = sum(len(spec.bodies[i % len(spec.bodies)]) for i in range(requests))
    steady: dict[str, Any] = {}
    if spec.steady_after is not None and seconds > spec.steady_after + 1 and requests:
        ends = np.array([x for e in finished for x in e]) - state["start"]
        late = all_lat[ends >= spec.steady_after]
        if late.size:
            p50s, p99s = (np.percentile(late, [50, 99]) * 1000).tolist()
            rate = late.size / (seconds - spec.steady_after)
            steady = {"steady_requests_per_s": rate, "steady_p50_ms": p50s, "steady_p99_ms": p99s}
    return LoadResult(
        steady_after=spec.steady_after,
        **steady,
        label=spec.label,
        threads=spec.threads,
        requests=requests,
        rows=requests * spec.rows_per_body,
        seconds=seconds,
        requests_per_s=requests / seconds,
        rows_per_s=requests * spec.rows_per_body / seconds,
        p50_ms=p50,
        p99_ms=p99,
        daemon_cpu_s=daemon_cpu,
        daemon_sys_s=daemon_sys - daemon_sys0,
        client_cpu_s=client_cpu,
        other_cpu_s=other_cpu,
        body_bytes=body_bytes,
        errors=len(errors),
        first_errors=errors,
    )


def row_header() -> str:
    """Column heads of `row_line`; CPU columns are shares of one core over the run's wall time."""
    return (
        f"{'payload':<28}{'thr':>4}{'reqs':>8}{'rows/s':>12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'dmn cpu':>9}{'(sys)':>7}{'cli cpu':>9}{'oth cpu':>9}{'rows/dmn-cpu-s':>16}"
    )


def row_line(r: LoadResult) -> str:
    return (
        f"{r.label:<28}{r.threads:>4}{r.requests:>8}{r.rows_per_s:>12,.0f}{r.requests_per_s:>10,.0f}"
        f"{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.daemon_cpu_s / r.seconds:>9.0%}{r.daemon_sys_s / r.seconds:>7.0%}"
        f"{r.client_cpu_s / r.seconds:>9.0%}{r.other_cpu_s / r.seconds:>9.0%}{r.rows_per_daemon_cpu_s:>16,.0f}"
    )


def best(results: list[LoadResult], label: str) -> LoadResult | None:
    """The run of `label` with the most rows/s (over the client thread counts)."""
    matching = [r for r in results if r.label == label and r.requests]
    return max(matching, key=lambda r: r.rows_per_s) if matching else None
