"""The text benchmark's pipeline cell: every signal of driftwatch.text over a window sample, one core, fresh process.

Short texts are the example generator's symptoms (about 68 characters, clean or drifted: foreign-language and
code-switched rows); long ones cycle the corpus's long texts (500-700 characters, 13 languages). The reference is the
generator's clean table; its profile (signals of 20,000 sampled rows) is built first and timed apart.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from driftwatch import demo
from driftwatch.config import MonitorConfig, TextSettings
from driftwatch.reference.profile import build_profile
from driftwatch.text import corpus
from driftwatch.text.derive import rows_for, texts_of
from driftwatch.text.signals import SIGNALS

REFERENCE_ROWS = 20_000


@dataclass
class PipelineRow:
    """Seconds per signal and in all for one window sample, each reading what a check reads (derive.rows_for)."""

    texts: str
    rows: int
    mean_chars: float
    seconds: dict[str, float] = field(default_factory=dict)
    total_s: float = 0.0
    profile_s: float = 0.0


def _pin_one_core() -> None:
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _texts(kind: str, rows: int) -> list[str | None]:
    if kind == "long":
        pool = [t.text for t in corpus.long_texts()]
        return [pool[i % len(pool)] for i in range(rows)]
    drift = 1.0 if kind == "short, drifted" else 0.0
    return texts_of(demo.production_batch(rows, drift, seed=3).column("symptoms"))


def measure_pipeline(rows: int) -> list[PipelineRow]:
    """Time each signal over `rows` texts of each kind, after one warm-up call loads the models."""
    _pin_one_core()
    mon = MonitorConfig.model_validate(
        {"name": "textbench", "reference": {"path": "unused"}, "features": {"symptoms": "text"}}
    )
    settings = TextSettings()
    t0 = time.perf_counter()
    reference = demo.reference_table(REFERENCE_ROWS, seed=1).select(["symptoms"])
    profile = build_profile(reference, mon, "bench", "memory")
    profile_s = time.perf_counter() - t0
    out = []
    for kind in ("short, clean", "short, drifted", "long"):
        texts = _texts(kind, rows)
        row = PipelineRow(kind, rows, sum(len(t or "") for t in texts) / rows, profile_s=profile_s)
        for name in settings.signals:
            state = profile.signal_states.get(f"symptoms.{name}")
            part = rows_for(name, texts, settings)
            SIGNALS[name]().current(part[:50], state)  # models loaded before timing
            t = time.perf_counter()
            SIGNALS[name]().current(part, state)
            row.seconds[name] = time.perf_counter() - t
        row.total_s = sum(row.seconds.values())
        out.append(row)
    return out


def pipeline_table(rows: list[PipelineRow]) -> tuple[str, list[str], list[list[str]]]:
    names = list(rows[0].seconds) if rows else []
    cols = ["texts", "rows", "chars", *[f"{n} s" for n in names], "all signals s", "rows/s"]
    body = [
        [
            r.texts,
            f"{r.rows:,}",
            f"{r.mean_chars:.0f}",
            *[f"{r.seconds[n]:.2f}" for n in names],
            f"{r.total_s:.2f}",
            f"{r.rows / r.total_s:,.0f}" if r.total_s else "-",
        ]
        for r in rows
    ]
    cap = TextSettings().code_switching_rows
    title = (
        f"text signals over a window sample, one core (code_switching reads the first {cap:,} rows, every signal but "
        f"length a row's first {TextSettings().max_chars} characters; the reference "
        f"profile's signals on {REFERENCE_ROWS:,} rows took {rows[0].profile_s:.1f} s)"
        if rows
        else "text signals"
    )
    return title, cols, body
