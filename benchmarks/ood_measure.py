"""The OOD benchmark's in-process measurements: the fit of the reasons, per-row scoring rates and a check's added cost.

The data is the check benchmark's seeded table (check_data.py): 20 numeric and 5 string categorical features; the
current rows carry its drift (shifted and rescaled numeric columns, a category new to the reference), so some rows
are out of distribution and every reason has work to do.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
from check_data import categorical_names, make_table, numeric_names
from harness import BenchError, time_calls
from threadpoolctl import threadpool_limits

from driftwatch.checks.engine import run_check
from driftwatch.config import MonitorConfig
from driftwatch.config.ood import OodSettings
from driftwatch.ood.detector import Detector, fit_detector, splits
from driftwatch.ood.rows import read_rows
from driftwatch.ood.score import OodModel
from driftwatch.reference.profile import ReferenceProfile, build_profile

MONITOR = "oodbench"
ALIGNMENT = "alignment only (read_rows)"
RULES = "rules"
FULL = "rules + novelty"
FULL_ONE_THREAD = "rules + novelty, 1 OpenMP thread"
VARIANTS = (ALIGNMENT, RULES, FULL, FULL_ONE_THREAD)


def feature_kinds() -> dict[str, str]:
    """The 25 features and their declared kinds."""
    return {n: "numeric" for n in numeric_names()} | {n: "categorical" for n in categorical_names()}


def monitor_config(reference_path: str = "reference.parquet") -> MonitorConfig:
    return MonitorConfig(name=MONITOR, reference={"path": reference_path}, features=feature_kinds())


def rules_only() -> OodSettings:
    """Every per-value rule, no novelty."""
    return OodSettings.model_validate({"reasons": {"novel": {"enabled": False}}})


def reference_table(rows: int, seed: int) -> pa.Table:
    return make_table(rows, seed, current=False)


def current_table(rows: int, seed: int) -> pa.Table:
    return make_table(rows, seed, current=True)


def profile_of(table: pa.Table, seed: int) -> ReferenceProfile:
    return build_profile(table, monitor_config(), f"bench-{table.num_rows}-{seed}", "bench")


def model(profile: ReferenceProfile, settings: OodSettings) -> OodModel:
    """A fitted model whose every enabled reason runs (a reason left out would make the figures meaningless)."""
    m = OodModel(profile, settings)
    if m.disabled:
        raise BenchError(f"OOD reasons disabled on the benchmark's reference: {m.disabled}")
    return m


# ---- fit ----------------------------------------------------------------------------------------------------


@dataclass
class FitRow:
    """Fit costs on one reference size: the profile, the rules' bounds and the novelty detector, medians in s."""

    ref_rows: int
    sample_rows: int
    fit_rows: int
    calibration_rows: int
    width: int
    repeats: int
    build_s: float
    rules_s: float
    detector_s: float

    @property
    def detector_share(self) -> float:
        """Detector fit as a share of the profile build, both measured here."""
        return self.detector_s / self.build_s


def measure_fit(table: pa.Table, seed: int, repeats: int) -> tuple[FitRow, ReferenceProfile]:
    """build_profile, the rules' fit and fit_detector on `table`, each `repeats` times; returns the last profile."""
    build_times, profile = time_calls(lambda: profile_of(table, seed), repeats, warmup=0)
    rules_times, _ = time_calls(lambda: model(profile, rules_only()), repeats, warmup=0)
    rule = OodSettings().reasons.novel
    alpha = OodSettings().alpha
    detector_times, detector = time_calls(lambda: fit_detector(profile, rule, alpha), repeats, warmup=0)
    if not isinstance(detector, Detector):
        raise BenchError(f"the novelty detector could not be fitted: {detector}")
    sample = profile.row_sample.num_rows if profile.row_sample is not None else 0
    fit_n, cal_n = splits(sample, rule)
    row = FitRow(
        ref_rows=table.num_rows,
        sample_rows=sample,
        fit_rows=fit_n,
        calibration_rows=cal_n,
        width=detector.enc.width,
        repeats=repeats,
        build_s=statistics.median(build_times),
        rules_s=statistics.median(rules_times),
        detector_s=statistics.median(detector_times),
    )
    return row, profile


# ---- per-row scoring ----------------------------------------------------------------------------------------


@dataclass
class ScoreRow:
    """One scoring variant at one batch size: calls made in about `seconds`, and the OOD share of the rows."""

    variant: str
    batch: int
    calls: int
    seconds: float
    ood_rows: int

    @property
    def rows(self) -> int:
        return self.calls * self.batch

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    @property
    def us_per_row(self) -> float:
        return self.seconds / self.rows * 1e6

    @property
    def ood_share(self) -> float:
        return self.ood_rows / self.rows


def rate(
    fn: Callable[[pa.Table], int], batches: list[pa.Table], seconds: float, min_calls: int
) -> tuple[int, float, int]:
    """Call `fn` on the batches round-robin for about `seconds` (one untimed call first); calls, seconds, its sum."""
    fn(batches[0])
    calls = total = 0
    t0 = time.perf_counter()
    while True:
        total += fn(batches[calls % len(batches)])
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and calls >= min_calls:
            return calls, elapsed, total


def batches_of(table: pa.Table, batch: int, limit: int) -> list[pa.Table]:
    """Up to `limit` distinct slices of `batch` rows (zero-copy), cut before timing."""
    count = max(1, min(limit, table.num_rows // batch))
    if table.num_rows < batch:
        raise BenchError(f"batch of {batch:,} rows asked from a table of {table.num_rows:,}")
    return [table.slice(i * batch, batch) for i in range(count)]


@contextlib.contextmanager
def _threads(variant: str) -> Iterator[None]:
    if variant == FULL_ONE_THREAD:
        with threadpool_limits(limits=1):
            yield
    else:
        yield


def measure_scoring(
    profile: ReferenceProfile, current: pa.Table, batch_sizes: list[int], seconds: float, min_calls: int
) -> list[ScoreRow]:
    """Rows/s of every variant at every batch size, one after another in this process and thread."""
    rules, full = model(profile, rules_only()), model(profile, OodSettings())

    def align(t: pa.Table) -> int:
        read_rows(profile, t)
        return 0

    fns: dict[str, Callable[[pa.Table], int]] = {
        ALIGNMENT: align,
        RULES: lambda t: rules.score(t).ood_rows,
        FULL: lambda t: full.score(t).ood_rows,
        FULL_ONE_THREAD: lambda t: full.score(t).ood_rows,
    }
    out = []
    for batch in batch_sizes:
        batches = batches_of(current, batch, 2_000 if batch == 1 else 64)
        for variant in VARIANTS:
            with _threads(variant):
                calls, elapsed, flagged = rate(fns[variant], batches, seconds, min_calls)
            out.append(ScoreRow(variant, batch, calls, elapsed, flagged))
    return out


def score_ratio(rows: list[ScoreRow], variant: str, over: str, batch: int) -> float:
    """rows/s of `variant` over rows/s of `over` at `batch`, both from this run."""
    by = {(r.variant, r.batch): r for r in rows}
    return by[(variant, batch)].rows_per_s / by[(over, batch)].rows_per_s


# ---- a check's added cost -----------------------------------------------------------------------------------


@dataclass
class CheckCost:
    """run_check on one current table without OOD, with the rules only and with OodSettings(), medians in s."""

    ref_rows: int
    rows: int
    repeats: int
    nulls_s: float  # the first check of the profile: the calibrated decision's nulls are built
    cold_ood_s: float  # the first check with OodSettings(): the rules' bounds and the detector are fitted
    without_s: float
    rules_s: float
    with_s: float
    ood_duration_s: float  # OodResult.duration_seconds of the last check with OodSettings()
    ood_rows: int

    @property
    def added_s(self) -> float:
        return self.with_s - self.without_s

    @property
    def ratio(self) -> float:
        return self.with_s / self.without_s

    @property
    def rules_ratio(self) -> float:
        return self.rules_s / self.without_s

    @property
    def novelty_s(self) -> float:
        """What novelty adds to the rules (a difference of two medians)."""
        return self.with_s - self.rules_s


def measure_check(profile: ReferenceProfile, current: pa.Table, repeats: int) -> CheckCost:
    """Checks of `current` on a profile whose OOD model was never fitted in this process (else cold is warm)."""
    drift = monitor_config().drift
    full, rules = OodSettings(), rules_only()
    t0 = time.perf_counter()
    run_check(profile, current, drift)
    nulls = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = run_check(profile, current, drift, ood=full)
    cold = time.perf_counter() - t0
    if first.ood is None or first.ood.disabled:
        raise BenchError(f"the check's OOD result is missing or incomplete: {first.ood}")
    times: dict[str, list[float]] = {"without": [], "rules": [], "with": []}
    settings = {"without": None, "rules": rules, "with": full}
    last = first
    for i in range(repeats):
        # Alternated, so that a change in the machine's load falls on every variant alike.
        for name in ("without", "rules", "with") if i % 2 == 0 else ("with", "rules", "without"):
            t0 = time.perf_counter()
            result = run_check(profile, current, drift, ood=settings[name])
            times[name].append(time.perf_counter() - t0)
            if name == "with":
                last = result
    assert last.ood is not None
    return CheckCost(
        ref_rows=profile.rows,
        rows=current.num_rows,
        repeats=repeats,
        nulls_s=nulls,
        cold_ood_s=cold,
        without_s=statistics.median(times["without"]),
        rules_s=statistics.median(times["rules"]),
        with_s=statistics.median(times["with"]),
        ood_duration_s=last.ood.duration_seconds,
        ood_rows=last.ood.ood_rows,
    )
