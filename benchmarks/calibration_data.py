"""The calibration benchmark's data: bundled datasets, clean splits, injected shifts, look shares, binomial bounds.

Every table here ships inside an installed package (scikit-learn's and statsmodels' bundled datasets) or comes from
driftwatch's own triage simulator with its drift knob at 0; nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WINDOW_SIZES = (100, 300, 1_000, 5_000, 50_000)
QUICK_WINDOW_SIZES = (100, 1_000, 5_000)
# Rows of the triage simulator drawn once; references and windows are disjoint random subsets of it.
TRIAGE_POOL_ROWS = 1_000_000
QUICK_TRIAGE_POOL_ROWS = 200_000


@dataclass(frozen=True)
class Shift:
    """One injected change: a mean shift in sd units, or a category's share moved by percentage points."""

    feature: str
    kind: str  # "numeric" or "categorical"
    size: float  # sd units, or a share (0.05 = 5 percentage points)
    category: str | int | None = None

    @property
    def label(self) -> str:
        if self.kind == "numeric":
            return f"{self.feature} +{self.size:g} sd"
        return f"{self.feature}={self.category} +{self.size * 100:g} pp"


@dataclass(frozen=True)
class Dataset:
    """A table, the kind of every monitored column, the reference sizes to split it at and its power shifts."""

    name: str
    source: str
    table: pa.Table
    kinds: dict[str, str]
    ref_sizes: tuple[int, ...]
    # Only a near-continuous column: shifting tied values moves them off the reference's atoms, which any test sees.
    numeric_shift: str | None = None
    category_shift: tuple[str, str | int] | None = None
    sd: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.table.num_rows

    def windows(self, ref_rows: int, sizes: tuple[int, ...]) -> list[int]:
        """The window sizes the rows held out of a `ref_rows` reference allow."""
        return [w for w in sizes if w <= self.rows - ref_rows]

    def shifts(self, numeric: tuple[float, ...], shares: tuple[float, ...]) -> list[Shift]:
        out = [Shift(self.numeric_shift, "numeric", s) for s in numeric] if self.numeric_shift else []
        if self.category_shift is not None:
            name, category = self.category_shift
            out += [Shift(name, "categorical", s, category) for s in shares]
        return out


def _dataset(name: str, source: str, columns: dict[str, np.ndarray], kinds: dict[str, str], **kw: object) -> Dataset:
    table = pa.table({c: pa.array(v) for c, v in columns.items()})
    sd = {c: float(np.std(np.asarray(v, dtype=np.float64))) for c, v in columns.items() if kinds[c] == "numeric"}
    return Dataset(name, source, table, kinds, sd=sd, **kw)  # type: ignore[arg-type]


def breast_cancer() -> Dataset:
    """scikit-learn's Wisconsin breast cancer table: 10 'mean' measurements and the diagnosis as strings."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    names = list(bunch.feature_names[:10])
    columns = {n.replace(" ", "_"): bunch.data[:, i] for i, n in enumerate(names)}
    columns["diagnosis"] = np.asarray(bunch.target_names, dtype=object)[bunch.target]
    kinds = {c: "numeric" for c in columns} | {"diagnosis": "categorical"}
    return _dataset("breast_cancer", "sklearn load_breast_cancer", columns, kinds, ref_sizes=(250,))


def diabetes() -> Dataset:
    """scikit-learn's diabetes table, unscaled: 9 measurements, the target, and sex (1/2) declared categorical."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    columns = {n: bunch.data[:, i] for i, n in enumerate(bunch.feature_names)}
    columns["sex"] = columns["sex"].astype(np.int64)
    columns["target"] = bunch.target
    kinds = {c: "numeric" for c in columns} | {"sex": "categorical"}
    return _dataset("diabetes", "sklearn load_diabetes(scaled=False)", columns, kinds, ref_sizes=(200,))


DIGIT_PIXELS = ("pixel_1_3", "pixel_2_2", "pixel_2_5", "pixel_3_3", "pixel_4_4", "pixel_5_5", "pixel_6_3", "pixel_7_4")


def digits() -> Dataset:
    """scikit-learn's 8x8 digits: 8 pixel intensities (integers 0-16) and the digit, all declared categorical."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    index = {f"pixel_{i // 8}_{i % 8}": i for i in range(64)}
    columns = {p: bunch.data[:, index[p]].astype(np.int64) for p in DIGIT_PIXELS}
    columns["digit"] = bunch.target.astype(np.int64)
    kinds = dict.fromkeys(columns, "categorical")
    return _dataset("digits", "sklearn load_digits", columns, kinds, ref_sizes=(600, 1200))


FAIR_CATEGORICAL = ("rate_marriage", "religious", "occupation", "occupation_husb")


def fair() -> Dataset:
    """statsmodels' affairs survey (Fair 1978): 4 coded answers declared categorical, 5 numeric (mostly few values)."""
    from statsmodels.datasets import fair as fair_data

    frame = fair_data.load_pandas().data
    columns = {c: frame[c].to_numpy() for c in frame.columns}
    for c in FAIR_CATEGORICAL:
        columns[c] = columns[c].astype(np.int64)
    kinds = {c: "categorical" if c in FAIR_CATEGORICAL else "numeric" for c in columns}
    return _dataset(
        "fair",
        "statsmodels.datasets.fair",
        columns,
        kinds,
        ref_sizes=(1000, 3000),
        category_shift=("religious", 1),
    )


RANDHIE_CATEGORICAL = ("coins", "idp", "hlthg", "hlthf", "hlthp")


def randhie() -> Dataset:
    """statsmodels' RAND health insurance experiment: the coinsurance rate and 4 flags categorical, 5 numeric."""
    from statsmodels.datasets import randhie as randhie_data

    frame = randhie_data.load_pandas().data
    columns = {c: frame[c].to_numpy() for c in frame.columns if c != "lncoins"}
    # lncoins = ln(coinsurance % + 1): five plans, kept as their percentages.
    columns["coins"] = np.rint(np.expm1(frame["lncoins"].to_numpy())).astype(np.int64)
    for c in RANDHIE_CATEGORICAL:
        columns[c] = columns[c].astype(np.int64)
    kinds = {c: "categorical" if c in RANDHIE_CATEGORICAL else "numeric" for c in columns}
    return _dataset(
        "randhie",
        "statsmodels.datasets.randhie",
        columns,
        kinds,
        ref_sizes=(1000, 5000),
        category_shift=("coins", 25),
    )


TRIAGE_KINDS = {
    "patient_age": "numeric",
    "heart_rate": "numeric",
    "temperature_c": "numeric",
    "systolic_bp": "numeric",
    "pain_score": "numeric",
    "arrival_mode": "categorical",
    "channel": "categorical",
    "insurance": "categorical",
    "predicted_urgency": "categorical",
}


def triage(rows: int, seed: int) -> Dataset:
    """driftwatch's triage simulator with drift 0 (its clean mode), free-text symptoms left out."""
    from driftwatch.demo.simulate import simulate

    table = simulate(np.random.default_rng([seed, 77]), rows, 0.0).drop_columns(["symptoms"])
    columns = {c: table.column(c).to_numpy() for c in TRIAGE_KINDS}
    return _dataset(
        "triage",
        "driftwatch.demo simulate(drift=0)",
        columns,
        dict(TRIAGE_KINDS),
        ref_sizes=(1000, 5000),
        numeric_shift="patient_age",
        category_shift=("channel", "kiosk"),
    )


def load_datasets(quick: bool, seed: int, names: tuple[str, ...] | None = None) -> list[Dataset]:
    """Every dataset of a run (--quick: breast_cancer, fair and a smaller triage pool)."""
    pool = QUICK_TRIAGE_POOL_ROWS if quick else TRIAGE_POOL_ROWS
    loaders = {
        "breast_cancer": breast_cancer,
        "diabetes": diabetes,
        "digits": digits,
        "fair": fair,
        "randhie": randhie,
        "triage": lambda: triage(pool, seed),
    }
    if names is None:
        names = ("breast_cancer", "fair", "triage") if quick else tuple(loaders)
    unknown = sorted(set(names) - set(loaders))
    if unknown:
        raise ValueError(f"unknown datasets {unknown} (known: {', '.join(loaders)})")
    return [loaders[n]() for n in names]


# ---- clean splits and injected shifts --------------------------------------------------------------------------


def split(rng: np.random.Generator, rows: int, ref_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """A random reference of `ref_rows` row indices and the disjoint rest (the held-out rows windows come from)."""
    perm = rng.permutation(rows)
    return np.sort(perm[:ref_rows]), perm[ref_rows:]


def draw_window(rng: np.random.Generator, held_out: np.ndarray, rows: int) -> np.ndarray:
    """`rows` held-out row indices drawn without replacement, in random (arrival) order."""
    return held_out[rng.choice(held_out.size, size=rows, replace=False)]


def shift_numeric(table: pa.Table, column: str, delta: float) -> pa.Table:
    """`table` with `delta` added to every value of `column` (nulls stay null)."""
    i = table.schema.get_field_index(column)
    shifted = pc.add(pc.cast(table.column(i), pa.float64()), delta)
    return table.set_column(i, column, shifted)


def shift_category(rng: np.random.Generator, table: pa.Table, column: str, category: object, share: float) -> pa.Table:
    """`table` with round(share * rows) random rows of other categories relabelled `category` in `column`."""
    i = table.schema.get_field_index(column)
    values = table.column(i).to_numpy(zero_copy_only=False).copy()
    others = np.flatnonzero(values != category)
    moved = rng.choice(others, size=min(others.size, round(share * len(values))), replace=False)
    values[moved] = category
    return table.set_column(i, column, pa.array(values, type=table.schema.field(i).type))


# ---- look shares and binomial bounds ---------------------------------------------------------------------------


def look_shares(looks: int, open_share: float = 0.5) -> list[float]:
    """Each look's share of alpha for `looks` evenly spaced checks (driftwatch.checks.looks), the last at close."""
    from driftwatch.checks.looks import look_share

    shares: list[float] = []
    for k in range(1, looks + 1):
        shares.append(look_share(k / looks, sum(shares), open_share, closed=k == looks))
    return shares


def design_effect(per_cluster: list[int], size: int) -> float:
    """Kish's design effect 1 + (size - 1) ICC of a rate counted in clusters of `size` windows sharing a reference.

    The intra-cluster correlation is the one-way ANOVA estimate, clipped to [0, 1]: windows checked against one
    reference flag together when that reference is unusual, most where windows are as large as the reference.
    """
    clusters = len(per_cluster)
    if clusters < 2 or size < 2:
        return 1.0
    shares = np.asarray(per_cluster, dtype=np.float64) / size
    mean = float(shares.mean())
    if mean in (0.0, 1.0):
        return 1.0
    between = size * float(np.sum((shares - mean) ** 2)) / (clusters - 1)
    within = size * float(np.sum(shares * (1.0 - shares))) / (clusters * (size - 1))
    icc = (between - within) / (between + (size - 1) * within) if between + within > 0 else 0.0
    return 1.0 + (size - 1) * min(max(icc, 0.0), 1.0)


def value_design_effect(per_cluster: list[list[float]]) -> float:
    """Kish's design effect from the intra-cluster correlation of a continuous value (one-way ANOVA, clipped to [0, 1]).

    Used on each window's calibrated p-value (probit scale): it measures how much windows of one reference move
    together even when none of them was flagged, where the flags alone cannot.
    """
    groups = [np.asarray(g, dtype=np.float64) for g in per_cluster if len(g)]
    if len(groups) < 2:
        return 1.0
    size = min(g.size for g in groups)
    if size < 2:
        return 1.0
    groups = [g[:size] for g in groups]
    means = np.array([g.mean() for g in groups])
    between = size * float(np.sum((means - means.mean()) ** 2)) / (len(groups) - 1)
    within = float(sum(np.sum((g - m) ** 2) for g, m in zip(groups, means, strict=True))) / (len(groups) * (size - 1))
    total = between + (size - 1) * within
    icc = (between - within) / total if total > 0 else 0.0
    return 1.0 + (size - 1) * min(max(icc, 0.0), 1.0)


def binomial_interval(k: int, n: int, confidence: float = 0.99, deff: float = 1.0) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval for a rate of `k` in `n`, on n / deff effective trials."""
    from scipy.stats import beta

    if n <= 0:
        return 0.0, 1.0
    k_eff, n_eff = k / deff, n / deff
    tail = (1.0 - confidence) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(tail, k_eff, n_eff - k_eff + 1))
    hi = 1.0 if k == n else float(beta.ppf(1.0 - tail, k_eff + 1, n_eff - k_eff))
    return lo, hi


def within_band(k: int, n: int, low: float, high: float, confidence: float = 0.99, deff: float = 1.0) -> bool:
    """False only when the rate's exact interval lies wholly outside [low, high]."""
    lo, hi = binomial_interval(k, n, confidence, deff)
    return hi >= low and lo <= high


def at_most(k: int, n: int, bound: float, confidence: float = 0.99, deff: float = 1.0) -> bool:
    """False only when the rate's exact interval lies wholly above `bound`."""
    return binomial_interval(k, n, confidence, deff)[0] <= bound
