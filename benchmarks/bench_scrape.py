#!/usr/bin/env python
"""Benchmark one Prometheus scrape of the daemon's metrics at 10, 100 and 1,000 monitors x 100 features each.

A real `Daemon` is built in this process without its scheduler or HTTP listener: a Config with N monitors that all
read one reference Parquet file (written once to a temporary folder: 300 rows, 70% numeric and 30% string
categorical features, listed with their kind), then `Daemon(config).start(schedule=False)`, which builds every
monitor's profile, records the reference and opens its spool (`--setup direct` instead loads one profile and gives
every monitor a `LiveMonitor` on it). Every monitor then gets:

- a few rows ingested through `Daemon.ingest` (so window and spool series carry real values);
- a latest check: one real `CheckResult`, computed once by `driftwatch.checks.engine.run_check` on a 300-row
  current table
  (a quarter of the numeric features shifted, some categories reweighted or new, a few missing values), reused for
  every monitor with `dataclasses.replace(result, monitor=name)`; every feature's test runs, so every monitor exports
  all its per-feature series (`max_exported_features` is at least the feature count);
- check counters, timestamps, its schedule interval and one check-duration observation.

Measured per size, on `create_registry(daemon)` (the registry `driftwatch.serve.routes` serves):

- `driftwatch.serve.metrics.exposition(registry, FeatureLines(daemon), accept)`, the body `/metrics` serves (the
  per-feature lines are rendered once per check and reused; a separate line times them rendered afresh), in the
  text format and in OpenMetrics: median and p95 wall time over
  `--runs` runs after one warm-up, output bytes, and series (lines not starting with '#');
- `collect`: the collectors alone (`registry.collect()` iterated, samples counted), to split the collector's share
  from the encoder's;
- at 100 monitors (`--http-monitors`): `GET /metrics` through `driftwatch.serve.routes.create_app(daemon)` served by
  uvicorn on a loopback port (httpx, keep-alive), text and OpenMetrics (by the Accept header), body read included; and
  the worst `GET /healthz` latency seen by a second client polling during those scrapes (the `/metrics` handler
  encodes in the thread pool; the GIL still makes a slow scrape delay other requests).

    .venv/bin/python benchmarks/bench_scrape.py                 # 10, 100 and 1,000 monitors (a few minutes)
    .venv/bin/python benchmarks/bench_scrape.py --quick         # 10 and 100 monitors, fewer runs
    .venv/bin/python benchmarks/bench_scrape.py --sizes 100 --cprofile 10 --json out.json

Target: a scrape at 100 monitors x 100 features takes < 100 ms (median, judged for the text format, OpenMetrics and
HTTP separately). Missing it prints FAIL but does not change the exit code; the exit code is 1 only on errors (a
monitor that did not load, a check that did not run every feature's test, missing per-feature series, an HTTP error).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from harness import (
    BenchError,
    Machine,
    Target,
    Timing,
    add_seed,
    cprofile_top,
    fmt_mb,
    machine,
    make_parser,
    positive_ints,
    print_targets,
    progress,
    serve_app,
    time_calls,
    write_json,
)
from prometheus_client import CollectorRegistry

from driftwatch.checks.engine import CheckResult, run_check
from driftwatch.config import Config
from driftwatch.live.monitor import LiveMonitor
from driftwatch.reference.profile import load_profile
from driftwatch.serve.daemon import CheckRun, Daemon
from driftwatch.serve.metrics import FeatureLines, create_registry, exposition
from driftwatch.serve.routes import create_app
from driftwatch.types import Status

DEFAULT_SIZES = (10, 100, 1000)
QUICK_SIZES = (10, 100)
DEFAULT_FEATURES = 100
REFERENCE_ROWS = 300
CURRENT_ROWS = 300
INGEST_ROWS = 20
NUMERIC_SHARE = 0.7
TARGET_MONITORS = 100
TARGET_MS = 100.0
TEXT_ACCEPT = "text/plain;version=0.0.4"
OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0"
FEATURE_SERIES = b"driftwatch_feature_drifted{"


# ---- data ------------------------------------------------------------------------------------------------------


def feature_kinds(n_features: int) -> dict[str, str]:
    """Feature name -> kind, numeric first."""
    n_numeric = round(n_features * NUMERIC_SHARE)
    kinds = {f"num_{i:03d}": "numeric" for i in range(n_numeric)}
    kinds |= {f"cat_{i:03d}": "categorical" for i in range(n_features - n_numeric)}
    return kinds


def _numeric(rng: np.random.Generator, i: int, rows: int, shift: float) -> pa.Array:
    scale = 1.0 + i % 3
    values = rng.normal(i % 7 + shift * scale, scale, rows)
    mask = rng.random(rows) < 0.01
    return pa.array(values, pa.float64(), mask=mask)


def _categorical(rng: np.random.Generator, i: int, rows: int, drifted: bool, new: bool) -> pa.Array:
    levels = [f"level_{j}" for j in range(3 + i % 8)]
    weights = np.linspace(1.0, 2.0, len(levels))
    if drifted:
        weights = weights[::-1] ** 3
    values = rng.choice(np.array(levels, dtype=object), rows, p=weights / weights.sum())
    if new:
        values[rng.random(rows) < 0.05] = "level_new"
    mask = rng.random(rows) < 0.01
    return pa.array(values.tolist(), pa.string(), mask=mask)


def make_tables(kinds: dict[str, str], seed: int) -> tuple[pa.Table, pa.Table]:
    """Reference and current tables; a quarter of the numeric and a fifth of the categorical features drift."""
    rng = np.random.default_rng(seed)
    ref: dict[str, pa.Array] = {}
    cur: dict[str, pa.Array] = {}
    for i, (name, kind) in enumerate(kinds.items()):
        if kind == "numeric":
            ref[name] = _numeric(rng, i, REFERENCE_ROWS, 0.0)
            cur[name] = _numeric(rng, i, CURRENT_ROWS, 0.8 if i % 4 == 0 else 0.0)
        else:
            ref[name] = _categorical(rng, i, REFERENCE_ROWS, False, False)
            cur[name] = _categorical(rng, i, CURRENT_ROWS, i % 5 == 0, i % 10 == 3)
    return pa.table(ref), pa.table(cur)


def make_config(n_monitors: int, kinds: dict[str, str], reference: Path, data_dir: Path) -> Config:
    monitor: dict[str, Any] = {
        "reference": {"path": str(reference)},
        "features": kinds,
        "max_exported_features": max(100, len(kinds)),
        "window": {"type": "tumbling", "duration": "1d"},
        "schedule": {"interval": "1h"},
    }
    monitors = [{"name": f"model-{i:04d}", **monitor} for i in range(n_monitors)]
    return Config.model_validate({"data_dir": str(data_dir), "monitors": monitors})


# ---- daemon state ----------------------------------------------------------------------------------------------


def build_daemon(config: Config, setup: str) -> Daemon:
    """A daemon whose monitors are loaded, without scheduler or HTTP."""
    daemon = Daemon(config, seed=0)
    if setup == "start":
        daemon.start(schedule=False)
    else:
        daemon.store.upgrade()
        profile = load_profile(config.monitors[0], config.data_dir)
        for m in config.monitors:
            daemon.monitors[m.name].live = LiveMonitor(m, profile, config.data_dir, seed=0)
        daemon.started = True
    failed = {name: s.load_error for name, s in daemon.monitors.items() if s.live is None}
    if failed:
        name, error = next(iter(failed.items()))
        raise BenchError(f"{len(failed)} monitor(s) not loaded, e.g. {name}: {error}")
    return daemon


def compute_result(daemon: Daemon, current: pa.Table, n_features: int) -> CheckResult:
    """One real check of the first monitor; every feature's test must have run."""
    m = daemon.config.monitors[0]
    live = daemon.monitors[m.name].live
    assert live is not None
    result = run_check(live.profile, current, m.drift)
    not_ok = [f"{f.name}: {f.status.value} {f.message}" for f in result.features if f.status != Status.OK]
    if len(result.features) != n_features or not_ok:
        raise BenchError(f"check ran {len(result.features)} features, not all ok: {not_ok[:3]}")
    return result


def populate(daemon: Daemon, result: CheckResult, batch: pa.Table) -> None:
    """Rows, a latest check and check counters for every monitor, as a running daemon would have them."""
    now = time.time()
    for i, (name, state) in enumerate(daemon.monitors.items()):
        daemon.ingest(name, batch)
        state.last = CheckRun(i + 1, replace(result, monitor=name), now - 3600.0, now, "schedule")
        state.last_check_at = state.last_success_at = result.started_at
        state.checks_by_outcome.update({"ok": 11, "drift": 1, "insufficient_data": 1})
        state.interval_seconds = 3600.0


def observe_durations(daemon: Daemon, result: CheckResult) -> None:
    """One check-duration observation per monitor, into whichever histogram the daemon is wired to."""
    for name in daemon.monitors:
        daemon.on_check_duration(name, result.duration_seconds)


# ---- measurement -----------------------------------------------------------------------------------------------


@dataclass
class Encoding:
    timing: Timing
    bytes: int
    series: int


@dataclass
class HttpResult:
    monitors: int
    text: Encoding
    openmetrics: Encoding
    healthz_idle_ms: float
    healthz_max_during_scrapes_ms: float
    healthz_requests_during_scrapes: int


@dataclass
class SizeResult:
    monitors: int
    features: int
    setup_seconds: float
    populate_seconds: float
    runs: int
    collect: Timing
    samples: int
    text: Encoding
    openmetrics: Encoding
    http: HttpResult | None = None


@dataclass
class Report:
    machine: Machine
    setup: str
    features: int
    sizes: list[SizeResult] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    cprofile: str | None = None
    cprofile_monitors: int = 0


def count_series(body: bytes) -> int:
    return sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))


def check_body(body: bytes, n_monitors: int, n_features: int, what: str) -> None:
    found = sum(1 for line in body.split(b"\n") if line.startswith(FEATURE_SERIES))
    if found != n_monitors * n_features:
        raise BenchError(f"{what}: {found} driftwatch_feature_drifted series, expected {n_monitors * n_features}")


def encoding(fn: Callable[[], bytes], runs: int, n_monitors: int, n_features: int, what: str) -> Encoding:
    times, body = time_calls(fn, runs)
    check_body(body, n_monitors, n_features, what)
    return Encoding(Timing.of(times), len(body), count_series(body))


def collect_samples(registry: CollectorRegistry) -> int:
    return sum(len(metric.samples) for metric in registry.collect())


# ---- HTTP ------------------------------------------------------------------------------------------------------


def _get(client: httpx.Client, path: str, accept: str | None = None) -> bytes:
    headers = {"accept": accept} if accept else {}
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise BenchError(f"GET {path}: HTTP {response.status_code}: {response.text[:200]}")
    return response.content


def measure_http(daemon: Daemon, result: CheckResult, runs: int, n_features: int) -> HttpResult:
    n = len(daemon.monitors)
    with serve_app(create_app(daemon)) as url:
        observe_durations(daemon, result)  # create_app made its own registry and rewired the histogram hook
        with httpx.Client(base_url=url, timeout=300.0) as client, httpx.Client(base_url=url, timeout=60.0) as probe:
            idle, _ = time_calls(lambda: _get(probe, "/healthz"), 50)
            stop = threading.Event()
            probe_times: list[float] = []

            def poll() -> None:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    _get(probe, "/healthz")
                    probe_times.append(time.perf_counter() - t0)
                    time.sleep(0.002)

            poller = threading.Thread(target=poll, name="bench-healthz", daemon=True)
            poller.start()
            try:
                text = encoding(lambda: _get(client, "/metrics", TEXT_ACCEPT), runs, n, n_features, "HTTP text")
                om = encoding(
                    lambda: _get(client, "/metrics", OPENMETRICS_ACCEPT), runs, n, n_features, "HTTP OpenMetrics"
                )
            finally:
                stop.set()
                poller.join(60.0)
    return HttpResult(
        n,
        text,
        om,
        statistics.median(idle) * 1000.0,
        max(probe_times, default=0.0) * 1000.0,
        len(probe_times),
    )


# ---- one size --------------------------------------------------------------------------------------------------


def runs_for(n_monitors: int, args: argparse.Namespace) -> int:
    if args.runs is not None:
        return args.runs
    if args.quick:
        return 5
    return 20 if n_monitors <= 100 else 5


def run_size(
    n_monitors: int,
    args: argparse.Namespace,
    root: Path,
    reference: Path,
    kinds: dict[str, str],
    current: pa.Table,
    report: Report,
) -> SizeResult:
    n_features = len(kinds)
    runs = runs_for(n_monitors, args)
    config = make_config(n_monitors, kinds, reference, root / f"data-{n_monitors}")
    progress(f"[{n_monitors} monitors] loading ({args.setup}) ...")
    t0 = time.perf_counter()
    daemon = build_daemon(config, args.setup)
    setup_seconds = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        result = compute_result(daemon, current, n_features)
        populate(daemon, result, current.slice(0, INGEST_ROWS))
        populate_seconds = time.perf_counter() - t0
        progress(f"[{n_monitors} monitors] loaded in {setup_seconds:.1f} s; measuring {runs} runs ...")
        registry = create_registry(daemon)
        observe_durations(daemon, result)
        times, samples = time_calls(lambda: collect_samples(registry), runs)
        collect = Timing.of(times)
        features = FeatureLines(daemon)
        text = encoding(lambda: exposition(registry, features, None)[0], runs, n_monitors, n_features, "text")
        om = encoding(
            lambda: exposition(registry, features, OPENMETRICS_ACCEPT)[0], runs, n_monitors, n_features, "OpenMetrics"
        )
        # The first scrape after a check renders that monitor's per-feature lines; later ones reuse them.
        cold_times, _ = time_calls(lambda: exposition(registry, FeatureLines(daemon), None), max(1, runs // 2))
        cold = Timing.of(cold_times)
        print(
            f"[{n_monitors} monitors] text scrape with every monitor's feature lines rendered afresh: "
            f"median {cold.median_ms:.1f} ms, p95 {cold.p95_ms:.1f} ms",
            flush=True,
        )
        size = SizeResult(n_monitors, n_features, setup_seconds, populate_seconds, runs, collect, samples, text, om)
        if args.cprofile and n_monitors == args.http_monitors:
            report.cprofile = cprofile_top(lambda: exposition(registry, features, None), args.cprofile)
            report.cprofile_monitors = n_monitors
        if n_monitors == args.http_monitors and not args.no_http:
            progress(f"[{n_monitors} monitors] HTTP scrapes ...")
            size.http = measure_http(daemon, result, runs, n_features)
    finally:
        daemon.stop()
    return size


# ---- output ----------------------------------------------------------------------------------------------------


def print_report(report: Report) -> None:
    print()
    print(f"{report.machine.describe()}; setup={report.setup}, {report.features} features per monitor")
    header = (
        f"{'monitors':>8} {'series':>9} {'collect':>9} {'text med':>9} {'text p95':>9} {'text size':>10} "
        f"{'OM med':>9} {'OM p95':>9} {'OM size':>10} {'runs':>4} {'setup':>8}"
    )
    print(header)
    print("-" * len(header))
    for s in report.sizes:
        print(
            f"{s.monitors:>8} {s.text.series:>9,} {s.collect.median_ms:>6.1f} ms {s.text.timing.median_ms:>6.1f} ms "
            f"{s.text.timing.p95_ms:>6.1f} ms {fmt_mb(s.text.bytes):>10} {s.openmetrics.timing.median_ms:>6.1f} ms "
            f"{s.openmetrics.timing.p95_ms:>6.1f} ms {fmt_mb(s.openmetrics.bytes):>10} {s.runs:>4} "
            f"{s.setup_seconds:>6.1f} s"
        )
    print("collect = registry.collect() alone (samples built, nothing encoded); med/p95 over the timed runs")
    for s in report.sizes:
        h = s.http
        if h is None:
            continue
        print()
        print(f"HTTP GET /metrics at {h.monitors} monitors x {s.features} features (uvicorn + FastAPI, loopback):")
        for label, e in (("text", h.text), ("OpenMetrics", h.openmetrics)):
            print(
                f"  {label:<12} median {e.timing.median_ms:7.1f} ms  p95 {e.timing.p95_ms:7.1f} ms  "
                f"{fmt_mb(e.bytes)}  {e.series:,} series"
            )
        print(
            f"  GET /healthz: median {h.healthz_idle_ms:.1f} ms idle, worst {h.healthz_max_during_scrapes_ms:.1f} ms "
            f"during the scrapes ({h.healthz_requests_during_scrapes} requests)"
        )
    if report.cprofile:
        print()
        print(f"cProfile of one text scrape at {report.cprofile_monitors} monitors (cumulative):")
        print(report.cprofile.rstrip())


def judge(report: Report) -> list[str]:
    """Sets the report's targets (median scrape time at TARGET_MONITORS); returns notes on what was not judged."""
    target = next((s for s in report.sizes if s.monitors == TARGET_MONITORS), None)
    if target is None:
        return [f"target not judged: {TARGET_MONITORS} monitors not among the sizes run"]
    checks = [("text", target.text), ("OpenMetrics", target.openmetrics)]
    if target.http is not None:
        checks += [("HTTP text", target.http.text), ("HTTP OpenMetrics", target.http.openmetrics)]
    report.targets = [
        Target(
            f"{label} scrape at {TARGET_MONITORS} x {target.features}",
            f"median {e.timing.median_ms:.1f} ms",
            f"< {TARGET_MS:.0f} ms",
            e.timing.median_ms < TARGET_MS,
        )
        for label, e in checks
    ]
    return []


# ---- main ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__, "10 and 100 monitors, 5 runs each")
    parser.add_argument("--sizes", type=positive_ints, default=None, help="monitor counts (default 10,100,1000)")
    parser.add_argument("--features", type=int, default=DEFAULT_FEATURES, help="features per monitor (default 100)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per size (default 20; 5 above 100)")
    parser.add_argument(
        "--setup",
        choices=("start", "direct"),
        default="start",
        help="start: Daemon.start(schedule=False) builds every profile; direct: one profile shared by all monitors",
    )
    parser.add_argument("--http-monitors", type=int, default=TARGET_MONITORS, help="size for the HTTP scrape")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP scrape")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the top N of one text scrape")
    add_seed(parser)
    args = parser.parse_args(argv)
    sizes = args.sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.features < 1:
        parser.error("--features must be >= 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    report = Report(machine(["prometheus-client", "fastapi", "uvicorn"]), args.setup, args.features)
    kinds = feature_kinds(args.features)
    reference_table, current = make_tables(kinds, args.seed)
    try:
        with tempfile.TemporaryDirectory(prefix="driftwatch-bench-scrape-") as tmp:
            root = Path(tmp)
            reference = root / "reference.parquet"
            pq.write_table(reference_table, reference)
            for n in sizes:
                report.sizes.append(run_size(n, args, root, reference, kinds, current, report))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    notes = judge(report)
    print_report(report)
    print_targets(report.targets, "missing the target does not change the exit code", notes)
    if args.json is not None:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
