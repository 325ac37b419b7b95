#!/usr/bin/env python
"""Benchmark the daemon's memory under worst-case ingest requests: per request, and many at once against the bound.

Each body of `memory_bodies.py` (JSON rows, NDJSON, Arrow IPC, KServe V1/V2 and structured CloudEvents, each in the
shapes that cost the most memory per byte) is sized to the decoded-size limit and sent to a fresh
`python -m driftwatch run` on a loopback port (the triage example monitor, 8 features, and two CloudEvents routes).
Measured per body: the daemon's peak RSS during the request above its RSS just before (VmHWM after resetting it
through /proc/PID/clear_refs), and the memory the daemon charged the request against ingest.limits.max_inflight_bytes
(the same estimate, computed in this process). Then one daemon gets `--senders` clients sending `--rounds` bodies
each, all shapes in turn, at once: its peak RSS growth (sampled every 2 ms) is compared with the bound
docs/operations.md#memory states, and the statuses are counted (202, or 503 for what did not fit).

    .venv/bin/python benchmarks/bench_memory.py            # 16 MiB bodies, the default limits (a few minutes)
    .venv/bin/python benchmarks/bench_memory.py --quick    # 2 MiB bodies, limits and budget scaled down
    .venv/bin/python benchmarks/bench_memory.py --only json --json out.json

Targets: every request's peak is at most its charge, and the concurrent run's growth stays within
max_inflight_bytes + 48 MiB + 320 KiB per sender. Missing one prints FAIL but does not change the exit code; a 5xx
other than 503 (except with --baseline), or a daemon dying, makes it 1.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from harness import (
    ROOT,
    BenchError,
    DaemonProcess,
    Target,
    fmt_mib,
    machine,
    make_parser,
    print_tables,
    print_targets,
    progress,
    write_json,
)
from memory_bodies import FEATURES, NUMERIC, POSITIONAL_SERVICE, Body, bodies, headers

MIB = 1024 * 1024
# What the daemon may add beyond the budget: uvicorn, the thread pool's stacks, allocator bookkeeping.
OVERHEAD = 48 * MIB
PER_SENDER = 320 * 1024


@dataclass
class Single:
    name: str
    body_bytes: int
    status: int
    peak: int
    charge: int
    seconds: float


@dataclass
class Report:
    machine: str
    size: int
    max_rows: int
    budget: int
    idle_rss: int = 0
    singles: list[Single] = field(default_factory=list)
    senders: int = 0
    concurrent_peak: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)


def write_config(folder: Path, size: int, max_rows: int, budget: int) -> Path:
    kinds = "".join(f"      {f}: {'numeric' if f in NUMERIC else 'categorical'}\n" for f in FEATURES)
    # 0: a daemon from before the budget existed (--baseline), which would refuse the key.
    inflight = f", max_inflight_bytes: {budget}" if budget else ""
    text = f"""data_dir: {folder / "data"}
ingest:
  limits: {{max_body_bytes: {size}, max_decoded_bytes: {size}, max_rows: {max_rows}{inflight}}}
  cloudevents:
    - {{inference_service: triage-model, monitor: triage}}
    - {{inference_service: {POSITIONAL_SERVICE}, monitor: triage, input_columns: [{", ".join(NUMERIC)}]}}
monitors:
  - name: triage
    reference: {{path: {ROOT / "examples" / "triage" / "reference.csv"}}}
    prediction_columns: [predicted_urgency]
    features:
{kinds}    window: {{type: tumbling, duration: 1d}}
    schedule: {{interval: 1d}}
"""
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def charge_of(body: Body, size: int, max_rows: int, budget: int) -> int:
    """What the daemon charges this request, estimated as it does (0 for a daemon older than the estimate)."""
    try:
        from driftwatch.config import IngestLimits
        from driftwatch.ingest.cloudevents import parse_cloudevent
        from driftwatch.ingest.limits import admission_bytes, read_rows, scan_bytes
        from driftwatch.ingest.payloads import PayloadError
    except ImportError:
        return 0
    limits = IngestLimits(max_body_bytes=size, max_decoded_bytes=size, max_rows=max_rows, max_inflight_bytes=1 << 40)
    claimed = [2 * len(body.data)]

    class Count:
        def reserve(self, n: int) -> None:
            claimed[0] += max(n, 0)

        def settle(self) -> None:
            return None

    try:
        if body.route == "rows":
            read_rows(body.data, body.content_type, None, limits, FEATURES, Count())
        else:
            Count().reserve(scan_bytes(len(body.data)))
            parse_cloudevent(headers(body, "x"), body.data, limits, Count().reserve)
    except PayloadError:
        pass
    # Rows give back what was reserved for the size once the body is scanned (Ticket.settle): their estimate alone
    # must cover them. A CloudEvent keeps what was reserved for its size until it is done.
    return claimed[0] if body.route == "rows" else max(claimed[0], min(admission_bytes(len(body.data)), budget))


def _vm(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def send(client: httpx.Client, body: Body, event_id: str) -> httpx.Response:
    path = "/v1/monitors/triage/rows" if body.route == "rows" else "/v1/cloudevents"
    return client.post(path, content=body.data, headers=headers(body, event_id))


def run_single(body: Body, baseline: bool, root: Path, report: Report) -> Single:
    folder = Path(tempfile.mkdtemp(dir=root))
    daemon = DaemonProcess(folder, write_config(folder, report.size, report.max_rows, report.budget)).start()
    try:
        with httpx.Client(base_url=daemon.url, timeout=600) as client:
            send(client, Body("warm-up", "rows", "application/json", b'[{"patient_age": 1}]'), "warm")
            time.sleep(0.3)
            report.idle_rss = max(report.idle_rss, _vm(daemon.pid)["VmRSS"])
            Path(f"/proc/{daemon.pid}/clear_refs").write_text("5")
            before = _vm(daemon.pid)["VmRSS"]
            t0 = time.perf_counter()
            reply = send(client, body, "single")
            seconds = time.perf_counter() - t0
            if reply.status_code >= 500 and not baseline:
                raise BenchError(f"{body.name}: {reply.status_code} {reply.text[:200]}")
            peak = _vm(daemon.pid)["VmHWM"] - before
    finally:
        daemon.stop()
    return Single(
        body.name,
        len(body.data),
        reply.status_code,
        peak,
        charge_of(body, report.size, report.max_rows, report.budget),
        seconds,
    )


def run_concurrent(
    shapes: list[Body], senders: int, rounds: int, root: Path, report: Report, baseline: bool = False
) -> None:
    folder = Path(tempfile.mkdtemp(dir=root))
    daemon = DaemonProcess(folder, write_config(folder, report.size, report.max_rows, report.budget)).start()
    assert daemon.ps is not None
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    try:
        with httpx.Client(base_url=daemon.url, timeout=600) as client:
            for i, body in enumerate(shapes):  # each alone first, so that the daemon has seen every path
                send(client, body, f"alone-{i}")
        time.sleep(0.5)
        base = peak = daemon.rss()
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, daemon.rss())
                time.sleep(0.002)

        def sender(k: int) -> None:
            with httpx.Client(base_url=daemon.url, timeout=600) as client:
                for r in range(rounds):
                    reply = send(client, shapes[(k * rounds + r) % len(shapes)], f"c{k}-{r}")
                    statuses[str(reply.status_code)] += 1
                    if reply.status_code >= 500 and reply.status_code != 503 and not baseline:
                        errors.append(f"{reply.status_code} {reply.text[:200]}")

        sampler = threading.Thread(target=sample)
        sampler.start()
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        sampler.join()
    finally:
        daemon.stop()
    if errors:
        raise BenchError("; ".join(errors[:3]))
    report.senders = senders
    report.concurrent_peak = peak - base
    report.statuses = dict(statuses)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__, "2 MiB bodies, max_rows 200,000, a 96 MiB budget")
    parser.add_argument("--senders", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="bodies each client sends (default 3)")
    parser.add_argument("--only", default="", help="only the bodies whose name contains this")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="the daemon has no ingest.limits.max_inflight_bytes (a checkout before it, put first on PYTHONPATH)",
    )
    args = parser.parse_args(argv)
    size, max_rows, budget = (2 * MIB, 200_000, 96 * MIB) if args.quick else (16 * MIB, 1_000_000, 768 * MIB)
    if args.baseline:
        budget = 0
    report = Report(machine(["pyarrow", "orjson", "uvicorn"]).describe(), size, max_rows, budget)
    print(report.machine)
    shapes = [b for b in bodies(size, max_rows) if args.only in b.name]
    try:
        with tempfile.TemporaryDirectory(prefix="driftwatch-bench-memory-") as tmp:
            for body in shapes:
                progress(f"alone: {body.name}")
                report.singles.append(run_single(body, args.baseline, Path(tmp), report))
            progress(f"{args.senders} senders at once")
            run_concurrent(shapes, args.senders, args.rounds, Path(tmp), report, args.baseline)
    except (BenchError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rows = [
        [
            s.name,
            fmt_mib(s.body_bytes),
            str(s.status),
            fmt_mib(s.peak),
            fmt_mib(s.charge),
            f"{s.peak / s.charge:.2f}" if s.charge else "-",
            f"{s.peak / size:.1f}",
            f"{s.seconds:.2f}",
        ]
        for s in report.singles
    ]
    columns = ["body", "size", "status", "peak RSS +", "charged", "peak/charged", "peak/limit", "s"]
    print_tables([(f"one request at a time (idle RSS {fmt_mib(report.idle_rss)})", columns, rows)], ["body"])
    bound = (budget or (768 * MIB if not args.quick else 96 * MIB)) + OVERHEAD + args.senders * PER_SENDER
    print(f"\n{args.senders} senders x {args.rounds}: peak RSS +{fmt_mib(report.concurrent_peak)}, {report.statuses}")
    report.targets = [
        Target(
            "concurrent growth",
            fmt_mib(report.concurrent_peak),
            f"<= {fmt_mib(bound)}",
            report.concurrent_peak <= bound,
        )
    ]
    charged = [s for s in report.singles if s.charge]
    if charged:  # a daemon without the estimate (an older version under test) charges nothing
        worst = max(charged, key=lambda s: s.peak / s.charge)
        ratio = f"worst {worst.peak / worst.charge:.2f} ({worst.name})"
        report.targets.insert(0, Target("peak <= charge", ratio, "<= 1.00", worst.peak <= worst.charge))
    print_targets(report.targets, "missing a target does not change the exit code")
    if args.json is not None:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
