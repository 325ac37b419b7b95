#!/usr/bin/env python
"""Benchmark the HTML report of one check: a 25-feature check of a 50,000-row sample, stored, then rendered.

The seeded data (check_data.py) keeps 19 numeric and 5 categorical columns and adds one text feature, the demo's
symptoms (driftwatch.demo), drifted in the current table. In one process:

1. the reference profile is built (reported, not a target: once per reference version);
2. `run_check` runs on the current table, calibrated, with OOD scoring and the text signals: median of 3 after a
   first run (reported apart), which loads the language models and computes the calibration nulls of this size;
3. the check is stored in a SQLite history under a temporary folder and read back with its exemplars, as the
   daemon's report route does (`get_check`, `get_exemplars`, `neighbours`; timed apart);
4. `render_report` renders it (median of 7 after a warm-up), and the page's size is reported.

    .venv/bin/python benchmarks/bench_report.py                  # 50,000 reference and current rows
    .venv/bin/python benchmarks/bench_report.py --quick          # 10,000 rows
    .venv/bin/python benchmarks/bench_report.py --rows 100000 --json out.json

Target: render_report under 2 s for the 50,000-row, 25-feature check. Exit code 1 when the check is not as
built (features missing, no drift, no exemplars), 0 otherwise, whether or not the target is met.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from check_data import categorical_names, make_table, numeric_names
from harness import (
    BenchError,
    Target,
    Timing,
    add_seed,
    machine,
    make_parser,
    print_tables,
    print_targets,
    progress,
    time_calls,
    write_json,
)

FEATURES = 25
TARGET_SECONDS = 2.0


def tables(rows: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """Reference and current: 19 numeric, 5 categorical and one text column (drifted in the current table)."""
    from driftwatch.demo.simulate import simulate

    out = []
    for current, drift in ((False, 0.0), (True, 0.6)):
        table = make_table(rows, seed, current)
        table = table.select(numeric_names()[: FEATURES - 6] + categorical_names())
        text = simulate(np.random.default_rng([seed, int(current), 99]), rows, drift).column("symptoms")
        out.append(table.append_column("symptoms", text))
    return out[0], out[1]


def monitor_config():  # driftwatch is imported lazily, after the data
    from driftwatch.config import MonitorConfig

    features = {n: "numeric" for n in numeric_names()[: FEATURES - 6]}
    features |= {c: "categorical" for c in categorical_names()} | {"symptoms": "text"}
    return MonitorConfig(
        name="bench",
        reference={"path": "generated.parquet"},
        features=features,
        ood={"redact": {"symptoms": "hash"}},
    )


def main() -> int:
    parser = make_parser(__doc__, "10,000 rows instead of 50,000")
    parser.add_argument("--rows", type=int, default=None, help="reference and current rows (default 50000)")
    add_seed(parser)
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.quick else 50_000)

    from driftwatch.checks.engine import run_check
    from driftwatch.reference.profile import build_profile
    from driftwatch.report import render_report
    from driftwatch.storage import HistoryStore

    print(machine(["pyarrow", "numpy", "evidently"]))
    progress(f"generating {rows:,} reference and current rows")
    reference, current = tables(rows, args.seed)
    monitor = monitor_config()
    t0 = time.perf_counter()
    profile = build_profile(reference, monitor, "bench", "generated")
    build_s = time.perf_counter() - t0
    progress("timing run_check")
    # The first run also loads the language models and computes the calibration nulls: reported apart.
    check_times, result = time_calls(lambda: run_check(profile, current, monitor.drift, ood=monitor.ood), 4, warmup=0)
    if (
        len(profile.features) != FEATURES
        or not result.drifted_features
        or result.ood is None
        or not result.ood.exemplars
    ):
        raise BenchError(
            f"the check is not as built: {len(profile.features)} features, {result.drifted_features} drifted"
        )
    with (
        tempfile.TemporaryDirectory(prefix="bench-report-") as folder,
        HistoryStore(f"sqlite:///{Path(folder) / 'history.db'}") as store,
    ):
        store.upgrade()
        store.record_reference(profile)
        check_id = store.record_check(result, window_start=None, window_end=None, trigger="cli")

        def read():
            found = store.get_exemplars(check_id)
            return store.neighbours(check_id), store.get_check(check_id), found[1] if found else []

        read_times, (around, record, exemplars) = time_calls(read, 5)
        progress("timing render_report")
        render_times, page = time_calls(
            lambda: render_report(record, exemplars, previous_id=around[0], next_id=around[1]), 7
        )
    check, read_t, render = Timing.of(check_times[1:]), Timing.of(read_times), Timing.of(render_times)
    cols = ("step", "runs", "median ms", "p95 ms", "min ms")
    table = [
        (name, str(t.runs), f"{t.median_ms:.1f}", f"{t.p95_ms:.1f}", f"{t.min_ms:.1f}")
        for name, t in (("run_check", check), ("read from the history", read_t), ("render_report", render))
    ]
    print_tables([(f"report of a {FEATURES}-feature check, {rows:,} rows", cols, table)], left=("step",))
    print(f"first run_check (models, calibration nulls) {check_times[0]:.2f} s; profile built in {build_s:.2f} s")
    print(
        f"page {len(page.encode()) / 1024:.0f} KiB, {page.count('<svg')} charts,"
        f" {len(exemplars)} exemplars; {result.drifted_features} of {result.judged_features} judged drifted"
        f" ({len(result.features)} results: the text feature's signals are judged as features)"
    )
    seconds = render.median_ms / 1000
    print_targets(
        [Target("render_report median", f"{seconds:.3f} s", f"< {TARGET_SECONDS:g} s", seconds < TARGET_SECONDS)],
        f"{rows:,} rows, {FEATURES} features",
    )
    if args.json:
        results = {
            "rows": rows,
            "build_seconds": build_s,
            "first_check_seconds": check_times[0],
            "run_check": check,
            "read": read_t,
            "render": render,
        }
        write_json(args.json, results | {"page_bytes": len(page.encode())})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
