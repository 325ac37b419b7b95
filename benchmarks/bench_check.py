#!/usr/bin/env python
"""Benchmark a driftwatch check against evidently's `Report([DataDriftPreset()])` on the same data.

For each size (reference rows x current rows) the same seeded table of 20 numeric and 5 categorical
columns is generated in two fresh worker processes, one per side, so that peak RSS is measured fairly:

* driftwatch, as the CLI and daemon run it: one process writes the reference to Parquet and builds and
  caches its profile (timed as "build", done once per reference version); a second, fresh process loads the
  cached, memory-mapped profile and times `run_check` on the current table (median of 3);
* evidently worker: converts the tables to pandas (not timed), then times
  `Report([DataDriftPreset()]).run(Dataset.from_pandas(cur), Dataset.from_pandas(ref))`.

The check process imports only what the check needs (evidently's stat tests are imported on first use of a
non-default test; the worker records whether that happened). The evidently worker imports evidently. Each reports
`ru_maxrss` (absolute peak) and the RSS right after data generation (the baseline), so peak-above-baseline
can be shown too. The parent compares the scores (they must agree within 1e-9) and prints a table.

    .venv/bin/python benchmarks/bench_check.py                       # 100000x100000 and 1000000x100000
    .venv/bin/python benchmarks/bench_check.py --quick               # 20000x5000 smoke run
    .venv/bin/python benchmarks/bench_check.py --sizes 200000x50000 --json out.json --cprofile 10

Exit code: 1 when any score differs by more than the tolerance (or a column is scored by a different test),
0 otherwise, whether or not the speed and memory targets are met.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from check_data import categorical_names, make_table, numeric_names
from harness import (
    RssSampler,
    Target,
    add_seed,
    cprofile_top,
    current_rss_mb,
    machine,
    make_parser,
    max_rss_mb,
    print_tables,
    print_targets,
    progress,
    run_json_worker,
    time_calls,
    write_json,
)

DEFAULT_SIZES = "100000x100000,1000000x100000"
QUICK_SIZES = "20000x5000"
TARGET_SIZE = (1_000_000, 100_000)
TARGET_SPEEDUP = 20.0
TARGET_RSS_FRACTION = 1 / 3
TOLERANCE = 1e-9
CHECK_RUNS = 3
# evidently's Report is slow on large data: one run above this many rows (reference + current), three below.
REPORT_SINGLE_RUN_ROWS = 300_000
RSS_SAMPLE_SECONDS = 0.005  # during the timed runs only
# DriftSettings().min_rows: below it driftwatch reports insufficient data instead of scoring.
MIN_CURRENT_ROWS = 100

# ---- measuring ----------------------------------------------------------------------------------------------


def _import_evidently() -> tuple[Any, Any, Any, Any]:
    # Imported the same way in both workers so that its (large) import cost is in both peaks.
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    return Report, Dataset, DataDefinition, DataDriftPreset


def _generate(ref_rows: int, cur_rows: int, seed: int) -> tuple[pa.Table, pa.Table, float]:
    t0 = time.perf_counter()
    ref = make_table(ref_rows, seed, current=False)
    cur = make_table(cur_rows, seed, current=True)
    return ref, cur, time.perf_counter() - t0


def _bench_monitor(workdir: Path) -> Any:
    from driftwatch.config import MonitorConfig

    features = {name: "numeric" for name in numeric_names()} | {name: "categorical" for name in categorical_names()}
    return MonitorConfig(name="bench", reference={"path": str(workdir / "reference.parquet")}, features=features)


def _side(name: str, times: list[float], rss: tuple[float, float, float], sampler: RssSampler) -> dict[str, Any]:
    """A worker's timings and memory: `rss` is (after imports, baseline, ru_maxrss at baseline) in MiB."""
    return {
        "side": name,
        "times_s": times,
        "time_s": statistics.median(times),
        "rss_after_imports_mb": rss[0],
        "rss_baseline_mb": rss[1],
        "maxrss_at_baseline_mb": rss[2],
        "peak_rss_mb": max_rss_mb(),
        "phase_peak_rss_mb": sampler.peak_mb,
    }


def worker_driftwatch_build(ref_rows: int, seed: int, workdir: Path) -> dict[str, Any]:
    """Writes the reference to Parquet and builds + caches its profile, as the first check of a version does."""
    import pyarrow.parquet as pq

    from driftwatch.reference.profile import load_profile

    pq.write_table(make_table(ref_rows, seed, current=False), workdir / "reference.parquet")
    t0 = time.perf_counter()
    load_profile(_bench_monitor(workdir), workdir / "data")
    return {"build_s": time.perf_counter() - t0, "build_peak_rss_mb": max_rss_mb()}


def worker_driftwatch(ref_rows: int, cur_rows: int, seed: int, cprofile_top_n: int, workdir: Path) -> dict[str, Any]:
    """Times checks the way the CLI and daemon run them: cached (memory-mapped) profile, current batch in Arrow."""
    from driftwatch.checks.engine import run_check
    from driftwatch.checks.stattests import lookup
    from driftwatch.reference.profile import load_profile

    rss_imports = current_rss_mb()
    cur = make_table(cur_rows, seed, current=True)
    gc.collect()
    baseline, maxrss_at_baseline = current_rss_mb(), max_rss_mb()
    monitor = _bench_monitor(workdir)
    t0 = time.perf_counter()
    profile = load_profile(monitor, workdir / "data")
    load_s = time.perf_counter() - t0

    with RssSampler(interval=RSS_SAMPLE_SECONDS) as sampler:
        times, result = time_calls(lambda: run_check(profile, cur, monitor.drift), CHECK_RUNS, warmup=0)
    out = _side("driftwatch", times, (rss_imports, baseline, maxrss_at_baseline), sampler)
    methods = {f.name: (lookup(f.method).display_name if f.method else None) for f in result.features}
    out |= {
        "load_s": load_s,
        # The default tests run on driftwatch's own code paths; evidently is imported only for the others.
        "evidently_imported": "evidently" in sys.modules,
        "scores": {f.name: f.score for f in result.features},
        "methods": methods,
        "statuses": {f.name: str(f.status) for f in result.features},
    }
    if cprofile_top_n > 0:
        out["cprofile"] = cprofile_top(lambda: run_check(profile, cur, monitor.drift), cprofile_top_n)
    return out


def worker_evidently(ref_rows: int, cur_rows: int, seed: int) -> dict[str, Any]:
    Report, Dataset, DataDefinition, DataDriftPreset = _import_evidently()
    rss_imports = current_rss_mb()
    ref_t, cur_t, gen_s = _generate(ref_rows, cur_rows, seed)
    t0 = time.perf_counter()
    ref_df, cur_df = ref_t.to_pandas(), cur_t.to_pandas()
    pandas_s = time.perf_counter() - t0
    del ref_t, cur_t
    gc.collect()
    baseline, maxrss_at_baseline = current_rss_mb(), max_rss_mb()

    definition = DataDefinition(numerical_columns=numeric_names(), categorical_columns=categorical_names())
    runs = 1 if ref_rows + cur_rows > REPORT_SINGLE_RUN_ROWS else CHECK_RUNS

    def report() -> Any:
        return Report([DataDriftPreset()]).run(
            Dataset.from_pandas(cur_df, data_definition=definition),
            Dataset.from_pandas(ref_df, data_definition=definition),
        )

    with RssSampler(interval=RSS_SAMPLE_SECONDS) as sampler:
        times, snapshot = time_calls(report, runs, warmup=0, before=gc.collect)
    out = _side("evidently", times, (rss_imports, baseline, maxrss_at_baseline), sampler)
    metrics = [m for m in snapshot.dict()["metrics"] if "column" in m["config"]]
    return out | {
        "generate_s": gen_s,
        "to_pandas_s": pandas_s,
        "scores": {m["config"]["column"]: float(m["value"]) for m in metrics},
        "methods": {m["config"]["column"]: m["config"].get("method") for m in metrics},
    }


# ---- orchestration --------------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    ref_rows: int
    cur_rows: int
    driftwatch: dict[str, Any]
    evidently: dict[str, Any]
    max_diff: float
    mismatches: list[str]

    @property
    def label(self) -> str:
        return f"{self.ref_rows}x{self.cur_rows}"

    @property
    def speedup(self) -> float:
        return self.evidently["time_s"] / self.driftwatch["time_s"]

    @property
    def rss_ratio(self) -> float:
        """driftwatch peak RSS as a fraction of the Report's."""
        return self.driftwatch["peak_rss_mb"] / self.evidently["peak_rss_mb"]

    @property
    def above_ratio(self) -> float:
        return _above(self.driftwatch) / max(_above(self.evidently), 1e-9)

    @property
    def scores_ok(self) -> bool:
        return not self.mismatches and self.max_diff <= TOLERANCE

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.label,
            "reference_rows": self.ref_rows,
            "current_rows": self.cur_rows,
            "speedup": self.speedup,
            "rss_ratio": self.rss_ratio,
            "above_baseline_ratio": self.above_ratio,
            "max_score_diff": self.max_diff,
            "scores_ok": self.scores_ok,
            "mismatches": self.mismatches,
            "driftwatch": self.driftwatch,
            "evidently": self.evidently,
        }


def _above(side: dict[str, Any]) -> float:
    return float(side["peak_rss_mb"] - side["rss_baseline_mb"])


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        ref, sep, cur = part.strip().lower().partition("x")
        if not sep or not ref.isdigit() or not cur.isdigit() or int(ref) <= 0 or int(cur) <= 0:
            raise argparse.ArgumentTypeError(f"bad size {part!r}: use REFxCUR, e.g. 1000000x100000")
        if int(cur) < MIN_CURRENT_ROWS:
            raise argparse.ArgumentTypeError(f"bad size {part!r}: current rows must be >= {MIN_CURRENT_ROWS}")
        sizes.append((int(ref), int(cur)))
    return sizes


def run_worker(
    side: str, ref_rows: int, cur_rows: int, seed: int, cprofile_top_n: int, workdir: Path
) -> dict[str, Any]:
    """Runs one side in a fresh interpreter (its own RSS peak) and reads back its JSON result."""
    args = ["--worker", side, "--ref-rows", str(ref_rows), "--cur-rows", str(cur_rows), "--seed", str(seed)]
    args += ["--cprofile", str(cprofile_top_n), "--workdir", str(workdir)]
    return run_json_worker(Path(__file__).resolve(), args, side)


def compare_scores(dw: dict[str, Any], ev: dict[str, Any]) -> tuple[float, list[str]]:
    max_diff = 0.0
    mismatches = []
    for column, expected in ev["scores"].items():
        got = dw["scores"].get(column)
        if got is None:
            mismatches.append(f"{column}: driftwatch has no score ({dw['statuses'].get(column, 'absent')})")
            continue
        if dw["methods"].get(column) != ev["methods"].get(column):
            mismatches.append(f"{column}: method {dw['methods'].get(column)!r} vs evidently {ev['methods'][column]!r}")
        diff = abs(got - expected)
        if not diff <= TOLERANCE:
            mismatches.append(f"{column}: score {got!r} vs evidently {expected!r} (diff {diff:.3g})")
        max_diff = max(max_diff, diff) if diff == diff else float("inf")
    for column in sorted(set(dw["scores"]) - set(ev["scores"])):
        mismatches.append(f"{column}: scored by driftwatch only")
    return max_diff, mismatches


def _render(results: list[SizeResult]) -> None:
    main_cols = [
        "size",
        "driftwatch check s",
        "Report s",
        "speedup",
        "driftwatch peak RSS MB",
        "Report peak RSS MB",
        "RSS ratio",
        "max score diff",
    ]
    main_rows = [
        [
            r.label,
            f"{r.driftwatch['time_s']:.3f}",
            f"{r.evidently['time_s']:.2f}",
            f"{r.speedup:.1f}x",
            f"{r.driftwatch['peak_rss_mb']:.0f}",
            f"{r.evidently['peak_rss_mb']:.0f}",
            f"{r.rss_ratio:.2f}",
            f"{r.max_diff:.2e}",
        ]
        for r in results
    ]
    detail_cols = [
        "size",
        "build s",
        "check runs s",
        "Report runs s",
        "side",
        "RSS imports MB",
        "RSS baseline MB",
        "peak MB",
        "above base MB",
        "timed-phase peak MB",
    ]
    detail_rows = []
    for r in results:
        for name, side in (("driftwatch", r.driftwatch), ("Report", r.evidently)):
            detail_rows.append(
                [
                    r.label,
                    f"{r.driftwatch['build_s']:.2f}" if name == "driftwatch" else "",
                    " ".join(f"{t:.3f}" for t in side["times_s"]) if name == "driftwatch" else "",
                    " ".join(f"{t:.1f}" for t in side["times_s"]) if name == "Report" else "",
                    name,
                    f"{side['rss_after_imports_mb']:.0f}",
                    f"{side['rss_baseline_mb']:.0f}",
                    f"{side['peak_rss_mb']:.0f}",
                    f"{_above(side):.0f}",
                    f"{side['phase_peak_rss_mb']:.0f}",
                ]
            )
    print_tables(
        [
            ("driftwatch check vs evidently Report(DataDriftPreset)", main_cols, main_rows),
            ("timings and memory detail", detail_cols, detail_rows),
        ],
        left=("size", "side"),
    )


def judge(results: list[SizeResult]) -> tuple[list[Target], list[str]]:
    """The speed and memory targets at TARGET_SIZE and the score check at every size, with notes to print after."""
    notes = [
        "speedup = Report s / driftwatch check s (profile build excluded: it runs once per reference version); "
        "RSS ratio = driftwatch peak / Report peak (driftwatch's check runs in a fresh process on the cached "
        "profile; the build runs in its own)."
    ]
    targets: list[Target] = []
    target = next((r for r in results if (r.ref_rows, r.cur_rows) == TARGET_SIZE), None)
    if target is None:
        notes.append(f"speed and memory targets: not judged, size {TARGET_SIZE[0]}x{TARGET_SIZE[1]} was not run")
    else:
        dw, ev = target.driftwatch, target.evidently
        targets.append(
            Target(
                f"speedup at {target.label}",
                f"{target.speedup:.1f}x",
                f">= {TARGET_SPEEDUP:.0f}x",
                target.speedup >= TARGET_SPEEDUP,
            )
        )
        targets.append(
            Target(
                f"peak RSS at {target.label}",
                f"{dw['peak_rss_mb']:.0f} MB vs {ev['peak_rss_mb']:.0f} MB (ratio {target.rss_ratio:.2f}); "
                f"above baseline {_above(dw):.0f} vs {_above(ev):.0f} MB (ratio {target.above_ratio:.2f})",
                "driftwatch <= 1/3 of Report's",
                target.rss_ratio <= TARGET_RSS_FRACTION,
            )
        )
    for r in results:
        targets.append(
            Target(f"scores at {r.label}", f"max abs diff {r.max_diff:.3e}", f"<= {TOLERANCE:g}", r.scores_ok)
        )
        notes.extend(f"  mismatch {r.label} {m}" for m in r.mismatches)
        for side in (r.driftwatch, r.evidently):
            if side["peak_rss_mb"] <= side["maxrss_at_baseline_mb"] + 1:
                notes.append(
                    f"  note {r.label} {side['side']}: the peak was reached before the baseline "
                    "(data generation), so its above-baseline figure understates the work"
                )
    return targets, notes


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__, f"smoke run at {QUICK_SIZES}")
    parser.add_argument("--sizes", type=parse_sizes, default=None, help=f"REFxCUR,... (default {DEFAULT_SIZES})")
    add_seed(parser)
    parser.add_argument(
        "--cprofile", type=int, default=0, metavar="N", help="print the top N cumulative cProfile entries of one check"
    )
    parser.add_argument("--worker", choices=("driftwatch-build", "driftwatch", "evidently"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ref-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cur-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        if args.ref_rows is None or args.cur_rows is None:
            parser.error("--worker needs --ref-rows and --cur-rows")
        if args.worker == "driftwatch-build":
            out = worker_driftwatch_build(args.ref_rows, args.seed, args.workdir)
        elif args.worker == "driftwatch":
            out = worker_driftwatch(args.ref_rows, args.cur_rows, args.seed, args.cprofile, args.workdir)
        else:
            out = worker_evidently(args.ref_rows, args.cur_rows, args.seed)
        text = json.dumps(out)
        if args.worker_out is not None:
            args.worker_out.write_text(text)
        else:
            print(text)
        return 0

    sizes = args.sizes or parse_sizes(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    print(f"driftwatch check benchmark: {machine(['pyarrow', 'numpy', 'pandas', 'evidently']).describe()}")
    results: list[SizeResult] = []
    for k, (ref_rows, cur_rows) in enumerate(sizes, 1):
        label = f"[{k}/{len(sizes)}] {ref_rows}x{cur_rows}"
        t0 = time.perf_counter()
        progress(f"{label}: driftwatch workers (profile build, then check) ...")
        with tempfile.TemporaryDirectory(prefix="bench-dw-") as tmp:
            build = run_worker("driftwatch-build", ref_rows, cur_rows, args.seed, 0, Path(tmp))
            dw = run_worker("driftwatch", ref_rows, cur_rows, args.seed, args.cprofile, Path(tmp))
        dw.update(build)
        progress(f"{label}: driftwatch done in {time.perf_counter() - t0:.1f}s; evidently worker ...")
        t0 = time.perf_counter()
        ev = run_worker("evidently", ref_rows, cur_rows, args.seed, 0, Path(tempfile.gettempdir()))
        progress(f"{label}: evidently done in {time.perf_counter() - t0:.1f}s")
        max_diff, mismatches = compare_scores(dw, ev)
        results.append(SizeResult(ref_rows, cur_rows, dw, ev, max_diff, mismatches))

    _render(results)
    targets, notes = judge(results)
    print_targets(targets, "missing the speed or memory target does not change the exit code", notes)
    if args.cprofile:
        for r in results:
            print(f"\ncProfile of one driftwatch check at {r.label} (top {args.cprofile}, cumulative):")
            print(r.driftwatch.get("cprofile", "").strip())
    if args.json is not None:
        write_json(args.json, [r.to_json() for r in results])
    return 0 if all(r.scores_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
