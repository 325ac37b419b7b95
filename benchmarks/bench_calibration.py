#!/usr/bin/env python
"""Benchmark how often driftwatch's decisions flag clean data, how often they catch injected shifts, and their cost.

Data ships inside installed packages (scikit-learn's and statsmodels' bundled tables) or comes from driftwatch's
triage simulator with drift 0; nothing is downloaded. A clean window and its reference are disjoint random subsets
of one table. Each cell (dataset x reference rows x window rows) draws `--splits` references, builds each profile
once, and checks `--windows` windows against it, with evidently's fixed thresholds (the threshold decision) and,
when the engine has it, calibrated p-values at each alpha with no correction and with the default (bh).

    .venv/bin/python benchmarks/bench_calibration.py              # full run (about 25 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_calibration.py --quick      # fewer datasets, cells and windows
    .venv/bin/python benchmarks/bench_calibration.py --datasets triage --splits 5 --json out.json

Exit code: 1 on errors (a calibrated variant not judged by the calibrated rule, a failed check); missing a target
prints FAIL but does not change it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import asdict

from calibration_data import (
    QUICK_WINDOW_SIZES,
    WINDOW_SIZES,
    Dataset,
    at_most,
    binomial_interval,
    load_datasets,
    within_band,
)
from calibration_pool import LOOKS, Unit, preload, run_units
from calibration_runs import (
    LOOK_SPENT,
    THRESHOLD,
    Cell,
    CostRow,
    LookRun,
    Plan,
    PowerCell,
    Tally,
    calibrated,
    calibrated_available,
    measure_cost,
    warm_up,
)
from harness import (
    BenchError,
    Target,
    add_seed,
    machine,
    make_parser,
    print_tables,
    print_targets,
    progress,
    write_json,
)

PACKAGES = ["numpy", "scipy", "pyarrow", "scikit-learn", "statsmodels", "evidently"]
ALPHAS = (0.01, 0.05)
CONFIDENCE = 0.99
MAX_NOTES = 8


def _band(alpha: float) -> tuple[float, float]:
    return alpha / 2, 1.5 * alpha


def _rate(k: int, n: int) -> str:
    return f"{k / n:.3f}" if n else "-"


def _rate_ci(k: int, n: int) -> tuple[str, str]:
    return _rate(k, n), _ci(k, n)


def _ci(k: int, n: int) -> str:
    lo, hi = binomial_interval(k, n, CONFIDENCE)
    return f"{lo:.3f}-{hi:.3f}"


def _feature_band_ok(t: Tally, alpha: float) -> dict[str, bool]:
    lo, hi = _band(alpha)
    return {name: within_band(k, t.windows, lo, hi, CONFIDENCE, t.deff(name)) for name, k in t.flagged.items()}


def _any_ok(t: Tally, alpha: float) -> bool:
    return at_most(t.any_flagged, t.windows, alpha, CONFIDENCE, t.deff())


def _tests(t: Tally) -> str:
    counts = Counter(m for methods in t.methods.values() for m in methods)
    return ", ".join(f"{m} {n}" for m, n in counts.most_common())


def _min_max(t: Tally) -> str:
    rates = t.rates().values()
    return f"{min(rates):.3f}-{max(rates):.3f}" if rates else "-"


def _cell_tables(cells: list[Cell], plan: Plan) -> list[tuple[str, list[str], list[list[str]]]]:
    head = ["dataset", "ref", "window", "n"]
    thr_cols = [*head, "tests", "feature min-max", "band .05", "any flagged"]
    thr_rows = []
    for c in cells:
        thr = c.tallies[THRESHOLD.key]
        band = all(_feature_band_ok(thr, 0.05).values())
        row = [c.dataset, f"{c.ref_rows:,}", f"{c.window:,}", str(thr.windows), _tests(thr), _min_max(thr)]
        thr_rows.append([*row, "PASS" if band else "FAIL", _rate(thr.any_flagged, thr.windows)])
    setup = (
        f"{plan.splits} reference splits x {plan.windows_per_split} clean windows each (one profile per split); "
        f"feature rates with no correction, band alpha/2 to 1.5 alpha on each feature's exact {CONFIDENCE:.0%} "
        "interval on windows / design effect (windows of one reference are not independent); any flagged = windows "
        "where some feature was flagged"
    )
    thr_title = f"false alarms, threshold decision (evidently's thresholds, no correction): {setup}"
    tables = [(thr_title, thr_cols, thr_rows)]
    if plan.calibrated:
        cal_cols = list(head)
        for a in plan.alphas:
            cal_cols += [f"{a:g} none min-max", f"{a:g} band", f"{a:g} bh any", f"{a:g} bh <= a"]
        cal_rows = []
        for c in cells:
            row = [c.dataset, f"{c.ref_rows:,}", f"{c.window:,}", str(c.tallies[THRESHOLD.key].windows)]
            for a in plan.alphas:
                none, bh = c.tallies[calibrated(a, "none").key], c.tallies[calibrated(a).key]
                ok = all(_feature_band_ok(none, a).values())
                bh_ok = _any_ok(bh, a)
                row += [_min_max(none), "PASS" if ok else "FAIL", _rate(bh.any_flagged, bh.windows)]
                row += ["PASS" if bh_ok else "FAIL"]
            cal_rows.append(row)
        tables.append((f"false alarms, calibrated decision at alpha {plan.alphas}: {setup}", cal_cols, cal_rows))
    feature_cols = ["dataset", "ref", "window", "feature", "test", "threshold"]
    if plan.calibrated:
        feature_cols += [f"cal none a={a:g}" for a in plan.alphas]
        feature_cols += [f"splits flagged a={plan.alphas[-1]:g}", "deff"]
    feature_rows = []
    for c in cells:
        thr = c.tallies[THRESHOLD.key]
        checks = {a: c.tallies[calibrated(a, "none").key] for a in plan.alphas} if plan.calibrated else {}
        thr_ok = _feature_band_ok(thr, 0.05)
        for name, k in thr.flagged.items():
            row = [c.dataset, f"{c.ref_rows:,}", f"{c.window:,}", name, "/".join(thr.methods.get(name, [])) or "-"]
            row.append(_rate(k, thr.windows) + ("" if thr_ok[name] else " *"))
            for a, t in checks.items():
                row.append(_rate(t.flagged[name], t.windows) + ("" if _feature_band_ok(t, a)[name] else " *"))
            if checks:
                last = checks[plan.alphas[-1]]
                row += [f"{last.splits_flagged(name)}/{c.splits}", f"{last.deff(name):.2f}"]
            feature_rows.append(row)
    feature_title = (
        "false alarms per feature (* = the exact 99% interval misses alpha/2 to 1.5 alpha; threshold judged at 0.05); "
        "splits flagged = references with at least one flagged window; deff = the design effect at the last alpha"
    )
    return [*tables, (feature_title, feature_cols, feature_rows)]


def _power_table(power: list[PowerCell], plan: Plan) -> tuple[str, list[str], list[list[str]]]:
    keys = [v.key for v in plan.power_variants()]
    cols = ["dataset", "ref", "window", "shift", "n", *keys]
    rows = [
        [p.dataset, f"{p.ref_rows:,}", f"{p.window:,}", p.shift, str(p.windows)]
        + [_rate(p.flagged.get(k, 0), p.windows) for k in keys]
        for p in power
    ]
    title = (
        f"power: share of windows where the shifted feature was flagged ({plan.power_per_split} windows per split "
        "get each shift; the rest of the table is untouched)"
    )
    return title, cols, rows


def _look_tables(runs: list[LookRun]) -> list[tuple[str, list[str], list[list[str]]]]:
    out = []
    for r in runs:
        head = f"looks, {r.dataset} ref {r.ref_rows:,}: {r.looks} checks of a {r.window_rows:,}-row tumbling window"
        rows = []
        for name, t in r.tallies.items():
            ever = [*_rate_ci(t.ever_any, t.windows), f"{t.splits_flagged}/{r.splits}"]
            rows.append([name, str(t.windows), *ever, *_rate_ci(t.ever_dataset, t.windows)])
        cols = ["scheme", "windows", "ever any feature", "99% CI", "splits flagged", "ever dataset_drift", "99% CI "]
        out.append((f"{head}, alpha {r.alpha:g}, open_share {r.open_share:g}: clean windows ever flagged", cols, rows))
        per_look = [
            [str(k + 1), f"{(k + 1) / r.looks:.3f}", f"{n:,}", f"{r.shares[k]:.4f}"]
            + [_rate(t.per_look_any[k], t.windows) for t in r.tallies.values()]
            for k, n in enumerate(r.rows_at)
        ]
        out.append((f"{head}: windows flagged at each look", ["look", "t", "rows", "share", *r.tallies], per_look))
    return out


def _cost_table(rows: list[CostRow]) -> tuple[str, list[str], list[list[str]]]:
    def f(x: float | None, fmt: str = "{:.1f}") -> str:
        return "-" if x is None else fmt.format(x)

    cols = ["dataset", "ref", "window", "fresh profiles", "build ms", "threshold ms", "1st cal ms", "2nd cal ms"]
    cols += ["null build ms", "cal / thr"]
    out = []
    for r in rows:
        row = [r.dataset, f"{r.ref_rows:,}", f"{r.window:,}", str(r.repeats), f(r.build_ms), f(r.threshold_ms)]
        out.append(
            [*row, f(r.first_calibrated_ms), f(r.second_calibrated_ms), f(r.null_build_ms), f(r.overhead, "{:.1f}x")]
        )
    title = "cost (medians): null build = first calibrated check on a fresh profile - a second one"
    return title, cols, out


def judge(cells: list[Cell], looks: list[LookRun], plan: Plan) -> tuple[list[Target], list[str]]:
    """Per dataset and alpha: every feature within the band, any-feature under bh within alpha; the looks' bound."""
    targets: list[Target] = []
    notes = [
        f"Binomial intervals are exact ({CONFIDENCE:.0%}, two-sided) on windows / deff effective trials: the windows "
        "of one split share its reference, and Kish's design effect (from the larger of the flags' and the probit "
        "p-values' intra-reference correlation) says how much that widens the spread, most where windows are as "
        "large as the reference."
    ]
    variants = [(a, calibrated(a, "none"), calibrated(a)) for a in plan.alphas] if plan.calibrated else []
    if not plan.calibrated:
        variants = [(0.05, THRESHOLD, THRESHOLD)]
        notes.append("The calibrated decision is not in this driftwatch: the targets judge the threshold decision.")
    if plan.calibrated:
        tested = sum(len(c.tallies[none.key].flagged) for c in cells for _, none, _ in variants)
        outside = sum(
            not ok for c in cells for a, none, _ in variants for ok in _feature_band_ok(c.tallies[none.key], a).values()
        )
        notes.append(
            f"{outside} of {tested} feature x cell x alpha rates lie outside their band; with every p-value exactly "
            f"calibrated about {tested * (1 - CONFIDENCE):.1f} would, by chance alone (each interval is "
            f"{CONFIDENCE:.0%})."
        )
    for ds in dict.fromkeys(c.dataset for c in cells):
        mine = [c for c in cells if c.dataset == ds]
        for a, none, bh in variants:
            lo, hi = _band(a)
            failing: list[str] = []
            failed_cells = 0
            worst = 0.0
            for c in mine:
                t = c.tallies[none.key]
                bad = [n for n, ok in _feature_band_ok(t, a).items() if not ok]
                failing += [
                    f"{n} {_rate(t.flagged[n], t.windows)} (ref {c.ref_rows}, window {c.window}; "
                    f"{t.flagged[n]} windows of {t.splits_flagged(n)}/{c.splits} references, deff {t.deff(n):.2f})"
                    for n in bad
                ]
                failed_cells += bool(bad)
                worst = max([worst, *(abs(r - a) for r in t.rates().values())])
            passed = len(mine) - failed_cells
            targets.append(
                Target(
                    f"{ds} feature false alarms, {none.key}",
                    f"{passed}/{len(mine)} cells all within; farthest rate {worst:.3f} from alpha",
                    f"every feature's {CONFIDENCE:.0%} CI meets {lo:g}-{hi:g}",
                    not failing,
                )
            )
            notes += [f"  {ds} {none.key} outside the band: {f}" for f in failing[:MAX_NOTES]]
            if len(failing) > MAX_NOTES:
                notes.append(f"  {ds} {none.key}: {len(failing) - MAX_NOTES} more features outside the band (tables)")
            any_rates = [(c.tallies[bh.key].any_flagged, c.tallies[bh.key].windows, c) for c in mine]
            k, n, c = max(any_rates, key=lambda x: x[0] / max(x[1], 1))
            ok = all(_any_ok(c_.tallies[bh.key], a) for _, _, c_ in any_rates)
            label = "any flagged" + (", bh" if plan.calibrated else ", no correction")
            targets.append(
                Target(
                    f"{ds} {label}, {bh.key}",
                    f"max {_rate(k, n)} ({k}/{n}, ref {c.ref_rows}, window {c.window}) over {len(mine)} cells",
                    f"<= {a:g} ({CONFIDENCE:.0%} CI)",
                    ok,
                )
            )
    for r in looks:
        scheme = LOOK_SPENT if plan.calibrated else "threshold"
        t = r.tallies[scheme]
        for what, k in (("any feature", t.ever_any), ("dataset_drift", t.ever_dataset)):
            targets.append(
                Target(
                    f"looks {r.dataset} ref {r.ref_rows}: {what} ever, {scheme}",
                    f"{_rate(k, t.windows)} ({k}/{t.windows}) {_ci(k, t.windows)}",
                    f"<= {r.alpha:g} ({CONFIDENCE:.0%} CI)",
                    at_most(k, t.windows, r.alpha, CONFIDENCE, t.deff() if what == "any feature" else 1.0),
                )
            )
    return targets, notes


def _plan(args: argparse.Namespace, calibrated_ok: bool) -> Plan:
    quick = bool(args.quick)
    return Plan(
        splits=args.splits or (3 if quick else 60),
        windows_per_split=args.windows or (5 if quick else 4),
        window_sizes=QUICK_WINDOW_SIZES if quick else WINDOW_SIZES,
        alphas=ALPHAS,
        calibrated=calibrated_ok,
        look_splits=args.look_splits or (3 if quick else 8),
        look_windows_per_split=args.look_windows or (5 if quick else 25),
        power_per_split=2 if not quick else 5,
    )


def _units(datasets: list[Dataset], quick: bool, looks: bool) -> list[Unit]:
    units = [Unit("cells", ds.name, i, r) for i, ds in enumerate(datasets) for r in ds.ref_sizes]
    if looks:
        units += [Unit(LOOKS, "triage", -1, r) for r in ((5000,) if quick else (1000, 5000))]
    return units


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__, "fewer datasets (breast_cancer, fair, triage), windows 100/1,000/5,000, 3x5 windows")
    add_seed(parser)
    parser.add_argument("--splits", type=int, default=None, help="reference splits per cell (default 60; quick 3)")
    parser.add_argument("--windows", type=int, default=None, help="clean windows per split (default 4; quick 5)")
    parser.add_argument("--look-splits", type=int, default=None, help="reference splits of the looks (8; quick 3)")
    parser.add_argument("--look-windows", type=int, default=None, help="windows per look split (25; quick 5)")
    parser.add_argument("--datasets", default=None, help="comma-separated subset of the datasets")
    parser.add_argument("--jobs", type=int, default=machine().usable_cpus, help="worker processes (default: CPUs)")
    parser.add_argument("--threshold-only", action="store_true", help="measure the threshold decision alone")
    parser.add_argument("--no-looks", action="store_true", help="skip the repeated-looks run")
    parser.add_argument("--no-cost", action="store_true", help="skip the cost measurements")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    calibrated_ok = calibrated_available() and not args.threshold_only
    plan = _plan(args, calibrated_ok)
    print(f"driftwatch calibration benchmark: {machine(PACKAGES).describe()}")
    mode = "quick (smoke run: fewer datasets, cells and windows)" if args.quick else "full"
    decisions = "threshold and calibrated" if calibrated_ok else "threshold only"
    if not calibrated_ok and not args.threshold_only:
        decisions += " (this driftwatch's run_check has no calibrated decision)"
    print(
        f"mode {mode}; decisions: {decisions}; {plan.splits} reference splits x {plan.windows_per_split} windows = "
        f"{plan.splits * plan.windows_per_split} clean windows per cell, one profile per split; looks: "
        f"{plan.look_splits} splits x {plan.look_windows_per_split} windows; {args.jobs} worker processes; "
        f"seed {args.seed}"
    )
    names = tuple(args.datasets.split(",")) if args.datasets else None
    datasets = load_datasets(args.quick, args.seed, names)
    for ds in datasets:
        print(
            f"  {ds.name}: {ds.source}, {ds.rows:,} rows, {len(ds.kinds)} features "
            f"({sum(k == 'categorical' for k in ds.kinds.values())} categorical), references {ds.ref_sizes}"
        )
    try:
        preload(datasets)
        units = _units(datasets, args.quick, not args.no_looks)
        progress(f"{len(units)} units on {args.jobs} processes ...")
        results = run_units(units, plan, args.seed, args.quick, args.jobs)
        cells = [c for r in results for c in r.cells]
        power = [p for r in results for p in r.power]
        looks = [r.looks for r in results if r.looks is not None]
        measured = time.perf_counter() - started
        cost: list[CostRow] = []
        if not args.no_cost:
            triage = next((d for d in datasets if d.name == "triage"), None)
            triage = triage or load_datasets(args.quick, args.seed, ("triage",))[0]
            progress("cost (in this process alone) ...")
            warm_up(triage, calibrated_ok)
            repeats = 1 if args.quick else 3
            for ref_rows in (5000,) if args.quick else (1000, 5000):
                for window in (1_000, 50_000):
                    cost.append(measure_cost(triage, ref_rows, window, repeats, calibrated_ok, args.seed))
    except BenchError as exc:
        print(f"ERROR: {exc}")
        return 1

    tables = _cell_tables(cells, plan)
    if power:
        tables.append(_power_table(power, plan))
    tables += _look_tables(looks)
    if cost:
        tables.append(_cost_table(cost))
    print_tables(tables, left=("dataset", "feature", "test", "tests", "shift", "scheme"))
    targets, notes = judge(cells, looks, plan)
    if args.quick:
        notes.insert(0, "--quick: too few windows per cell to judge the targets; these lines check the arithmetic.")
    elapsed = time.perf_counter() - started
    notes.append(f"elapsed {elapsed / 60:.1f} min ({measured / 60:.1f} min before the cost measurements)")
    print_targets(targets, "missing a target does not change the exit code", notes)
    if args.json is not None:
        write_json(
            args.json,
            {
                "machine": machine(PACKAGES),
                "plan": asdict(plan),
                "cells": cells,
                "power": power,
                "looks": looks,
                "cost": [{**asdict(r), "null_build_ms": r.null_build_ms, "overhead": r.overhead} for r in cost],
                "targets": targets,
                "elapsed_seconds": elapsed,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
