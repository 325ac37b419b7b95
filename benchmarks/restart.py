#!/usr/bin/env python
"""Benchmark a restart of the real daemon after kill -9 with 1M spooled rows, with and without its window checkpoint.

The daemon (`python -m driftwatch run -c CONFIG --port P` on a loopback port, temporary data_dir) runs the example
triage monitor without its text feature (the features of tests/daemon/harness.py FAST_FEATURES), one tumbling window
of a day, a check every hour (none runs meanwhile) and `checkpoint_interval: 2s`. `--rows` rows of
`driftwatch.demo.production_batch` (drift 0.2) are posted as Arrow IPC bodies of `--batch-rows` rows from two client
threads; once a checkpoint newer than the last of them is written (`driftwatch_checkpoint_timestamp_seconds`), a
tail of `--tail-rows` more rows is posted and the daemon is killed with SIGKILL. The spool then holds every row and the
checkpoint all but (about) the tail.

Then, `--runs` times each, alternating, the daemon is started on that data_dir and timed from the launch:

- **checkpoint**: the checkpoint file as it was at the kill: the open window comes from it, only the tail is replayed;
- **full**: the checkpoint deleted first (the baseline): the whole spool is replayed, as every restart did before
  checkpoints existed.

Measured per start: seconds until `GET /healthz` first answers 200 and until `GET /readyz` first answers 200 (polled
every 20 ms), the restore's own duration and rows as the daemon reports them (`GET /v1/monitors/triage`: `restore`),
and whether `/readyz` answered 503 `"status": "restoring"` meanwhile. Every start must restore exactly the rows
posted (else exit 1). Each started daemon is killed again once ready; the checkpoint file is put back (or removed)
before each start, so every start of a mode sees the same files. Afterwards the checkpoint's size is reported and one
checkpoint is written in this process from a restored window (median of 5), which is what the daemon pays every
`checkpoint_interval` while rows arrive.

    .venv/bin/python benchmarks/restart.py                  # 1,000,000 rows (about 1-2 minutes)
    .venv/bin/python benchmarks/restart.py --quick          # 100,000 rows, 2 runs per mode
    .venv/bin/python benchmarks/restart.py --batch-rows 1000 --json out.json

Targets (1M rows): ready within 5 s of the launch with the checkpoint; the restore itself (as the daemon reports it)
within 0.5 s with the checkpoint; /healthz within 5 s in both modes. The ratios full / checkpoint of the ready times
and of the restore times are reported. Missing a target prints FAIL but does not change the exit code.
"""

from __future__ import annotations

import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from harness import (
    ROOT,
    BenchError,
    DaemonProcess,
    ErrorLog,
    Machine,
    Target,
    add_seed,
    dir_bytes,
    fmt_mib,
    machine,
    make_parser,
    print_tables,
    print_targets,
    progress,
    write_json,
)

FEATURES = {
    "patient_age": "numeric",
    "heart_rate": "numeric",
    "temperature_c": "numeric",
    "pain_score": "numeric",
    "arrival_mode": "categorical",
    "channel": "categorical",
    "insurance": "categorical",
    "predicted_urgency": "categorical",
}
POLL_SECONDS = 0.02
TARGET_READY_SECONDS = 5.0
TARGET_HEALTHZ_SECONDS = 5.0
TARGET_RESTORE_SECONDS = 0.5


@dataclass
class Start:
    mode: str
    healthz_seconds: float
    ready_seconds: float
    saw_restoring: bool
    restore_seconds: float
    checkpoint: str
    checkpoint_rows: int
    replayed_rows: int
    restored_rows: int


@dataclass
class Report:
    machine: Machine
    rows: int
    batch_rows: int
    tail_rows: int
    spool_bytes: int = 0
    checkpoint_bytes: int = 0
    checkpoint_write_ms: float = 0.0
    ingest_seconds: float = 0.0
    starts: list[Start] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


def write_config(folder: Path) -> Path:
    features = "".join(f"      {name}: {kind}\n" for name, kind in FEATURES.items())
    text = f"""data_dir: {folder / "data"}
checkpoint_interval: 2s
monitors:
  - name: triage
    reference: {{path: {ROOT / "examples" / "triage" / "reference.csv"}}}
    features:
{features}    window: {{type: tumbling, duration: 1d}}
    schedule: {{interval: 1h}}
"""
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def _bodies(batch_rows: int, seed: int, n: int = 32) -> list[bytes]:
    import pyarrow as pa
    import pyarrow.ipc as ipc

    from driftwatch import demo

    out = []
    for i in range(n):
        table = demo.production_batch(batch_rows, 0.2, seed=seed + i)
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        out.append(sink.getvalue().to_pybytes())
    return out


def post_rows(url: str, bodies: list[bytes], requests: int, threads: int = 2) -> None:
    """POST `requests` Arrow bodies from `threads` clients; any reply but 202 is an error."""
    failures: list[str] = []

    def send(k: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(k, requests, threads):
                reply = client.post(
                    "/v1/monitors/triage/rows",
                    content=bodies[i % len(bodies)],
                    headers={"content-type": "application/vnd.apache.arrow.stream"},
                )
                if reply.status_code != 202:
                    failures.append(f"{reply.status_code} {reply.text[:200]}")
                    return

    workers = [threading.Thread(target=send, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        raise BenchError(f"a POST was refused: {failures[0]}")


def checkpoint_time(url: str) -> float | None:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("driftwatch_checkpoint_timestamp_seconds{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def fill(folder: Path, config: Path, args: Any, report: Report) -> Path:
    """Spool the rows and the tail through a real daemon, checkpoint in between, kill it; returns the checkpoint."""
    daemon = DaemonProcess(folder, config).start()
    bodies = _bodies(args.batch_rows, args.seed)
    t0 = time.perf_counter()
    progress(f"posting {args.rows:,} rows in bodies of {args.batch_rows} ...")
    post_rows(daemon.url, bodies, args.rows // args.batch_rows)
    report.ingest_seconds = time.perf_counter() - t0
    posted = time.time()
    deadline = time.monotonic() + 60
    while (checkpoint_time(daemon.url) or 0.0) < posted:
        if time.monotonic() > deadline:
            raise BenchError("no checkpoint written within 60 s")
        time.sleep(0.2)
    post_rows(daemon.url, bodies, args.tail_rows // args.batch_rows)
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait(10)
    report.spool_bytes = dir_bytes(folder / "data" / "spool")
    checkpoint = folder / "data" / "checkpoints" / "triage.checkpoint"
    if not checkpoint.exists():
        raise BenchError("the daemon wrote no checkpoint")
    report.checkpoint_bytes = checkpoint.stat().st_size
    saved = folder / "checkpoint.saved"
    shutil.copy2(checkpoint, saved)
    return saved


def timed_start(folder: Path, config: Path, mode: str, expected: int) -> Start:
    """Start the daemon, time /healthz and /readyz from the launch, read its restore figures, kill it."""
    daemon = DaemonProcess(folder, config)
    t0 = time.perf_counter()
    with daemon.log_path.open("ab") as log:
        daemon.proc = subprocess.Popen(
            [sys.executable, "-m", "driftwatch", "run", "-c", str(config), "--port", str(daemon.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    healthz = ready = None
    restoring = False
    deadline = time.monotonic() + 300
    with httpx.Client(base_url=daemon.url, timeout=5) as client:
        while ready is None:
            if daemon.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"daemon not ready (exit {daemon.proc.poll()}):\n{daemon.log()}")
            try:
                if healthz is None and client.get("/healthz").status_code == 200:
                    healthz = time.perf_counter() - t0
                if healthz is not None:
                    reply = client.get("/readyz")
                    if reply.status_code == 200:
                        ready = time.perf_counter() - t0
                    elif reply.json().get("status") == "restoring":
                        restoring = True
            except httpx.HTTPError:
                pass
            time.sleep(POLL_SECONDS)
        doc = client.get("/v1/monitors/triage").json()
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait(10)
    r = doc["restore"]
    start = Start(
        mode,
        healthz or 0.0,
        ready,
        restoring,
        r["seconds"],
        r["checkpoint"],
        r["checkpoint_rows"],
        r["replayed_rows"],
        doc["ingest"]["restored_rows"],
    )
    if start.restored_rows != expected:
        raise BenchError(f"{mode}: restored {start.restored_rows} rows, {expected} were posted")
    if (mode == "checkpoint") != (start.checkpoint == "used"):
        raise BenchError(f"{mode}: checkpoint {start.checkpoint!r}")
    return start


def checkpoint_cost(config: Path) -> float:
    """Median milliseconds of one checkpoint of the restored window, written in this process."""
    from driftwatch.config import load_config
    from driftwatch.live.monitor import LiveMonitor
    from driftwatch.reference.profile import load_profile

    cfg = load_config(config)
    m = cfg.monitors[0]
    live = LiveMonitor(m, load_profile(m, cfg.data_dir), cfg.data_dir)
    live.restore()
    times = []
    for _ in range(5):
        live._checkpointed = None  # write it even though nothing changed
        t0 = time.perf_counter()
        live.checkpoint()
        times.append(time.perf_counter() - t0)
    live.spool.close()
    return statistics.median(times) * 1000


def judge(report: Report) -> None:
    def median(mode: str, key: str) -> float:
        return statistics.median(getattr(s, key) for s in report.starts if s.mode == mode)

    ready_cp, ready_full = median("checkpoint", "ready_seconds"), median("full", "ready_seconds")
    restore_cp, restore_full = median("checkpoint", "restore_seconds"), median("full", "restore_seconds")
    health = max(s.healthz_seconds for s in report.starts)
    report.targets = [
        Target(
            "the restore itself with the checkpoint (daemon-reported)",
            f"{restore_cp:.2f} s (full replay {restore_full:.2f} s, ratio {restore_full / restore_cp:.1f}x)",
            f"<= {TARGET_RESTORE_SECONDS:.1f} s",
            restore_cp <= TARGET_RESTORE_SECONDS,
        ),
        Target(
            f"ready with the checkpoint, {report.rows:,} rows spooled",
            f"{ready_cp:.2f} s (full replay {ready_full:.2f} s, ratio {ready_full / ready_cp:.2f}x)",
            f"<= {TARGET_READY_SECONDS:.0f} s",
            ready_cp <= TARGET_READY_SECONDS,
        ),
        Target(
            "/healthz answers, either mode",
            f"{health:.2f} s (worst start)",
            f"<= {TARGET_HEALTHZ_SECONDS:.0f} s",
            health <= TARGET_HEALTHZ_SECONDS,
        ),
    ]


def print_report(report: Report) -> None:
    print(f"machine: {report.machine.describe()}")
    print(
        f"spooled {report.rows + report.tail_rows:,} rows in bodies of {report.batch_rows} "
        f"(ingest {report.ingest_seconds:.1f} s); spool {fmt_mib(report.spool_bytes)}, "
        f"checkpoint {fmt_mib(report.checkpoint_bytes)}, one checkpoint write {report.checkpoint_write_ms:.0f} ms"
    )
    cols = ["mode", "healthz s", "ready s", "restoring seen", "restore s", "ckpt rows", "replayed", "restored"]
    rows = [
        [
            s.mode,
            f"{s.healthz_seconds:.2f}",
            f"{s.ready_seconds:.2f}",
            "yes" if s.saw_restoring else "no",
            f"{s.restore_seconds:.2f}",
            f"{s.checkpoint_rows:,}",
            f"{s.replayed_rows:,}",
            f"{s.restored_rows:,}",
        ]
        for s in report.starts
    ]
    print_tables([("starts after kill -9 (seconds from the launch)", cols, rows)], left=["mode"])


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__, "100,000 rows, 2 starts per mode")
    parser.add_argument("--rows", type=int, default=None, help="rows spooled before the checkpoint (default 1M)")
    parser.add_argument("--batch-rows", type=int, default=100, help="rows per POST (default %(default)s)")
    parser.add_argument("--tail-rows", type=int, default=10_000, help="rows posted after it (default %(default)s)")
    parser.add_argument("--runs", type=int, default=None, help="starts per mode (default 3)")
    add_seed(parser)
    args = parser.parse_args(argv)
    args.rows = args.rows or (100_000 if args.quick else 1_000_000)
    runs = args.runs or (2 if args.quick else 3)
    report = Report(machine(["pyarrow", "uvicorn"]), args.rows, args.batch_rows, args.tail_rows)
    errors = ErrorLog()
    with tempfile.TemporaryDirectory(prefix="driftwatch-bench-restart-") as tmp:
        folder = Path(tmp)
        config = write_config(folder)
        try:
            saved = fill(folder, config, args, report)
            checkpoint = folder / "data" / "checkpoints" / "triage.checkpoint"
            expected = (
                args.rows // args.batch_rows * args.batch_rows + args.tail_rows // args.batch_rows * args.batch_rows
            )
            for i in range(runs):
                for mode in ("checkpoint", "full"):
                    if mode == "checkpoint":
                        shutil.copy2(saved, checkpoint)
                    else:
                        checkpoint.unlink(missing_ok=True)
                    progress(f"start {i + 1}/{runs}, {mode} ...")
                    report.starts.append(timed_start(folder, config, mode, expected))
            report.checkpoint_write_ms = checkpoint_cost(config)
        except BenchError as exc:
            errors.error(str(exc))
            return 1
    judge(report)
    print_report(report)
    print_targets(report.targets, "missing the target does not change the exit code")
    if args.json is not None:
        write_json(args.json, report)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
