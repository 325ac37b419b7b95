"""The calibration benchmark's work units (one dataset x reference size, or one look run) across worker processes.

Building nulls dominates the run, and the units share nothing, so `--jobs` processes take them longest first. Each
worker loads the datasets it is given by name, once.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from calibration_data import Dataset, load_datasets
from calibration_runs import Cell, LookRun, Plan, PowerCell, run_dataset, run_looks

# Rough relative cost of a unit, to start the longest first: KS nulls at references of at most 1,000 rows cost most.
_WEIGHT = {"randhie": 6.0, "triage": 4.5, "fair": 3.5, "breast_cancer": 1.5, "diabetes": 0.5, "digits": 0.5}
LOOKS = "looks"


@dataclass(frozen=True)
class Unit:
    """One dataset x reference size of the false-alarm grid, or the repeated looks at one reference size."""

    kind: str  # "cells" or LOOKS
    dataset: str
    index: int
    ref_rows: int

    @property
    def weight(self) -> float:
        base = 4.0 if self.kind == LOOKS else _WEIGHT.get(self.dataset, 1.0)
        return base * (2.0 if self.ref_rows <= 1000 else 0.5)


@dataclass
class UnitResult:
    unit: Unit
    cells: list[Cell]
    power: list[PowerCell]
    looks: LookRun | None = None


_LOADED: dict[str, Dataset] = {}


def _dataset(name: str, quick: bool, seed: int) -> Dataset:
    if name not in _LOADED:
        _LOADED[name] = load_datasets(quick, seed, (name,))[0]
    return _LOADED[name]


def preload(datasets: list[Dataset]) -> None:
    """Datasets already loaded in this process, for the units it runs itself (--jobs 1)."""
    _LOADED.update({d.name: d for d in datasets})


def run_unit(unit: Unit, plan: Plan, seed: int, quick: bool) -> UnitResult:
    ds = _dataset(unit.dataset, quick, seed)
    if unit.kind == LOOKS:
        return UnitResult(unit, [], [], run_looks(ds, unit.ref_rows, plan, seed))
    cells, power = run_dataset(ds, plan, seed, unit.index, (unit.ref_rows,))
    return UnitResult(unit, cells, power)


def run_units(units: list[Unit], plan: Plan, seed: int, quick: bool, jobs: int) -> list[UnitResult]:
    """Every unit, in `jobs` fresh processes (in this one when jobs is 1); results in the order of `units`."""
    order = sorted(range(len(units)), key=lambda i: -units[i].weight)
    if jobs <= 1:
        done = {i: run_unit(units[i], plan, seed, quick) for i in order}
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {i: pool.submit(run_unit, units[i], plan, seed, quick) for i in order}
            done = {i: f.result() for i, f in futures.items()}
    return [done[i] for i in range(len(units))]
