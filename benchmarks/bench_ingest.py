#!/usr/bin/env python
"""Benchmark live ingestion into the real `driftwatch run` daemon over HTTP on a loopback port.

The daemon runs as a subprocess (`python -m driftwatch run -c CONFIG --port P`) with a temporary data_dir and the
example triage monitor (all ten features of config.example.yaml, a `{type: tumbling, duration: 1d}` window and a
one-day schedule so no check runs during the benchmark), plus the CloudEvents route
`{inference_service: triage-model, monitor: triage}`. Measured, in one run:

1. POST /v1/monitors/triage/rows with JSON-array, NDJSON and Arrow IPC stream bodies at batch sizes 1, 100 and
   10,000, from 1 and 4 client threads (httpx, keep-alive, one client per thread, payloads serialized beforehand):
   rows/s, requests/s, p50/p99 latency, and the CPU seconds the daemon and the client process used;
2. single-row KServe CloudEvents (binary mode) on POST /v1/cloudevents from a few senders: requests/s, p50/p99.
   The daemon ingests an unanswered request event only after `ingest.join_timeout` (10 s), from a scheduler job;
   the benchmark waits for those rows to arrive and reports how long that took;
3. a baseline in this process: the same payloads parsed by pyarrow alone (`pyarrow.json.read_json` for NDJSON,
   `pa.Table.from_pylist(orjson.loads(body))` for JSON arrays and CloudEvents bodies,
   `pyarrow.ipc.open_stream(body).read_all()` for Arrow), and the ratio daemon / baseline;
4. memory: a fresh daemon's RSS (psutil) while 10,000,000 rows (--quick: 1,000,000) stream into one window as
   Arrow IPC batches of 10,000 rows, at every 10% of the rows; flat means no reading after the first 10% is more
   than 10% above the reading at 10%. Also the spool's size on disk (data_dir/spool) at the end.

    .venv/bin/python benchmarks/bench_ingest.py                  # full run (a few minutes)
    .venv/bin/python benchmarks/bench_ingest.py --quick          # smoke run (about a minute)
    .venv/bin/python benchmarks/bench_ingest.py --json out.json --profile /tmp/prof   # + py-spy hotspots

Targets (stated for one core; here the daemon and the client share the machine's cores, which the output says):
>= 100k rows/s for JSON arrays of 10,000 rows, >= 1M rows/s for Arrow IPC batches of 10,000 rows, >= 2k single-row
CloudEvents/s with p99 < 10 ms, RSS flat within 10%. Throughput is judged on the best client-thread count.

Exit code: 1 on errors (a reply other than 202, a reply that did not accept every row, rows missing from the
monitor's counters, the daemon dying); 0 otherwise, whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import psutil
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.json as pa_json

from driftwatch.demo import production_batch

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "triage" / "reference.csv"
MONITOR = "triage"
ROWS_PATH = f"/v1/monitors/{MONITOR}/rows"
CE_PATH = "/v1/cloudevents"
CE_REQUEST_TYPE = "org.kubeflow.serving.inference.request"
CONTENT_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "arrow": "application/vnd.apache.arrow.stream",
}
FEATURES = {
    "patient_age": "numeric",
    "heart_rate": "numeric",
    "temperature_c": "numeric",
    "systolic_bp": "numeric",
    "pain_score": "numeric",
    "arrival_mode": "categorical",
    "channel": "categorical",
    "insurance": "categorical",
    "symptoms": "text",
    "predicted_urgency": "categorical",
}
# Distinct pre-serialized payloads per batch size (sent round-robin), so the window does not see one row only.
POOL_ROWS = 40_000
MAX_POOL = 64
JOIN_TIMEOUT_SECONDS = 10.0  # ingest.join_timeout default: an unanswered request event is ingested this late

TARGET_BATCH = 10_000
TARGET_JSON_ROWS_PER_S = 100_000.0
TARGET_ARROW_ROWS_PER_S = 1_000_000.0
TARGET_CE_PER_S = 2_000.0
TARGET_CE_P99_MS = 10.0
TARGET_RSS_GROWTH = 0.10


# ---- payloads -----------------------------------------------------------------------------------------------


def arrow_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def serialize(table: pa.Table, fmt: str) -> bytes:
    if fmt == "arrow":
        return arrow_bytes(table)
    rows = table.to_pylist()
    if fmt == "json":
        return orjson.dumps(rows)
    if fmt == "ndjson":
        return b"".join(orjson.dumps(row) + b"\n" for row in rows)
    raise ValueError(f"unknown format {fmt}")


def payload_pool(source: pa.Table, fmt: str, batch: int) -> list[bytes]:
    """Up to MAX_POOL distinct bodies of `batch` rows each, cut from `source`."""
    count = max(1, min(MAX_POOL, source.num_rows // batch))
    return [serialize(source.slice(i * batch, batch), fmt) for i in range(count)]


def cloudevent_pool(source: pa.Table) -> list[bytes]:
    return [orjson.dumps({"instances": [row]}) for row in source.slice(0, MAX_POOL).to_pylist()]


# ---- the daemon ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path) -> Path:
    """The example triage monitor, data under `folder`, no check during the run, one CloudEvents route."""
    features = "".join(f"      {name}: {kind}\n" for name, kind in FEATURES.items())
    text = f"""data_dir: {json.dumps(str(folder / "data"))}
ingest:
  cloudevents: [{{inference_service: triage-model, monitor: {MONITOR}}}]
monitors:
  - name: {MONITOR}
    reference: {{path: {json.dumps(str(REFERENCE))}}}
    features:
{features}    prediction_columns: [predicted_urgency]
    window: {{type: tumbling, duration: 1d}}
    schedule: {{interval: 1d}}
"""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    return path


class DaemonProcess:
    """One `driftwatch run` subprocess on a loopback port."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.config = write_config(folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None
        self.startup_seconds = math.nan

    def start(self, timeout: float = 180.0) -> DaemonProcess:
        t0 = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "driftwatch", "run", "-c", str(self.config), "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    self.startup_seconds = time.perf_counter() - t0
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daemon not ready within {timeout}s:\n{self.log()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss(self) -> int:
        assert self.ps is not None
        return int(self.ps.memory_info().rss)

    def cpu_seconds(self) -> float:
        return sum(self.cpu_user_sys())

    def cpu_user_sys(self) -> tuple[float, float]:
        assert self.ps is not None
        t = self.ps.cpu_times()
        return float(t.user), float(t.system)

    def monitor(self) -> dict[str, Any]:
        reply = httpx.get(f"{self.url}/v1/monitors/{MONITOR}", timeout=30)
        reply.raise_for_status()
        return dict(reply.json())

    def rows_accepted(self) -> int:
        return int(self.monitor()["ingest"]["rows_accepted"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 120.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return -9


def dir_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(dirpath, name)).st_size
    return total


# ---- load generation ----------------------------------------------------------------------------------------

HeaderFn = Callable[[int, int], dict[str, str]]


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
    me = psutil.Process()
    daemon_user0, daemon_sys0 = daemon.cpu_user_sys()
    client_cpu0 = sum(me.cpu_times()[:2])
    busy0 = machine_busy_seconds()
    state["start"] = time.perf_counter()
    state["deadline"] = state["start"] + (spec.duration or 0.0)
    barrier.wait()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - state["start"]
    daemon_user, daemon_sys = daemon.cpu_user_sys()
    daemon_cpu = daemon_user + daemon_sys - daemon_user0 - daemon_sys0
    client_cpu = sum(me.cpu_times()[:2]) - client_cpu0
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


def machine_busy_seconds() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0))


def static_headers(content_type: str) -> HeaderFn:
    headers = {"content-type": content_type}
    return lambda _t, _i: headers


def cloudevent_headers(tag: str) -> HeaderFn:
    def make(t: int, i: int) -> dict[str, str]:
        return {
            "ce-id": f"bench-{tag}-{t}-{i}",
            "ce-type": CE_REQUEST_TYPE,
            "ce-source": "bench/triage-model",
            "ce-specversion": "1.0",
            "ce-inferenceservicename": "triage-model",
            "content-type": "application/json",
        }

    return make


# ---- baseline -----------------------------------------------------------------------------------------------


def _parse_json(body: bytes) -> int:
    return int(pa.Table.from_pylist(orjson.loads(body)).num_rows)


def _parse_ndjson(body: bytes) -> int:
    return int(pa_json.read_json(pa.BufferReader(body)).num_rows)


def _parse_arrow(body: bytes) -> int:
    return int(ipc.open_stream(body).read_all().num_rows)


def _parse_cloudevent(body: bytes) -> int:
    return int(pa.Table.from_pylist(orjson.loads(body)["instances"]).num_rows)


BASELINE_PARSERS: dict[str, Callable[[bytes], int]] = {
    "json": _parse_json,
    "ndjson": _parse_ndjson,
    "arrow": _parse_arrow,
    "cloudevent": _parse_cloudevent,
}


@dataclass
class BaselineResult:
    fmt: str
    batch: int
    calls: int
    rows_per_s: float
    calls_per_s: float
    us_per_call: float


def baseline(fmt: str, batch: int, bodies: list[bytes], seconds: float) -> BaselineResult:
    """Parse the bodies round-robin with pyarrow alone, in this process and thread, for about `seconds`."""
    parse = BASELINE_PARSERS[fmt]
    for body in bodies:  # warm up, and check the row count
        got = parse(body)
        if got != batch:
            raise RuntimeError(f"baseline {fmt}: parsed {got} rows, expected {batch}")
    calls = 0
    t0 = time.perf_counter()
    while True:
        for body in bodies:
            parse(body)
        calls += len(bodies)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and calls >= 3:
            break
    return BaselineResult(fmt, batch, calls, calls * batch / elapsed, calls / elapsed, elapsed / calls * 1e6)


# ---- py-spy hotspots ----------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short_file(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _frame(raw: str, with_line: bool) -> str:
    m = _FRAME.match(raw)
    if not m:
        return raw
    where = _short_file(m["file"])
    if with_line and m["line"]:
        where = f"{where}:{m['line']}"
    return f"{m['func']} ({where})"


# Leaf frames of threads that wait (py-spy's idle detection misses them here) or of the event loop running C code
# (uvloop/httptools or epoll); they are counted apart and left out of the percentages.
_WAITING = (
    "Condition.wait (threading.py)",
    "Event.wait (threading.py)",
    "Queue.get (queue.py)",
    "_worker (concurrent/futures/thread.py)",
    "Runner.run (asyncio/runners.py)",
)


@dataclass
class Hotspots:
    label: str
    samples: int
    busy_samples: int
    top_self: list[tuple[str, float]]
    top_driftwatch: list[tuple[str, float]]
    thread_cpu: dict[str, float] = field(default_factory=dict)
    load: LoadResult | None = None


def read_hotspots(label: str, path: Path, top: int) -> Hotspots:
    """Self time per source line and inclusive time per driftwatch function, as % of the busy samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = busy = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        if _frame(frames[-1], with_line=False) in _WAITING:
            continue
        busy += count
        own[_frame(frames[-1], with_line=True)] += count
        for name in {_frame(f, with_line=False) for f in frames}:
            if "(driftwatch/" in name:
                inclusive[name] += count
    share = 100.0 / busy if busy else 0.0
    return Hotspots(
        label,
        total,
        busy,
        [(name, n * share) for name, n in own.most_common(top)],
        [(name, n * share) for name, n in inclusive.most_common(top)],
    )


def thread_cpu(daemon: DaemonProcess) -> dict[int, float]:
    assert daemon.ps is not None
    return {t.id: t.user_time + t.system_time for t in daemon.ps.threads()}


def cpu_by_thread(
    daemon: DaemonProcess, before: dict[int, float], after: dict[int, float], seconds: float
) -> dict[str, float]:
    """CPU (as a share of one core) of the main thread (the event loop) and of all other threads together."""
    main = (after.get(daemon.pid, 0.0) - before.get(daemon.pid, 0.0)) / seconds
    others = sum(v - before.get(k, 0.0) for k, v in after.items() if k != daemon.pid) / seconds
    return {"event loop thread": main, "other threads": others}


def profile_load(py_spy: str, daemon: DaemonProcess, out: Path, seconds: float, spec: LoadSpec, top: int) -> Hotspots:
    """Record the daemon with py-spy while `spec` runs (a separate pass: the sampler slows the daemon down)."""
    record_seconds = max(3, math.ceil(seconds))
    command = [py_spy, "record", "-p", str(daemon.pid), "-d", str(record_seconds), "-r", "100"]
    command += ["--format", "raw", "-o", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # attach
    spec.duration = record_seconds - 1.5
    before = thread_cpu(daemon)
    load = run_load(daemon, spec)
    after = thread_cpu(daemon)
    _, err = proc.communicate(timeout=record_seconds + 60)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"py-spy failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")
    spots = read_hotspots(spec.label, out, top)
    spots.load = load
    spots.thread_cpu = cpu_by_thread(daemon, before, after, load.seconds)
    return spots


# ---- in-process cost breakdown (cProfile) -------------------------------------------------------------------

# (file suffix, function name) of the ingestion stages, shown with their cumulative time per request.
STAGES = (
    ("driftwatch/ingest/payloads.py", "parse_rows"),
    ("driftwatch/ingest/payloads.py", "objects_to_table"),
    ("driftwatch/ingest/payloads.py", "_read_ndjson_fast"),
    ("driftwatch/ingest/payloads.py", "_parse_arrow"),
    ("driftwatch/ingest/cloudevents.py", "parse_cloudevent"),
    ("driftwatch/ingest/cloudevents.py", "inference_table"),
    ("driftwatch/serve/daemon.py", "ingest"),
    ("driftwatch/live/rowbatch.py", "normalize"),
    ("driftwatch/live/spool.py", "append"),
    ("driftwatch/live/monitor.py", "_add"),
    ("driftwatch/live/rowbatch.py", "counts"),
    ("driftwatch/live/window.py", "add"),
)


@dataclass
class StageCosts:
    label: str
    calls: int
    us_per_call: float  # wall time, without the profiler
    cpu_us_per_call: float  # CPU time of this process (pyarrow's threads included), without the profiler
    stages: list[tuple[str, float]]  # stage, us per call (cumulative, under the profiler, scaled to us_per_call)
    top_self: list[tuple[str, float]]  # function, % of profiled time


def _label(key: tuple[str, int, str]) -> str:
    file, line, func = key
    if file == "~":
        return func
    return f"{func} ({_short_file(file)}:{line})"


def stage_costs(
    label: str, call: Callable[[bytes], object], bodies: list[bytes], seconds: float, top: int
) -> StageCosts:
    import cProfile
    import pstats

    for body in bodies[:3]:
        call(body)
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds or n < 3:
        call(bodies[n % len(bodies)])
        n += 1
    us = (time.perf_counter() - t0) / n * 1e6
    cpu_us = (time.process_time() - c0) / n * 1e6
    profiler = cProfile.Profile()
    m = 0
    t0 = time.perf_counter()
    profiler.enable()
    while time.perf_counter() - t0 < seconds or m < 3:
        call(bodies[m % len(bodies)])
        m += 1
    profiler.disable()
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    scale = us / (total / m * 1e6)  # profiled time per call -> unprofiled time per call
    stages = []
    for suffix, func in STAGES:
        cum = sum(v[3] for k, v in raw.items() if k[0].endswith(suffix) and k[2] == func)
        if cum:
            stages.append((f"{suffix.removeprefix('driftwatch/')}:{func}", cum / m * 1e6 * scale))
    by_self = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return StageCosts(label, n, us, cpu_us, stages, [(_label(k), v[2] / total * 100) for k, v in by_self])


def in_process_costs(
    folder: Path, pools: dict[tuple[str, int], list[bytes]], ce_bodies: list[bytes], seconds: float, top: int
) -> list[StageCosts]:
    """The ingestion path without HTTP: a Daemon in this process, fed the same bodies, timed and profiled."""
    from driftwatch.config import load_config
    from driftwatch.ingest.cloudevents import inference_table, parse_cloudevent
    from driftwatch.ingest.payloads import decode_body, parse_rows
    from driftwatch.serve.daemon import Daemon

    config = load_config(write_config(folder))
    daemon = Daemon(config)
    daemon.start(schedule=False)
    limit = config.ingest.max_body_bytes
    out: list[StageCosts] = []
    try:
        for (fmt, batch), bodies in pools.items():
            ctype = CONTENT_TYPES[fmt]

            def rows(body: bytes, ctype: str = ctype) -> object:
                parsed = parse_rows(decode_body(body, None, limit), ctype)
                return daemon.ingest(MONITOR, parsed.table, parsed.rejected)

            out.append(stage_costs(f"{fmt} x{batch}", rows, bodies, seconds, top))
        headers = cloudevent_headers("inproc")(0, 0)

        def event_parse(body: bytes) -> object:
            # What the HTTP handler does before handing the event to the joiner.
            ce = parse_cloudevent(headers, decode_body(body, None, limit))
            return inference_table(ce.data, ce.kind, [])

        out.append(stage_costs("cloudevent x1 (parse only)", event_parse, ce_bodies, seconds, top))

        def event(body: bytes) -> object:
            # What one request event costs in the end: parsed, tabled, and ingested alone (as after join_timeout).
            ce = parse_cloudevent(headers, decode_body(body, None, limit))
            return daemon.ingest(MONITOR, inference_table(ce.data, ce.kind, []))

        out.append(stage_costs("cloudevent x1 (+ingest)", event, ce_bodies, seconds, top))
    finally:
        daemon.stop()
    return out


# ---- the benchmark ------------------------------------------------------------------------------------------


@dataclass
class RssResult:
    rows: int
    batch: int
    threads: int
    seconds: float
    rows_per_s: float
    rss_start: int
    rss_at_10pct: int
    rss_end: int
    rss_peak_after_10pct: int
    growth_end: float
    growth_peak: float
    flat: bool
    by_decile: list[tuple[int, int]]
    spool_bytes: int
    data_dir_bytes: int
    rows_sampled: int
    rows_seen: int
    daemon_cpu_s: float


@dataclass
class CloudEventResult:
    load: LoadResult
    deferred_rows_expected: int
    deferred_seconds_after_last_send: float
    deferred_ok: bool


@dataclass
class Target:
    name: str
    measured: str
    target: str
    passed: bool


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.errors: list[str] = []
        self.rows_sent = 0  # through /rows, replies checked
        self.source = production_batch(POOL_ROWS, 0.0, seed=2024)

    def error(self, message: str) -> None:
        self.errors.append(message)
        print(f"ERROR: {message}", flush=True)

    def record(self, result: LoadResult) -> LoadResult:
        for message in result.first_errors:
            self.error(message)
        return result

    # -- /rows throughput

    def warm_rows(self, daemon: DaemonProcess, fmt: str, batch: int, bodies: list[bytes]) -> None:
        """Send every body once and check the reply accepted all of its rows."""
        with httpx.Client(base_url=daemon.url, timeout=120) as client:
            for body in bodies:
                reply = client.post(ROWS_PATH, content=body, headers={"content-type": CONTENT_TYPES[fmt]})
                if reply.status_code != 202:
                    self.error(f"{fmt} x{batch} warm-up: HTTP {reply.status_code}: {reply.text[:300]}")
                    return
                doc = reply.json()
                if (
                    doc.get("accepted") != batch
                    or doc.get("rejected")
                    or doc.get("errors")
                    or doc.get("ignored_columns")
                ):
                    self.error(f"{fmt} x{batch} warm-up: unexpected reply {str(doc)[:300]}")
                    return
                self.rows_sent += batch

    def throughput(self, daemon: DaemonProcess, pools: dict[tuple[str, int], list[bytes]]) -> list[LoadResult]:
        out: list[LoadResult] = []
        a = self.args
        print(f"\n== POST {ROWS_PATH}: {a.duration:g}s per cell (and at least {a.min_requests} requests)", flush=True)
        print(_row_header(), flush=True)
        for fmt in CONTENT_TYPES:
            for batch in a.batch_sizes:
                bodies = pools[(fmt, batch)]
                self.warm_rows(daemon, fmt, batch, bodies)
                for threads in a.threads:
                    spec = LoadSpec(
                        label=f"{fmt} x{batch}",
                        path=ROWS_PATH,
                        bodies=bodies,
                        rows_per_body=batch,
                        headers=static_headers(CONTENT_TYPES[fmt]),
                        threads=threads,
                        duration=a.duration,
                        min_requests=a.min_requests,
                    )
                    result = self.record(run_load(daemon, spec))
                    self.rows_sent += result.rows
                    out.append(result)
                    print(_row_line(result), flush=True)
                    if not daemon.alive():
                        raise RuntimeError(f"daemon died:\n{daemon.log()}")
        accepted = daemon.rows_accepted()
        if accepted != self.rows_sent:
            self.error(f"monitor counts {accepted} accepted rows, but {self.rows_sent} were acknowledged")
        else:
            print(f"monitor rows_accepted = {accepted:,} = rows acknowledged", flush=True)
        return out

    # -- CloudEvents

    def cloudevents(self, daemon: DaemonProcess, bodies: list[bytes]) -> list[CloudEventResult]:
        a = self.args
        out: list[CloudEventResult] = []
        print(f"\n== POST {CE_PATH}: single-row KServe request events (binary mode), {a.ce_duration:g}s per run")
        print(
            f"   no response events are sent: each request waits join_timeout ({JOIN_TIMEOUT_SECONDS:g}s), then the"
            " daemon's expiry job ingests it as a one-row batch"
        )
        print(_row_header() + "  deferred ingestion", flush=True)
        for senders in a.ce_senders:
            tag = f"s{senders}-{time.monotonic_ns()}"
            with httpx.Client(base_url=daemon.url, timeout=60) as client:  # warm-up and reply check
                reply = client.post(CE_PATH, content=bodies[0], headers=cloudevent_headers(tag + "w")(0, 0))
            doc = reply.json() if reply.status_code == 202 else {}
            if reply.status_code != 202 or doc.get("monitor") != MONITOR or doc.get("kind") != "request":
                self.error(f"cloudevent warm-up: HTTP {reply.status_code}: {reply.text[:300]}")
                continue
            before = daemon.rows_accepted()
            spec = LoadSpec(
                label=f"cloudevent x1 ({senders} senders)",
                path=CE_PATH,
                bodies=bodies,
                rows_per_body=1,
                headers=cloudevent_headers(tag),
                threads=senders,
                duration=a.ce_duration,
                min_requests=a.min_requests,
                steady_after=JOIN_TIMEOUT_SECONDS + 1,
            )
            load = self.record(run_load(daemon, spec))
            sent_at = time.monotonic()
            # No response event follows, so each request is ingested alone after join_timeout (or when evicted).
            expected = before + load.requests + 1
            deadline = sent_at + JOIN_TIMEOUT_SECONDS + a.ce_drain_timeout
            got = before
            while time.monotonic() < deadline:
                got = daemon.rows_accepted()
                if got >= expected:
                    break
                time.sleep(0.2)
            waited = time.monotonic() - sent_at
            ok = got == expected
            if not ok:
                self.error(f"cloudevents: {got - before} of {expected - before} events ingested {waited:.0f}s later")
            self.rows_sent = got
            out.append(CloudEventResult(load, expected - before, waited, ok))
            print(f"{_row_line(load)}  {expected - before:,} rows in after {waited:.1f}s", flush=True)
            if not math.isnan(load.steady_requests_per_s):
                print(
                    f"{'':<28}{'':>4}{'':>8}{'':>12}{load.steady_requests_per_s:>10,.0f}{load.steady_p50_ms:>9.2f}"
                    f"{load.steady_p99_ms:>9.2f}  <- after the first {load.steady_after:g}s, while the daemon also"
                    " ingests the expired events",
                    flush=True,
                )
        return out

    # -- RSS while streaming one window

    def rss(self, pool: list[bytes], batch: int) -> RssResult:
        a = self.args
        total_requests = a.rss_rows // batch
        rows = total_requests * batch
        print(f"\n== RSS: {rows:,} rows as Arrow IPC batches of {batch:,} into one window (fresh daemon)", flush=True)
        daemon = DaemonProcess(self.workdir / "rss").start()
        try:
            with httpx.Client(base_url=daemon.url, timeout=120) as client:
                reply = client.post(ROWS_PATH, content=pool[0], headers={"content-type": CONTENT_TYPES["arrow"]})
                if reply.status_code != 202:
                    raise RuntimeError(f"RSS warm-up: HTTP {reply.status_code}: {reply.text[:300]}")
            rss_start = daemon.rss()
            lock = threading.Lock()
            acked = [batch]
            marks: list[tuple[int, int]] = []
            samples: list[tuple[int, int]] = []
            step = max(batch, rows // 10)
            next_mark = [step]
            done = threading.Event()

            def on_ack(n: int) -> None:
                with lock:
                    acked[0] += n
                    if acked[0] >= next_mark[0]:
                        marks.append((acked[0], daemon.rss()))
                        next_mark[0] += step

            def sampler() -> None:
                while not done.wait(0.1):
                    try:
                        samples.append((acked[0], daemon.rss()))
                    except psutil.Error:
                        return

            watcher = threading.Thread(target=sampler, daemon=True)
            watcher.start()
            spec = LoadSpec(
                label=f"rss arrow x{batch}",
                path=ROWS_PATH,
                bodies=pool,
                rows_per_body=batch,
                headers=static_headers(CONTENT_TYPES["arrow"]),
                threads=a.rss_threads,
                total_requests=total_requests - 1,  # the warm-up request was the first
            )
            load = self.record(run_load(daemon, spec, on_ack))
            done.set()
            watcher.join()
            rss_end = daemon.rss()
            info = daemon.monitor()
            accepted = int(info["ingest"]["rows_accepted"])
            if accepted != acked[0]:
                self.error(f"RSS run: monitor counts {accepted} accepted rows, {acked[0]} were acknowledged")
            window = info["window"]
            spool = dir_bytes(daemon.folder / "data" / "spool")
            data_dir = dir_bytes(daemon.folder / "data")
        finally:
            code = daemon.stop()
        if code != 0:
            self.error(f"RSS daemon exited with {code}:\n{daemon.log()}")
        if not marks:
            raise RuntimeError("RSS run: no readings")
        rss_10 = marks[0][1]
        tenth = marks[0][0]
        after = [r for n, r in marks + samples if n >= tenth] + [rss_end]
        peak = max(after)
        growth_end = rss_end / rss_10 - 1
        growth_peak = peak / rss_10 - 1
        return RssResult(
            rows=acked[0],
            batch=batch,
            threads=a.rss_threads,
            seconds=load.seconds,
            rows_per_s=load.rows_per_s,
            rss_start=rss_start,
            rss_at_10pct=rss_10,
            rss_end=rss_end,
            rss_peak_after_10pct=peak,
            growth_end=growth_end,
            growth_peak=growth_peak,
            flat=growth_peak <= TARGET_RSS_GROWTH,
            by_decile=marks,
            spool_bytes=spool,
            data_dir_bytes=data_dir,
            rows_sampled=int(window["rows_sampled"]),
            rows_seen=int(window["rows_seen"]),
            daemon_cpu_s=load.daemon_cpu_s,
        )

    # -- hotspots

    def hotspots(
        self, daemon: DaemonProcess, pools: dict[tuple[str, int], list[bytes]], ce_bodies: list[bytes]
    ) -> list[Hotspots]:
        a = self.args
        py_spy = a.py_spy or shutil.which("py-spy")
        if not py_spy:
            print("\n(no py-spy found: hotspots skipped; pip install py-spy or pass --py-spy PATH)")
            return []
        folder = Path(a.profile)
        folder.mkdir(parents=True, exist_ok=True)
        print(
            f"\n== hotspots: py-spy record -r 100, {a.profile_seconds:g}s per case (a separate pass, slowed by py-spy)"
        )
        print(
            "   % of busy samples over all daemon threads; waiting threads and the event loop inside C"
            " (uvloop/httptools/epoll) are left out and shown as 'waiting/C loop'"
        )
        cases: list[tuple[str, LoadSpec]] = []
        for fmt, batch in (("arrow", TARGET_BATCH), ("json", TARGET_BATCH), ("ndjson", TARGET_BATCH), ("arrow", 1)):
            if (fmt, batch) in pools:
                headers = static_headers(CONTENT_TYPES[fmt])
                spec = LoadSpec(f"{fmt} x{batch}", ROWS_PATH, pools[(fmt, batch)], batch, headers, 2)
                cases.append((f"{fmt}{batch}", spec))
        cases.append(("cloudevent", LoadSpec("cloudevent x1", CE_PATH, ce_bodies, 1, cloudevent_headers("prof"), 4)))
        out: list[Hotspots] = []
        for name, spec in cases:
            spots = profile_load(py_spy, daemon, folder / f"{name}.txt", a.profile_seconds, spec, a.top)
            assert spots.load is not None
            self.record(spots.load)
            out.append(spots)
            waiting = 1 - spots.busy_samples / max(spots.samples, 1)
            cpu = ", ".join(f"{k} {v:.0%}" for k, v in spots.thread_cpu.items())
            print(
                f"\n-- {spots.label} ({spec.threads} clients): {spots.load.rows_per_s:,.0f} rows/s"
                f" ({spots.load.requests_per_s:,.0f} req/s) while profiled; daemon CPU: {cpu} of a core;"
                f" {spots.samples} samples, waiting/C loop {waiting:.0%}; raw stacks {folder / (name + '.txt')}"
            )
            print("   self time by source line:")
            for frame, pct in spots.top_self:
                print(f"   {pct:5.1f}%  {frame}")
            print("   inclusive, driftwatch functions:")
            for frame, pct in spots.top_driftwatch:
                print(f"   {pct:5.1f}%  {frame}")
        return out


def print_stage_costs(costs: list[StageCosts], rows: list[LoadResult]) -> None:
    print("\n== in-process cost per request (no HTTP): parse + Daemon.ingest in this process, then cProfiled")
    print(
        "   'HTTP+framework' = the daemon's CPU per request in the HTTP run (best thread count) minus the in-process"
        " CPU per request; stage times are cumulative, scaled from the profiled run to the unprofiled wall time"
    )
    for c in costs:
        label = c.label.split(" (")[0]
        # CloudEvents runs also ingest expired events in the background, so no per-request split is shown for them.
        http = None if label.startswith("cloudevent") else best(rows, label)
        extra = ""
        if http is not None and http.requests:
            per_req = http.daemon_cpu_s / http.requests * 1e6
            http_us = per_req - c.cpu_us_per_call
            split = f"~{http_us:,.0f} us" if http_us > 0 else "lost in the noise"
            extra = f"; HTTP run {per_req:,.0f} us daemon CPU/request -> HTTP+framework {split}"
        print(
            f"\n-- {c.label}: {c.us_per_call:,.0f} us wall, {c.cpu_us_per_call:,.0f} us CPU per request in-process"
            f" ({c.calls:,} calls){extra}"
        )
        print("   " + ", ".join(f"{name} {us:,.0f}" for name, us in c.stages) + " (us)")
        for name, pct in c.top_self:
            print(f"   {pct:5.1f}%  {name}")


def _row_header() -> str:
    return (
        f"{'payload':<28}{'thr':>4}{'reqs':>8}{'rows/s':>12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'dmn cpu':>9}{'(sys)':>7}{'cli cpu':>9}{'oth cpu':>9}{'rows/dmn-cpu-s':>16}"
    )


def _row_line(r: LoadResult) -> str:
    return (
        f"{r.label:<28}{r.threads:>4}{r.requests:>8}{r.rows_per_s:>12,.0f}{r.requests_per_s:>10,.0f}"
        f"{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.daemon_cpu_s / r.seconds:>9.0%}{r.daemon_sys_s / r.seconds:>7.0%}"
        f"{r.client_cpu_s / r.seconds:>9.0%}{r.other_cpu_s / r.seconds:>9.0%}{r.rows_per_daemon_cpu_s:>16,.0f}"
    )


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def best(results: list[LoadResult], label: str) -> LoadResult | None:
    matching = [r for r in results if r.label == label and r.requests]
    return max(matching, key=lambda r: r.rows_per_s) if matching else None


WRK_SCRIPT = """
local counter = 0
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1e9)))
end
wrk.method = "POST"
wrk.headers["ce-type"] = "org.kubeflow.serving.inference.request"
wrk.headers["ce-source"] = "bench"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-inferenceservicename"] = "triage-model"
wrk.headers["content-type"] = "application/json"
wrk.body = [==[BODY]==]
function request()
  counter = counter + 1
  wrk.headers["ce-id"] = "wrk-" .. tid .. "-" .. counter
  return wrk.format(nil, "/v1/cloudevents")
end
"""


@dataclass(frozen=True)
class WrkResult:
    """Single-row CloudEvents driven by wrk, a C load generator that leaves the daemon most of the CPU."""

    connections: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    daemon_cpu: float


def _wrk_ms(text: str, pct: str) -> float:
    m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return math.nan
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def cloudevents_wrk(daemon: DaemonProcess, body: bytes, seconds: float, connections: int) -> WrkResult | None:
    """Drive the daemon with wrk (Debian package `wrk`) when it is installed; None otherwise."""
    exe = shutil.which("wrk")
    if exe is None:
        return None
    script = daemon.folder / "cloudevent.lua"
    script.write_text(WRK_SCRIPT.replace("BODY", body.decode()))
    cpu0 = daemon.cpu_seconds()
    t0 = time.perf_counter()
    out = subprocess.run(
        [exe, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), daemon.url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    elapsed = time.perf_counter() - t0
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkResult(
        connections,
        seconds,
        float(rate.group(1)) if rate else math.nan,
        _wrk_ms(out, "50"),
        _wrk_ms(out, "99"),
        int(bad.group(1)) if bad else 0,
        (daemon.cpu_seconds() - cpu0) / elapsed,
    )


def judge(
    rows: list[LoadResult], ces: list[CloudEventResult], rss: RssResult | None, wrk: WrkResult | None = None
) -> list[Target]:
    targets: list[Target] = []
    for fmt, goal in (("json", TARGET_JSON_ROWS_PER_S), ("arrow", TARGET_ARROW_ROWS_PER_S)):
        r = best(rows, f"{fmt} x{TARGET_BATCH}")
        if r is not None:
            targets.append(
                Target(
                    f"{fmt} batches of {TARGET_BATCH:,} rows",
                    f"{r.rows_per_s:,.0f} rows/s ({r.threads} thr)",
                    f">= {goal:,.0f} rows/s",
                    r.rows_per_s >= goal,
                )
            )
    if ces:
        c = max(ces, key=lambda x: x.load.requests_per_s).load
        measured = f"{c.requests_per_s:,.0f}/s, p99 {c.p99_ms:.1f} ms ({c.threads} senders)"
        passed = c.requests_per_s >= TARGET_CE_PER_S and c.p99_ms < TARGET_CE_P99_MS
        if not math.isnan(c.steady_requests_per_s):  # the part where expired events are ingested too counts as well
            measured += f"; after {c.steady_after:g}s {c.steady_requests_per_s:,.0f}/s, p99 {c.steady_p99_ms:.1f} ms"
            passed = passed and c.steady_requests_per_s >= TARGET_CE_PER_S and c.steady_p99_ms < TARGET_CE_P99_MS
        targets.append(
            Target(
                "single-row CloudEvents (httpx senders, client-bound)",
                measured,
                f">= {TARGET_CE_PER_S:,.0f}/s, p99 < {TARGET_CE_P99_MS:g} ms",
                passed,
            )
        )
    if wrk is not None:
        targets.append(
            Target(
                "single-row CloudEvents (wrk)",
                f"{wrk.requests_per_s:,.0f}/s, p99 {wrk.p99_ms:.1f} ms ({wrk.connections} connections, "
                f"daemon cpu {wrk.daemon_cpu:.0%})",
                f">= {TARGET_CE_PER_S:,.0f}/s, p99 < {TARGET_CE_P99_MS:g} ms",
                wrk.requests_per_s >= TARGET_CE_PER_S and wrk.p99_ms < TARGET_CE_P99_MS and wrk.non_2xx == 0,
            )
        )
    if rss is not None:
        targets.append(
            Target(
                f"RSS over {rss.rows:,} rows",
                f"peak {rss.growth_peak:+.1%}, end {rss.growth_end:+.1%} vs the 10% mark",
                f"<= +{TARGET_RSS_GROWTH:.0%}",
                rss.flat,
            )
        )
    return targets


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="short smoke run (1,000,000 rows for RSS, 1 s cells)")
    p.add_argument("--json", metavar="PATH", help="write every result as JSON here")
    p.add_argument("--duration", type=float, help="seconds per /rows cell (default 4, --quick 1)")
    p.add_argument("--min-requests", type=int, help="at least this many requests per cell (default 20, --quick 5)")
    p.add_argument("--threads", help="client thread counts for /rows (default 1,4; --quick 2)")
    p.add_argument("--batch-sizes", default="1,100,10000", help="rows per request (default 1,100,10000)")
    p.add_argument("--ce-senders", help="concurrent CloudEvents senders (default 2,4; --quick 4)")
    p.add_argument(
        "--ce-duration", type=float, help="seconds per CloudEvents run (default 20, past join_timeout; --quick 2)"
    )
    p.add_argument("--ce-drain-timeout", type=float, default=120.0, help="wait this long past join_timeout")
    p.add_argument("--baseline-seconds", type=float, help="seconds per baseline case (default 1, --quick 0.3)")
    p.add_argument("--rss-rows", type=int, help="rows streamed for RSS (default 10,000,000; --quick 1,000,000)")
    p.add_argument("--rss-threads", type=int, default=2, help="client threads for the RSS stream (default 2)")
    p.add_argument("--skip-rss", action="store_true", help="skip the RSS stream")
    p.add_argument("--wrk-seconds", type=float, default=15.0, help="seconds of wrk load on /v1/cloudevents")
    p.add_argument("--profile", metavar="DIR", help="also record py-spy hotspots of the daemon into DIR")
    p.add_argument("--py-spy", metavar="PATH", help="py-spy executable (default: on PATH)")
    p.add_argument("--profile-seconds", type=float, default=10.0, help="seconds per profiled case (default 10)")
    p.add_argument(
        "--cprofile", action="store_true", help="also time and cProfile the ingestion path in-process (no HTTP)"
    )
    p.add_argument("--cprofile-seconds", type=float, default=2.0, help="seconds per in-process case (default 2)")
    p.add_argument("--top", type=int, default=15, help="hotspot lines shown per case (default 15)")
    p.add_argument("--keep", action="store_true", help="keep the temporary data_dirs and daemon logs")
    a = p.parse_args(argv)
    quick = a.quick

    def pick(value: Any, full: Any, smoke: Any) -> Any:
        return value if value is not None else (smoke if quick else full)

    a.duration = pick(a.duration, 4.0, 1.0)
    a.min_requests = pick(a.min_requests, 20, 5)
    a.threads = [int(x) for x in pick(a.threads, "1,4", "2").split(",")]
    a.batch_sizes = [int(x) for x in a.batch_sizes.split(",")]
    a.ce_senders = [int(x) for x in pick(a.ce_senders, "2,4", "4").split(",")]
    a.ce_duration = pick(a.ce_duration, 20.0, 2.0)
    a.baseline_seconds = pick(a.baseline_seconds, 1.0, 0.3)
    a.rss_rows = pick(a.rss_rows, 10_000_000, 1_000_000)
    if any(b < 1 or b > POOL_ROWS for b in a.batch_sizes):
        p.error(f"batch sizes must be 1..{POOL_ROWS}")
    if any(t < 1 for t in a.threads + a.ce_senders):
        p.error("thread counts must be positive")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cores = psutil.cpu_count(logical=True) or 0
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(
        f"driftwatch ingest benchmark: python {platform.python_version()}, pyarrow {pa.__version__}, "
        f"httpx {httpx.__version__}, {platform.machine()} '{platform.processor() or platform.node()}'"
    )
    print(
        f"NOTE: the daemon and this client share {affinity} core(s) (machine: {cores}); the targets are stated for one"
        " core given to the daemon. 'dmn cpu'/'cli cpu' are each process's CPU use as % of one core, and"
        " 'rows/dmn-cpu-s' is rows per CPU-second the daemon spent (all its threads)."
    )
    workdir = Path(tempfile.mkdtemp(prefix="dw-bench-ingest-"))
    bench = Bench(args, workdir)
    report: dict[str, Any] = {"args": {k: v for k, v in vars(args).items()}, "cores": affinity}
    rows_results: list[LoadResult] = []
    ce_results: list[CloudEventResult] = []
    base_results: list[BaselineResult] = []
    rss_result: RssResult | None = None
    wrk_result: WrkResult | None = None
    spots: list[Hotspots] = []
    costs: list[StageCosts] = []
    t_start = time.perf_counter()
    try:
        pools = {
            (fmt, batch): payload_pool(bench.source, fmt, batch) for fmt in CONTENT_TYPES for batch in args.batch_sizes
        }
        ce_bodies = cloudevent_pool(bench.source)
        sizes = {f"{fmt} x{b}": len(pool[0]) for (fmt, b), pool in pools.items()}
        shown = ", ".join(f"{k} {v:,}" for k, v in sizes.items())
        print(f"payload bytes: {shown}, cloudevent x1 {len(ce_bodies[0])}")

        print(f"\n== baseline: pyarrow alone in this process, {args.baseline_seconds:g}s per case (one thread)")
        print(f"{'payload':<16}{'rows/s':>14}{'calls/s':>12}{'us/call':>10}")
        for (fmt, batch), pool in pools.items():
            base_results.append(baseline(fmt, batch, pool, args.baseline_seconds))
        base_results.append(baseline("cloudevent", 1, ce_bodies, args.baseline_seconds))
        for b in base_results:
            label = f"{b.fmt} x{b.batch}"
            print(f"{label:<16}{b.rows_per_s:>14,.0f}{b.calls_per_s:>12,.0f}{b.us_per_call:>10,.1f}")

        daemon = DaemonProcess(workdir / "main").start()
        print(f"\ndaemon pid {daemon.pid} on {daemon.url}: ready in {daemon.startup_seconds:.1f}s", end="")
        rss_start = daemon.rss()
        print(f", RSS {_mib(rss_start)}", flush=True)
        try:
            rows_results = bench.throughput(daemon, pools)
            ce_results = bench.cloudevents(daemon, ce_bodies)
            wrk_result = cloudevents_wrk(daemon, ce_bodies[0], args.wrk_seconds, 8)
            if wrk_result is None:
                print("\n(wrk not installed: `apt-get install wrk` adds a C load generator for single-row events)")
            else:
                w = wrk_result
                print(
                    f"\n== POST /v1/cloudevents driven by wrk ({w.connections} connections, {w.seconds:g}s): "
                    f"{w.requests_per_s:,.0f} req/s, p50 {w.p50_ms:.2f} ms, p99 {w.p99_ms:.2f} ms, "
                    f"daemon cpu {w.daemon_cpu:.0%}, non-2xx {w.non_2xx}"
                )
                report["cloudevents_wrk"] = asdict(w)
            report["main_daemon_rss_start"] = rss_start
            report["main_daemon_rss_after"] = daemon.rss()
            print(
                f"\ndaemon RSS: {_mib(rss_start)} when ready, {_mib(report['main_daemon_rss_after'])} after these runs"
            )
            if args.profile:
                spots = bench.hotspots(daemon, pools, ce_bodies)
        finally:
            report["main_daemon_spool_bytes"] = dir_bytes(daemon.folder / "data" / "spool")
            code = daemon.stop()
            if code != 0:
                bench.error(f"daemon exited with {code}:\n{daemon.log()}")

        print("\n== daemon / baseline (best thread count; the daemon also shapes, counts, samples and spools)")
        print(f"{'payload':<16}{'daemon rows/s':>15}{'baseline rows/s':>17}{'ratio':>8}")
        ratios: list[dict[str, Any]] = []
        for b in base_results:
            label = f"{b.fmt} x{b.batch}"
            r: LoadResult | None
            if b.fmt == "cloudevent":
                r = max((c.load for c in ce_results), key=lambda x: x.rows_per_s, default=None)
            else:
                r = best(rows_results, label)
            if r is None:
                continue
            ratio = r.rows_per_s / b.rows_per_s
            ratios.append({"payload": label, "daemon": r.rows_per_s, "baseline": b.rows_per_s, "ratio": ratio})
            print(f"{label:<16}{r.rows_per_s:>15,.0f}{b.rows_per_s:>17,.0f}{ratio:>8.3f}")
        report["ratios"] = ratios

        if args.cprofile:
            costs = in_process_costs(workdir / "inproc", pools, ce_bodies, args.cprofile_seconds, min(args.top, 10))
            print_stage_costs(costs, rows_results)

        if not args.skip_rss and TARGET_BATCH <= POOL_ROWS:
            arrow_pool = pools.get(("arrow", TARGET_BATCH)) or payload_pool(bench.source, "arrow", TARGET_BATCH)
            rss_result = bench.rss(arrow_pool, TARGET_BATCH)
            m = rss_result
            for n, v in m.by_decile:
                print(f"   after {n:>12,} rows: RSS {_mib(v)}")
            print(
                f"RSS before streaming {_mib(m.rss_start)}, at 10% {_mib(m.rss_at_10pct)}, end {_mib(m.rss_end)}, "
                f"peak after 10% {_mib(m.rss_peak_after_10pct)} ({m.growth_peak:+.1%}); "
                f"{'flat' if m.flat else 'NOT flat'} within {TARGET_RSS_GROWTH:.0%}"
            )
            print(
                f"streamed {m.rows:,} rows in {m.seconds:.1f}s ({m.rows_per_s:,.0f} rows/s, {m.threads} threads); "
                f"window rows_seen {m.rows_seen:,}, rows_sampled {m.rows_sampled:,}; spool on disk "
                f"{_mib(m.spool_bytes)} ({m.spool_bytes / max(m.rows, 1):.0f} B/row), data_dir {_mib(m.data_dir_bytes)}"
            )
    except Exception as exc:  # report what we have, then fail
        bench.error(f"{type(exc).__name__}: {exc}")
    finally:
        if args.keep:
            print(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    targets = judge(rows_results, ce_results, rss_result, wrk_result)
    print(f"\n== targets (stated for one core; measured with {affinity} core(s) shared by daemon and client)")
    for t in targets:
        print(f"{'PASS' if t.passed else 'FAIL'}  {t.name:<34} {t.measured:<52} target {t.target}")
    print(f"\ntotal {time.perf_counter() - t_start:.0f}s, {len(bench.errors)} error(s)")

    if args.json:
        report |= {
            "rows": [asdict(r) | {"rows_per_daemon_cpu_s": r.rows_per_daemon_cpu_s} for r in rows_results],
            "cloudevents": [asdict(c) for c in ce_results],
            "baseline": [asdict(b) for b in base_results],
            "rss": asdict(rss_result) if rss_result else None,
            "hotspots": [asdict(s) for s in spots],
            "in_process": [asdict(c) for c in costs],
            "targets": [asdict(t) for t in targets],
            "errors": bench.errors,
        }
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    return 1 if bench.errors else 0


if __name__ == "__main__":
    sys.exit(main())
