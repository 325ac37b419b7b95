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

The parts live beside this script: ingest_setup.py (config, payloads, targets, baseline), ingest_load.py (the load
generator), ingest_runs.py (/rows and RSS runs), ingest_cloudevents.py (httpx senders and wrk), ingest_profile.py
(py-spy and cProfile); harness.py holds what every benchmark shares.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness import Target, dir_bytes, fmt_mib, machine, make_parser, positive_ints, print_targets, write_json
from ingest_cloudevents import CloudEventResult, WrkResult, cloudevents, cloudevents_wrk
from ingest_load import LoadResult, best
from ingest_profile import Hotspots, StageCosts, hotspots, in_process_costs, print_stage_costs
from ingest_runs import IngestRun, RssResult
from ingest_setup import (
    CONTENT_TYPES,
    POOL_ROWS,
    TARGET_ARROW_ROWS_PER_S,
    TARGET_BATCH,
    TARGET_CE_P99_MS,
    TARGET_CE_PER_S,
    TARGET_JSON_ROWS_PER_S,
    TARGET_RSS_GROWTH,
    BaselineResult,
    baseline,
    cloudevent_pool,
    payload_pool,
    start_daemon,
)


def judge(
    rows: list[LoadResult], ces: list[CloudEventResult], rss: RssResult | None, wrk: WrkResult | None = None
) -> list[Target]:
    """Throughput on the best thread count, single-row CloudEvents (httpx and wrk), and RSS flatness."""
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
    p = make_parser(__doc__, "short smoke run (1,000,000 rows for RSS, 1 s cells)")
    p.add_argument("--duration", type=float, help="seconds per /rows cell (default 4, --quick 1)")
    p.add_argument("--min-requests", type=int, help="at least this many requests per cell (default 20, --quick 5)")
    p.add_argument("--threads", type=positive_ints, help="client thread counts for /rows (default 1,4; --quick 2)")
    p.add_argument(
        "--batch-sizes", type=positive_ints, default=[1, 100, 10000], help="rows per request (default 1,100,10000)"
    )
    p.add_argument("--ce-senders", type=positive_ints, help="concurrent CloudEvents senders (default 2,4; --quick 4)")
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
    a.threads = pick(a.threads, [1, 4], [2])
    a.ce_senders = pick(a.ce_senders, [2, 4], [4])
    a.ce_duration = pick(a.ce_duration, 20.0, 2.0)
    a.baseline_seconds = pick(a.baseline_seconds, 1.0, 0.3)
    a.rss_rows = pick(a.rss_rows, 10_000_000, 1_000_000)
    if max(a.batch_sizes) > POOL_ROWS:
        p.error(f"batch sizes must be 1..{POOL_ROWS}")
    return a


def print_baseline(results: list[BaselineResult], seconds: float) -> None:
    print(f"\n== baseline: pyarrow alone in this process, {seconds:g}s per case (one thread)")
    print(f"{'payload':<16}{'rows/s':>14}{'calls/s':>12}{'us/call':>10}")
    for b in results:
        print(f"{f'{b.fmt} x{b.batch}':<16}{b.rows_per_s:>14,.0f}{b.calls_per_s:>12,.0f}{b.us_per_call:>10,.1f}")


def print_wrk(w: WrkResult | None) -> None:
    if w is None:
        print("\n(wrk not installed: `apt-get install wrk` adds a C load generator for single-row events)")
        return
    print(
        f"\n== POST /v1/cloudevents driven by wrk ({w.connections} connections, {w.seconds:g}s): "
        f"{w.requests_per_s:,.0f} req/s, p50 {w.p50_ms:.2f} ms, p99 {w.p99_ms:.2f} ms, "
        f"daemon cpu {w.daemon_cpu:.0%}, non-2xx {w.non_2xx}"
    )


def print_ratios(
    base: list[BaselineResult], rows: list[LoadResult], ces: list[CloudEventResult]
) -> list[dict[str, Any]]:
    """Daemon rows/s over baseline rows/s per payload, both measured in this run; returns them for the JSON."""
    print("\n== daemon / baseline (best thread count; the daemon also shapes, counts, samples and spools)")
    print(f"{'payload':<16}{'daemon rows/s':>15}{'baseline rows/s':>17}{'ratio':>8}")
    ratios: list[dict[str, Any]] = []
    for b in base:
        label = f"{b.fmt} x{b.batch}"
        r: LoadResult | None
        if b.fmt == "cloudevent":
            r = max((c.load for c in ces), key=lambda x: x.rows_per_s, default=None)
        else:
            r = best(rows, label)
        if r is None:
            continue
        ratio = r.rows_per_s / b.rows_per_s
        ratios.append({"payload": label, "daemon": r.rows_per_s, "baseline": b.rows_per_s, "ratio": ratio})
        print(f"{label:<16}{r.rows_per_s:>15,.0f}{b.rows_per_s:>17,.0f}{ratio:>8.3f}")
    return ratios


def print_rss(m: RssResult) -> None:
    for n, v in m.by_decile:
        print(f"   after {n:>12,} rows: RSS {fmt_mib(v)}")
    print(
        f"RSS before streaming {fmt_mib(m.rss_start)}, at 10% {fmt_mib(m.rss_at_10pct)}, end {fmt_mib(m.rss_end)}, "
        f"peak after 10% {fmt_mib(m.rss_peak_after_10pct)} ({m.growth_peak:+.1%}); "
        f"{'flat' if m.flat else 'NOT flat'} within {TARGET_RSS_GROWTH:.0%}"
    )
    print(
        f"streamed {m.rows:,} rows in {m.seconds:.1f}s ({m.rows_per_s:,.0f} rows/s, {m.threads} threads); "
        f"window rows_seen {m.rows_seen:,}, rows_sampled {m.rows_sampled:,}; spool on disk "
        f"{fmt_mib(m.spool_bytes)} ({m.spool_bytes / max(m.rows, 1):.0f} B/row), data_dir {fmt_mib(m.data_dir_bytes)}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    host = machine(["pyarrow", "httpx", "orjson"])
    print(f"driftwatch ingest benchmark: {host.describe()}")
    print(
        f"NOTE: the daemon and this client share {host.usable_cpus} core(s) (machine: {host.cpus}); the targets are"
        " stated for one core given to the daemon. 'dmn cpu'/'cli cpu' are each process's CPU use as % of one core,"
        " and 'rows/dmn-cpu-s' is rows per CPU-second the daemon spent (all its threads)."
    )
    workdir = Path(tempfile.mkdtemp(prefix="dw-bench-ingest-"))
    run = IngestRun(args, workdir)
    report: dict[str, Any] = {"args": vars(args), "cores": host.usable_cpus, "machine": host}
    rows_results: list[LoadResult] = []
    ce_results: list[CloudEventResult] = []
    base_results: list[BaselineResult] = []
    rss_result: RssResult | None = None
    wrk_result: WrkResult | None = None
    spots: list[Hotspots] = []
    costs: list[StageCosts] = []
    t_start = time.perf_counter()
    try:
        pools = {(f, b): payload_pool(run.source, f, b) for f in CONTENT_TYPES for b in args.batch_sizes}
        ce_bodies = cloudevent_pool(run.source)
        shown = ", ".join(f"{fmt} x{b} {len(pool[0]):,}" for (fmt, b), pool in pools.items())
        print(f"payload bytes: {shown}, cloudevent x1 {len(ce_bodies[0])}")
        base_results = [baseline(fmt, batch, pool, args.baseline_seconds) for (fmt, batch), pool in pools.items()]
        base_results.append(baseline("cloudevent", 1, ce_bodies, args.baseline_seconds))
        print_baseline(base_results, args.baseline_seconds)

        daemon = start_daemon(workdir / "main")
        rss_start = daemon.rss()
        print(
            f"\ndaemon pid {daemon.pid} on {daemon.url}: ready in {daemon.startup_seconds:.1f}s, "
            f"RSS {fmt_mib(rss_start)}",
            flush=True,
        )
        try:
            rows_results = run.throughput(daemon, pools)
            ce_results = cloudevents(run, daemon, ce_bodies)
            wrk_result = cloudevents_wrk(daemon, ce_bodies[0], args.wrk_seconds, 8)
            print_wrk(wrk_result)
            report["cloudevents_wrk"] = wrk_result
            report["main_daemon_rss_start"] = rss_start
            report["main_daemon_rss_after"] = rss_after = daemon.rss()
            print(f"\ndaemon RSS: {fmt_mib(rss_start)} when ready, {fmt_mib(rss_after)} after these runs")
            if args.profile:
                spots = hotspots(run, daemon, pools, ce_bodies)
        finally:
            report["main_daemon_spool_bytes"] = dir_bytes(daemon.folder / "data" / "spool")
            code = daemon.stop()
            if code != 0:
                run.error(f"daemon exited with {code}:\n{daemon.log()}")
        report["ratios"] = print_ratios(base_results, rows_results, ce_results)

        if args.cprofile:
            costs = in_process_costs(workdir / "inproc", pools, ce_bodies, args.cprofile_seconds, min(args.top, 10))
            print_stage_costs(costs, rows_results)

        if not args.skip_rss and TARGET_BATCH <= POOL_ROWS:
            arrow_pool = pools.get(("arrow", TARGET_BATCH)) or payload_pool(run.source, "arrow", TARGET_BATCH)
            rss_result = run.rss(arrow_pool, TARGET_BATCH)
            print_rss(rss_result)
    except Exception as exc:  # report what we have, then fail
        run.error(f"{type(exc).__name__}: {exc}")
    finally:
        if args.keep:
            print(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    targets = judge(rows_results, ce_results, rss_result, wrk_result)
    shared = f"stated for one core; measured with {host.usable_cpus} core(s) shared by daemon and client"
    print_targets(targets, shared)
    print(f"\ntotal {time.perf_counter() - t_start:.0f}s, {len(run.errors)} error(s)")

    if args.json:
        report |= {
            "rows": [asdict(r) | {"rows_per_daemon_cpu_s": r.rows_per_daemon_cpu_s} for r in rows_results],
            "cloudevents": ce_results,
            "baseline": base_results,
            "rss": rss_result,
            "hotspots": spots,
            "in_process": costs,
            "targets": targets,
            "errors": run.errors.messages,
        }
        write_json(args.json, report)
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
