#!/usr/bin/env python
"""Soak the real daemon: mixed well-formed and malformed traffic from concurrent clients for a set time.

The daemon runs `python -m driftwatch run` on a temporary copy of config.example.yaml (its monitor, 5-minute
windows and 30 s checks unchanged; data_dir in a temporary folder, no tokens, SQLite history, plus an MLServer route
for ce-modelid `triage-sklearn`). --clients threads, one keep-alive httpx client each, send requests picked at
random by weight (soak_traffic.KINDS): rows as JSON, NDJSON and Arrow IPC (some gzipped), KServe V1 (binary mode)
and V2 (structured) and MLServer (specversion 0.3) CloudEvents pairs, and malformed requests (bad JSON, deep
nesting, huge strings, wrong types, NaN, missing columns, unknown monitor, oversized bodies, wrong content types
and encodings, bad Arrow, bad CloudEvents). --rate caps the requests a second across clients (0: no cap).

Reported: requests and rows a second, replies by kind and status, p50/p99 latency, the daemon's RSS (VmRSS from
/proc/<pid>/status) and CPU every --sample-seconds, and the rows acknowledged against the daemon's own count.

    .venv/bin/python benchmarks/soak.py                     # 10 minutes
    .venv/bin/python benchmarks/soak.py --seconds 60 --json /tmp/soak.json

Exit code 1 when a reply is a 5xx or not the status its kind is due, a request fails in transport, the rows
acknowledged differ from the daemon's count (GET /v1/monitors/triage and /metrics), the daemon dies or does not
exit 0 on SIGTERM, or RSS keeps growing: the least-squares slope over the second half of the samples, times that
half's duration, is above --max-growth (default 10%) of that half's median RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml
from harness import ROOT, DaemonProcess, machine, print_tables, progress, write_json
from prometheus_client.parser import text_string_to_metric_families
from soak_traffic import KINDS, MLSERVER_ROUTE, MONITOR, Kind, Payloads

from driftwatch.config.service import IngestLimits

EXAMPLE = ROOT / "config.example.yaml"
FLUSH_WAIT_SECONDS = 15.0  # CloudEvents are ingested by the daemon's flusher: wait for it before counting


def soak_config(folder: Path, durability: str) -> Path:
    """config.example.yaml with data_dir under `folder`, no tokens, SQLite, and a route for MLServer events."""
    cfg = yaml.safe_load(EXAMPLE.read_text())
    cfg["data_dir"] = str(folder / "data")
    cfg["storage"] = {"url": ""}
    cfg["server"]["auth"]["tokens"] = []
    cfg["ingest"]["durability"] = durability
    cfg["ingest"]["cloudevents"].append(MLSERVER_ROUTE)
    for m in cfg["monitors"]:
        m["reference"]["path"] = str((EXAMPLE.parent / m["reference"]["path"]).resolve())
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@dataclass
class KindStats:
    """What one kind of request got back: replies by status, latencies, rows acknowledged, first surprises."""

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # not a Counter: asdict() mangles one
    latencies: list[float] = field(default_factory=list)
    rows: int = 0
    transport_errors: int = 0
    unexpected: list[str] = field(default_factory=list)


@dataclass
class Sample:
    """One reading of the daemon every --sample-seconds."""

    t: float
    rss: int
    cpu_s: float
    window_rows: int
    sampled_rows: int
    checks: int


def _proc_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sample(daemon: DaemonProcess, t0: float) -> Sample:
    info = daemon.get_json(f"/v1/monitors/{MONITOR}")
    window = info["window"]
    return Sample(
        round(time.monotonic() - t0, 1),
        _proc_rss(daemon.pid),
        _proc_cpu(daemon.pid),
        int(window["rows_seen"]),
        int(window["rows_sampled"]),
        sum(info["checks_by_outcome"].values()),
    )


def _client(
    daemon: DaemonProcess, seed: int, interval: float, stop: threading.Event, stats: dict[str, KindStats], lock: Any
) -> None:
    rng = random.Random(seed)
    limits = IngestLimits()  # the example config keeps the defaults
    payloads = Payloads(seed, limits.max_body_bytes, limits.max_string_bytes)
    weights = [k.weight for k in KINDS]
    next_at = time.monotonic()
    with httpx.Client(base_url=daemon.url, timeout=60) as client:
        while not stop.is_set():
            if interval:
                next_at = max(next_at + interval, time.monotonic() - 1.0)  # no burst to catch up after a stall
                stop.wait(max(0.0, next_at - time.monotonic()))
            kind: Kind = rng.choices(KINDS, weights)[0]
            t = time.perf_counter()
            try:
                replies, rows = kind.send(client, payloads, rng)
            except httpx.HTTPError as exc:
                with lock:
                    s = stats[kind.name]
                    s.requests += 1
                    s.transport_errors += 1
                    if len(s.unexpected) < 3:
                        s.unexpected.append(f"transport: {exc!r}"[:300])
                continue
            elapsed = time.perf_counter() - t
            with lock:
                s = stats[kind.name]
                s.requests += 1
                s.latencies.append(elapsed)
                s.rows += rows
                for r in replies:
                    s.statuses[r.status_code] = s.statuses.get(r.status_code, 0) + 1
                    if r.status_code != kind.status and len(s.unexpected) < 3:
                        s.unexpected.append(f"{r.status_code}: {r.text[:300]}")


def _metric_rows(daemon: DaemonProcess) -> tuple[float, float]:
    """driftwatch_rows_accepted_total and driftwatch_cloudevents_pending of the monitor, from /metrics."""
    text = httpx.get(f"{daemon.url}/metrics", timeout=30).text
    found = {"driftwatch_rows_accepted_total": 0.0, "driftwatch_cloudevents_pending": 0.0}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in found and s.labels.get("monitor") == MONITOR:
                found[s.name] = s.value
    return found["driftwatch_rows_accepted_total"], found["driftwatch_cloudevents_pending"]


def _rejected(daemon: DaemonProcess) -> dict[str, float]:
    text = httpx.get(f"{daemon.url}/metrics", timeout=30).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "driftwatch_requests_rejected":
            for s in family.samples:
                if s.name.endswith("_total") and s.value:
                    key = f"{s.labels.get('monitor') or '-'}/{s.labels['reason']}"
                    out[key] = s.value
    return out


def rss_growth(samples: list[Sample]) -> dict[str, float]:
    """Least-squares RSS slope over the second half of the samples, and that slope across the half / its median."""
    half = samples[len(samples) // 2 :]
    if len(half) < 6:
        return {"samples": float(len(half)), "slope_mib_per_min": float("nan"), "growth": float("nan")}
    t = np.array([s.t for s in half])
    rss = np.array([s.rss for s in half], dtype=np.float64)
    slope = float(np.polyfit(t, rss, 1)[0])  # bytes a second
    growth = slope * (t[-1] - t[0]) / float(np.median(rss))
    return {"samples": float(len(half)), "slope_mib_per_min": slope * 60 / 2**20, "growth": growth}


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="driftwatch-soak-"))
    daemon = DaemonProcess(folder, soak_config(folder, args.durability), port=args.port).start()
    progress(f"daemon ready in {daemon.startup_seconds:.1f}s on {daemon.url}; soaking for {args.seconds:.0f}s")
    stats = {k.name: KindStats() for k in KINDS}
    lock = threading.Lock()
    stop = threading.Event()
    interval = args.clients / args.rate if args.rate else 0.0
    seeds = [args.seed + i for i in range(args.clients)]
    clients = [threading.Thread(target=_client, args=(daemon, s, interval, stop, stats, lock)) for s in seeds]
    t0 = time.monotonic()
    samples = [_sample(daemon, t0)]
    for c in clients:
        c.start()
    died = None
    try:
        while time.monotonic() - t0 < args.seconds:
            time.sleep(min(args.sample_seconds, max(0.0, args.seconds - (time.monotonic() - t0))))
            if not daemon.alive():
                died = f"daemon exited with {daemon.proc.returncode if daemon.proc else '?'}"
                break
            samples.append(_sample(daemon, t0))
            if len(samples) % 12 == 0:
                s = samples[-1]
                progress(f"{s.t:6.0f}s  rss {s.rss / 2**20:7.1f} MiB  window {s.window_rows:>9,}  checks {s.checks}")
    finally:
        stop.set()
        for c in clients:
            c.join(120)
    seconds = time.monotonic() - t0
    counted = api = pending = None
    rejected: dict[str, float] = {}
    if died is None:
        deadline = time.monotonic() + FLUSH_WAIT_SECONDS
        while True:
            counted, pending = _metric_rows(daemon)
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(0.2)  # the last flush of joined rows
        counted, pending = _metric_rows(daemon)
        api = daemon.get_json(f"/v1/monitors/{MONITOR}")["ingest"]["rows_accepted"]
        rejected = _rejected(daemon)
        checks = daemon.get_json(f"/v1/monitors/{MONITOR}")["checks_by_outcome"]
    else:
        checks = {}
    exit_code = daemon.stop()
    return {
        "machine": machine(["pyarrow", "fastapi", "uvicorn"]),
        "args": vars(args) | {"port": daemon.port},
        "folder": str(folder),
        "startup_seconds": daemon.startup_seconds,
        "seconds": seconds,
        "stats": stats,
        "samples": samples,
        "rss_growth": rss_growth(samples),
        "rows_acknowledged": sum(s.rows for s in stats.values()),
        "rows_counted_api": api,
        "rows_counted_metrics": counted,
        "cloudevents_pending": pending,
        "requests_rejected": rejected,
        "checks_by_outcome": checks,
        "died": died,
        "exit_code": exit_code,
    }


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q) * 1000:.1f}" if values else "-"


def report(result: dict[str, Any], max_growth: float) -> list[tuple[str, bool, str]]:
    """Print the tables; return the verdicts (name, passed, what was measured)."""
    stats: dict[str, KindStats] = result["stats"]
    seconds = result["seconds"]
    by_kind = {k.name: k for k in KINDS}
    requests = sum(s.requests for s in stats.values())
    print(f"machine: {result['machine'].describe()}")
    print(
        f"soak: {seconds:.0f}s, {result['args']['clients']} clients, rate cap {result['args']['rate'] or 'none'}/s, "
        f"durability {result['args']['durability']}; daemon ready in {result['startup_seconds']:.1f}s"
    )
    print(
        f"throughput: {requests / seconds:,.1f} requests/s, {result['rows_acknowledged'] / seconds:,.0f} rows/s "
        f"acknowledged ({requests:,} requests, {result['rows_acknowledged']:,} rows)"
    )
    rows = []
    for name, s in stats.items():
        k = by_kind[name]
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(s.statuses.items()))
        latency = [_ms(s.latencies, 50), _ms(s.latencies, 99)]
        head = [name, "good" if k.good else "bad", str(k.status), f"{s.requests:,}", statuses or "-", f"{s.rows:,}"]
        rows.append([*head, *latency, str(s.transport_errors)])
    cols = ["kind", "", "due", "requests", "replies by status", "rows acked", "p50 ms", "p99 ms", "transport err"]
    samples: list[Sample] = result["samples"]
    series = []
    step = max(1, len(samples) // 20)
    for a, b in zip(samples[::step], samples[step::step], strict=False):
        cpu = (b.cpu_s - a.cpu_s) / max(b.t - a.t, 1e-9)
        series.append([f"{b.t:.0f}", f"{b.rss / 2**20:.1f}", f"{cpu:.0%}", f"{b.window_rows:,}", f"{b.sampled_rows:,}"])
        series[-1].append(str(b.checks))
    print_tables(
        [
            ("replies by kind", cols, rows),
            ("daemon over time", ["t s", "RSS MiB", "cpu", "window rows", "sampled", "checks"], series),
        ],
        left=["kind", "", "replies by status"],
    )
    print(f"requests rejected (metrics, monitor/reason): {result['requests_rejected']}")
    print(f"checks by outcome: {result['checks_by_outcome']}")
    for name, s in stats.items():
        for line in s.unexpected:
            print(f"  {name}: {line}")
    fives = sum(n for s in stats.values() for code, n in s.statuses.items() if code >= 500)
    wrong = sum(n for name, s in stats.items() for code, n in s.statuses.items() if code != by_kind[name].status)
    transport = sum(s.transport_errors for s in stats.values())
    acked, api, counted = result["rows_acknowledged"], result["rows_counted_api"], result["rows_counted_metrics"]
    sent: dict[str, float] = {}
    for name, s in stats.items():
        if (reason := by_kind[name].reason) is not None and s.requests - s.transport_errors:
            sent[reason] = sent.get(reason, 0) + s.requests - s.transport_errors
    g = result["rss_growth"]
    growth_ok = g["samples"] >= 6 and g["growth"] <= max_growth  # too short a run to tell is a failure too
    rss = [s.rss / 2**20 for s in samples]
    trend = (
        f"second half {g['slope_mib_per_min']:+.2f} MiB/min, {g['growth']:+.1%} of its median (max {max_growth:.0%})"
        if g["samples"] >= 6
        else f"too few samples to tell ({g['samples']:.0f} in the second half, 6 needed)"
    )
    return [
        ("no 5xx", fives == 0, f"{fives} replies 5xx"),
        ("every reply the status due", wrong == 0, f"{wrong} replies otherwise"),
        ("no transport errors", transport == 0, f"{transport} requests failed"),
        ("rows counted = acknowledged", acked == api == counted, f"acked {acked:,}, API {api}, metrics {counted}"),
        ("refusals counted by reason", sent == result["requests_rejected"], f"{sum(sent.values()):,.0f} refused"),
        (
            "RSS not growing",
            growth_ok,
            f"{trend}; RSS {rss[0]:.0f} -> peak {max(rss):.0f} -> end {rss[-1]:.0f} MiB",
        ),
        ("daemon alive, exit 0", result["died"] is None and result["exit_code"] == 0, f"exit {result['exit_code']}"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long to soak (default %(default)s)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default %(default)s)")
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s across clients, 0: none (%(default)s)")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="RSS sampling interval (%(default)s)")
    parser.add_argument("--max-growth", type=float, default=0.10, help="RSS growth allowed (default %(default)s)")
    parser.add_argument("--durability", choices=["process", "fsync"], default="process")
    parser.add_argument("--port", type=int, default=None, help="daemon port (default: a free one)")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results here")
    args = parser.parse_args()
    result = run(args)
    verdicts = report(result, args.max_growth)
    print("\n== verdict")
    for name, passed, measured in verdicts:
        print(f"{'PASS' if passed else 'FAIL'}  {name:<28}  {measured}")
    if args.json:
        write_json(args.json, result | {"verdicts": verdicts})
    if not all(passed for _, passed, _ in verdicts):
        print(f"daemon log and data kept in {result['folder']}")
        return 1
    shutil.rmtree(result["folder"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
