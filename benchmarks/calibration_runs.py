"""The calibration benchmark's runs: clean windows and shifted copies per split, repeated looks, and check costs."""

from __future__ import annotations

import inspect
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
from calibration_data import (
    Dataset,
    Shift,
    design_effect,
    draw_window,
    look_shares,
    shift_category,
    shift_numeric,
    split,
    value_design_effect,
)
from harness import BenchError, progress
from scipy.stats import norm

from driftwatch.checks.engine import run_check
from driftwatch.checks.results import CheckResult
from driftwatch.config import DriftSettings, MonitorConfig
from driftwatch.reference.profile import ReferenceProfile, build_profile
from driftwatch.types import Status


def calibrated_available() -> bool:
    """Whether this driftwatch's engine takes the calibrated decision (its run_check has `look_share`)."""
    return "look_share" in inspect.signature(run_check).parameters


@dataclass(frozen=True)
class Variant:
    """One way of deciding: evidently's thresholds, or calibrated p-values at `alpha` with a correction."""

    key: str
    decision: str
    alpha: float | None = None
    # None: the decision's default (bh for calibrated)
    correction: str | None = None

    @cached_property
    def settings(self) -> DriftSettings:
        if self.decision == "threshold":
            return DriftSettings(decision="threshold", multiple_testing="none")
        return DriftSettings(decision="calibrated", alpha=self.alpha, multiple_testing=self.correction)


THRESHOLD = Variant("threshold", "threshold")


def calibrated(alpha: float, correction: str | None = None) -> Variant:
    return Variant(f"cal {correction or 'bh'} a={alpha:g}", "calibrated", alpha, correction)


def check(profile: ReferenceProfile, table: pa.Table, variant: Variant, look_share: float = 1.0) -> CheckResult:
    """One run_check; a calibrated variant whose results do not carry the calibrated decision is an error."""
    if variant.decision == "threshold":
        return run_check(profile, table, variant.settings)
    result = run_check(profile, table, variant.settings, look_share=look_share)  # type: ignore[call-arg]
    if any(f.status == Status.OK and f.decision != "calibrated" for f in result.features):
        raise BenchError(f"{variant.key}: a feature was judged by {result.features[0].decision!r}, not calibrated")
    return result


def monitor_config(ds: Dataset) -> MonitorConfig:
    return MonitorConfig(name=ds.name, reference={"path": ds.source}, features=dict(ds.kinds))


def version(run: str, seed: int, ref_rows: int, split_no: int) -> str:
    """A reference version unique to one split: the engine caches nulls by monitor and version."""
    return f"{run}-seed{seed}-ref{ref_rows}-split{split_no}"


# ---- clean windows and shifted copies --------------------------------------------------------------------------


@dataclass
class Tally:
    """What one variant decided over a cell's clean windows."""

    windows: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    unjudged: dict[str, int] = field(default_factory=dict)
    any_flagged: int = 0
    dataset_drift: int = 0
    methods: dict[str, list[str]] = field(default_factory=dict)
    # Flagged windows per reference split (per feature, and any feature): alarms bunch when a reference is unusual.
    per_split: dict[str, dict[int, int]] = field(default_factory=dict)
    any_per_split: dict[int, int] = field(default_factory=dict)
    split_windows: dict[int, int] = field(default_factory=dict)
    # Per feature and split, each window's calibrated p-value on the probit scale (windows move together by reference).
    probits: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, result: CheckResult, seconds: float, split_no: int = 0) -> None:
        self.windows += 1
        self.seconds += seconds
        self.split_windows[split_no] = self.split_windows.get(split_no, 0) + 1
        flagged_any = any(f.drifted for f in result.features)
        self.any_flagged += flagged_any
        self.any_per_split[split_no] = self.any_per_split.get(split_no, 0) + flagged_any
        self.dataset_drift += result.dataset_drift
        for f in result.features:
            self.flagged[f.name] = self.flagged.get(f.name, 0) + f.drifted
            counts = self.per_split.setdefault(f.name, {})
            counts[split_no] = counts.get(split_no, 0) + f.drifted
            if f.decision == "calibrated" and f.p_value is not None and math.isfinite(f.p_value):
                z = float(norm.isf(min(max(f.p_value, 1e-300), 1.0 - 1e-12)))
                self.probits.setdefault(f.name, {}).setdefault(split_no, []).append(z)
            if f.status != Status.OK:
                self.unjudged[f.name] = self.unjudged.get(f.name, 0) + 1
            methods = self.methods.setdefault(f.name, [])
            if f.method is not None and f.method not in methods:
                methods.append(f.method)

    def rates(self) -> dict[str, float]:
        return {name: k / self.windows for name, k in self.flagged.items()} if self.windows else {}

    def splits_flagged(self, name: str) -> int:
        """References with at least one window in which `name` was flagged."""
        return sum(k > 0 for k in self.per_split.get(name, {}).values())

    def deff(self, name: str | None = None) -> float:
        """The design effect of a feature's rate (None: of any feature flagged) over this tally's splits.

        The larger of the flags' own and the p-values' intra-reference correlation: the latent correlation bounds
        the flags' from above, and is measurable where no window was flagged.
        """
        counts = self.any_per_split if name is None else self.per_split.get(name, {})
        size = min(self.split_windows.values(), default=1)
        flags = design_effect([counts.get(s, 0) for s in self.split_windows], size)
        if name is None or name not in self.probits:
            return flags
        return max(flags, value_design_effect(list(self.probits[name].values())))


@dataclass
class Cell:
    """One dataset x reference size x window size: every variant's tally over the same clean windows."""

    dataset: str
    ref_rows: int
    window: int
    splits: int
    windows_per_split: int
    tallies: dict[str, Tally] = field(default_factory=dict)


@dataclass
class PowerCell:
    """One dataset x reference size x window size x injected shift: windows where the shifted feature was flagged."""

    dataset: str
    ref_rows: int
    window: int
    shift: str
    feature: str
    windows: int = 0
    flagged: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """How much a run measures."""

    splits: int
    windows_per_split: int
    window_sizes: tuple[int, ...]
    alphas: tuple[float, ...]
    calibrated: bool
    # The looks cost a null per grid size a filling window passes, so they may use fewer, fuller splits.
    look_splits: int = 8
    look_windows_per_split: int = 25
    power_windows: tuple[int, ...] = (1_000, 5_000)
    power_per_split: int = 5
    numeric_shifts: tuple[float, ...] = (0.1, 0.25, 0.5)
    category_shifts: tuple[float, ...] = (0.05, 0.10, 0.20)

    def null_variants(self) -> list[Variant]:
        out = [THRESHOLD]
        if self.calibrated:
            for a in self.alphas:
                out += [calibrated(a, "none"), calibrated(a)]
        return out

    def power_variants(self) -> list[Variant]:
        return [THRESHOLD, calibrated(0.05), calibrated(0.05, "none")] if self.calibrated else [THRESHOLD]


def _inject(rng: np.random.Generator, ds: Dataset, table: pa.Table, shift: Shift) -> pa.Table:
    if shift.kind == "numeric":
        return shift_numeric(table, shift.feature, shift.size * ds.sd[shift.feature])
    return shift_category(rng, table, shift.feature, shift.category, shift.size)


def run_dataset(
    ds: Dataset, plan: Plan, seed: int, index: int, ref_sizes: tuple[int, ...] | None = None
) -> tuple[list[Cell], list[PowerCell]]:
    """Every clean cell of one dataset, and the power cells, from `plan.splits` reference splits per size."""
    config = monitor_config(ds)
    cells: list[Cell] = []
    power: list[PowerCell] = []
    null_variants, power_variants = plan.null_variants(), plan.power_variants()
    for ref_rows in ref_sizes or ds.ref_sizes:
        sizes = ds.windows(ref_rows, plan.window_sizes)
        if not sizes:
            continue
        by_size = {w: Cell(ds.name, ref_rows, w, plan.splits, plan.windows_per_split) for w in sizes}
        shifts = ds.shifts(plan.numeric_shifts, plan.category_shifts)
        by_shift = {
            (w, s.label): PowerCell(ds.name, ref_rows, w, s.label, s.feature)
            for w in sizes
            if w in plan.power_windows
            for s in shifts
        }
        t0 = time.perf_counter()
        for s in range(plan.splits):
            rng = np.random.default_rng([seed, index, ref_rows, s])
            ref_idx, held = split(rng, ds.rows, ref_rows)
            profile = build_profile(ds.table.take(ref_idx), config, version("null", seed, ref_rows, s), ds.source)
            for w in sizes:
                cell = by_size[w]
                for j in range(plan.windows_per_split):
                    window = ds.table.take(draw_window(rng, held, w))
                    for v in null_variants:
                        t = time.perf_counter()
                        result = check(profile, window, v)
                        cell.tallies.setdefault(v.key, Tally()).add(result, time.perf_counter() - t, s)
                    if w not in plan.power_windows or j >= plan.power_per_split:
                        continue
                    for shift in shifts:
                        shifted = _inject(rng, ds, window, shift)
                        pc = by_shift[(w, shift.label)]
                        pc.windows += 1
                        for v in power_variants:
                            drifted = {f.name: f.drifted for f in check(profile, shifted, v).features}
                            pc.flagged[v.key] = pc.flagged.get(v.key, 0) + drifted[shift.feature]
        progress(
            f"  {ds.name} ref {ref_rows:,}: windows {', '.join(f'{w:,}' for w in sizes)} "
            f"x {plan.splits * plan.windows_per_split} clean, {len(by_shift)} power cells "
            f"in {time.perf_counter() - t0:.1f}s"
        )
        cells.extend(by_size.values())
        power.extend(by_shift.values())
    return cells, power


# ---- repeated looks at one open tumbling window ----------------------------------------------------------------


@dataclass
class LookTally:
    """Clean windows ever flagged across a window's looks, and flagged at each look."""

    windows: int = 0
    ever_any: int = 0
    ever_dataset: int = 0
    per_look_any: list[int] = field(default_factory=list)
    # references with at least one window ever flagged (any feature), and windows ever flagged per reference
    splits_flagged: int = 0
    ever_per_split: list[int] = field(default_factory=list)
    windows_per_split: int = 1

    def deff(self) -> float:
        """The design effect of the ever-flagged rate (windows of one reference flag together)."""
        return design_effect(self.ever_per_split, self.windows_per_split)


@dataclass
class LookRun:
    """The daemon's schedule on one dataset: `looks` checks of a window filling to `window_rows` rows."""

    dataset: str
    ref_rows: int
    window_rows: int
    looks: int
    open_share: float
    alpha: float
    shares: list[float]
    rows_at: list[int]
    splits: int
    windows_per_split: int
    tallies: dict[str, LookTally] = field(default_factory=dict)


LOOK_SPENT = "calibrated, spent shares"
LOOK_FULL = "calibrated, look_share=1"


def run_looks(
    ds: Dataset,
    ref_rows: int,
    plan: Plan,
    seed: int,
    *,
    window_rows: int = 5_000,
    looks: int = 15,
    alpha: float = 0.05,
    open_share: float = 0.5,
) -> LookRun:
    """Clean windows checked as they fill: every look on the rows so far, the last one at close."""
    shares = look_shares(looks, open_share)
    rows_at = [round(window_rows * k / looks) for k in range(1, looks + 1)]
    splits, per_split = plan.look_splits, plan.look_windows_per_split
    run = LookRun(ds.name, ref_rows, window_rows, looks, open_share, alpha, shares, rows_at, splits, per_split)
    schemes: list[tuple[str, Variant, Callable[[int], float]]] = [("threshold", THRESHOLD, lambda k: 1.0)]
    if plan.calibrated:
        schemes += [(LOOK_SPENT, calibrated(alpha), lambda k: shares[k]), (LOOK_FULL, calibrated(alpha), lambda k: 1.0)]
    for name, _, _ in schemes:
        run.tallies[name] = LookTally(per_look_any=[0] * looks)
    config = monitor_config(ds)
    t0 = time.perf_counter()
    for s in range(splits):
        rng = np.random.default_rng([seed, 991, ref_rows, s])
        ref_idx, held = split(rng, ds.rows, ref_rows)
        profile = build_profile(ds.table.take(ref_idx), config, version("looks", seed, ref_rows, s), ds.source)
        windows = [ds.table.take(draw_window(rng, held, window_rows)) for _ in range(per_split)]
        ever_any = {name: [False] * len(windows) for name, _, _ in schemes}
        ever_dataset = {name: [False] * len(windows) for name, _, _ in schemes}
        # Look by look, so that each window size's null is built once per profile.
        for k, n in enumerate(rows_at):
            for j, window in enumerate(windows):
                for name, variant, share in schemes:
                    result = check(profile, window.slice(0, n), variant, look_share=share(k))
                    flagged = any(f.drifted for f in result.features)
                    run.tallies[name].per_look_any[k] += flagged
                    ever_any[name][j] |= flagged
                    ever_dataset[name][j] |= result.dataset_drift
        for name, tally in run.tallies.items():
            tally.windows += len(windows)
            tally.ever_any += sum(ever_any[name])
            tally.ever_dataset += sum(ever_dataset[name])
            tally.splits_flagged += any(ever_any[name])
            tally.ever_per_split.append(sum(ever_any[name]))
            tally.windows_per_split = len(windows)
    progress(
        f"  looks {ds.name} ref {ref_rows:,}: {splits} splits x {per_split} windows x {looks} looks "
        f"in {time.perf_counter() - t0:.1f}s"
    )
    return run


# ---- cost ------------------------------------------------------------------------------------------------------


@dataclass
class CostRow:
    """Median milliseconds over fresh profiles: build, first and second calibrated check, threshold check."""

    dataset: str
    ref_rows: int
    window: int
    repeats: int
    build_ms: float
    threshold_ms: float
    first_calibrated_ms: float | None = None
    second_calibrated_ms: float | None = None

    @property
    def null_build_ms(self) -> float | None:
        if self.first_calibrated_ms is None or self.second_calibrated_ms is None:
            return None
        return self.first_calibrated_ms - self.second_calibrated_ms

    @property
    def overhead(self) -> float | None:
        """Second calibrated check / threshold check."""
        if self.second_calibrated_ms is None or not self.threshold_ms:
            return None
        return self.second_calibrated_ms / self.threshold_ms


def _ms(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000.0


def measure_cost(ds: Dataset, ref_rows: int, window: int, repeats: int, calibrated_ok: bool, seed: int) -> CostRow:
    """Build a fresh profile `repeats` times; on each, time the first and a second calibrated check and threshold's."""
    config = monitor_config(ds)
    cal = calibrated(0.05)
    build, first, second, thresh = [], [], [], []
    for r in range(repeats):
        rng = np.random.default_rng([seed, 4242, ref_rows, window, r])
        ref_idx, held = split(rng, ds.rows, ref_rows)
        ref = ds.table.take(ref_idx)
        t = time.perf_counter()
        profile = build_profile(ref, config, version(f"cost-{window}", seed, ref_rows, r), ds.source)
        build.append((time.perf_counter() - t) * 1000.0)
        a, b = (ds.table.take(draw_window(rng, held, window)) for _ in range(2))
        if calibrated_ok:
            first.append(_ms(lambda p=profile, a=a: check(p, a, cal)))
            second.append(statistics.median(_ms(lambda p=profile, b=b: check(p, b, cal)) for _ in range(3)))
        check(profile, b, THRESHOLD)
        thresh.append(statistics.median(_ms(lambda p=profile, b=b: check(p, b, THRESHOLD)) for _ in range(3)))
    row = CostRow(ds.name, ref_rows, window, repeats, statistics.median(build), statistics.median(thresh))
    if calibrated_ok:
        row.first_calibrated_ms = statistics.median(first)
        row.second_calibrated_ms = statistics.median(second)
    return row


def warm_up(ds: Dataset, calibrated_ok: bool) -> None:
    """One check of each decision on a throwaway profile, so that imports do not count in the first timing."""
    rng = np.random.default_rng(0)
    ref_idx, held = split(rng, ds.rows, 300)
    profile = build_profile(ds.table.take(ref_idx), monitor_config(ds), "warm-up", ds.source)
    window = ds.table.take(draw_window(rng, held, 100))
    check(profile, window, THRESHOLD)
    if calibrated_ok:
        check(profile, window, calibrated(0.05))
