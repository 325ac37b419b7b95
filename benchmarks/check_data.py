"""The seeded data of the check benchmark: 20 numeric and 5 categorical columns, some drifted in the current table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

N_NUMERIC = 20
CATEGORY_LEVELS = (5, 10, 15, 20, 30)
# Current-data drift: numeric column index -> how it moves; categorical column index -> how it moves.
NUMERIC_DRIFT = {0: "shift", 4: "scale", 8: "shift", 13: "scale"}
CATEGORICAL_DRIFT = {1: "reweight", 4: "new_category"}
NEW_CATEGORY_SHARE = 0.03


def numeric_names() -> list[str]:
    return [f"n{i}" for i in range(N_NUMERIC)]


def categorical_names() -> list[str]:
    return [f"c{j}" for j in range(len(CATEGORY_LEVELS))]


def _numeric_column(rng: np.random.Generator, i: int, n: int, drift: str | None) -> np.ndarray:
    """Column i: normal, lognormal or uniform by i % 3, with per-column parameters."""
    family = i % 3
    if family == 0:
        mu, sd = float(i), 1.0 + 0.1 * i
        if drift == "shift":
            mu += 0.3 * sd
        elif drift == "scale":
            sd *= 1.5
        return rng.normal(mu, sd, n)
    if family == 1:
        sigma = 0.4 + 0.05 * i
        if drift == "scale":
            sigma *= 1.3
        data = rng.lognormal(0.0, sigma, n)
        return data * 1.2 if drift == "shift" else data
    lo, hi = -float(i), float(i) + 1.0
    if drift == "shift":
        lo, hi = lo + 0.2 * (hi - lo), hi + 0.2 * (hi - lo)
    elif drift == "scale":
        lo, hi = lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo)
    return rng.uniform(lo, hi, n)


def _category_probabilities(j: int, levels: int) -> np.ndarray:
    """Fixed Zipf-like shares, the same in every process and independent of the data seed."""
    weights = 1.0 / np.arange(1, levels + 1) ** (0.6 + 0.1 * j)
    np.random.default_rng(1000 + j).shuffle(weights)
    return weights / weights.sum()


def _categorical_column(rng: np.random.Generator, j: int, n: int, drift: str | None) -> pa.Array:
    levels = CATEGORY_LEVELS[j]
    labels = [f"c{j}_level_{k:02d}" for k in range(levels)]
    p = _category_probabilities(j, levels)
    if drift == "reweight":
        p = 0.6 * p + 0.4 * p[::-1]
    elif drift == "new_category":
        labels.append(f"c{j}_new")
        p = np.append(p * (1 - NEW_CATEGORY_SHARE), NEW_CATEGORY_SHARE)
    codes = rng.choice(len(labels), size=n, p=p / p.sum()).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(labels, pa.string())).dictionary_decode()


def make_table(n: int, seed: int, current: bool) -> pa.Table:
    """A seeded table; column-by-column generation keeps transient memory to one column."""
    role = 1 if current else 0
    columns: dict[str, pa.Array] = {}
    for i, name in enumerate(numeric_names()):
        rng = np.random.default_rng([seed, role, i])
        columns[name] = pa.array(_numeric_column(rng, i, n, NUMERIC_DRIFT.get(i) if current else None))
    for j, name in enumerate(categorical_names()):
        rng = np.random.default_rng([seed, role, N_NUMERIC + j])
        columns[name] = _categorical_column(rng, j, n, CATEGORICAL_DRIFT.get(j) if current else None)
    return pa.table(columns)
