"""The novelty detector: distance to the nearest reference rows, turned into a conformal p-value.

Rows are encoded on one scale (numeric features robustly standardised, categories one-hot so that two different
categories are 1 apart, as are two values one robust sd apart). A row's score is its mean distance to its k nearest
rows of a fit split of the reference sample; a held-out calibration split of the same sample, scored the same way,
makes the score a conformal p-value: (1 + calibration scores >= s) / (calibration rows + 1), valid at any size for
rows exchangeable with the reference's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.neighbors import NearestNeighbors

from driftwatch.config.ood import NovelReason
from driftwatch.ood.memo import Recent
from driftwatch.ood.rows import RowFrame, read_rows
from driftwatch.reference.profile import ReferenceProfile

log = logging.getLogger(__name__)

# Categories beyond the most frequent ones share one slot, so a feature with thousands of labels stays small.
MAX_CATEGORIES = 50
# A standardised value past this is as far as it gets (an infinite value must not make every distance infinite).
FAR = 1e6
# Fewer calibration rows than this leave the p-value too coarse to be useful, whatever alpha allows.
MIN_CALIBRATION_ROWS = 100


@dataclass(frozen=True)
class Encoding:
    """How each feature becomes columns of the distance space; dims[i] is the profile feature of column i."""

    numeric: dict[str, tuple[float, float]]  # feature -> (centre, scale)
    categories: dict[str, list[str]]  # feature -> the categories with their own column
    dims: np.ndarray  # column -> index of its feature in the profile

    @property
    def width(self) -> int:
        return int(self.dims.size)


def encoding(profile: ReferenceProfile) -> Encoding:
    """The encoding of a reference's numeric and categorical features, then of its text features' signals.

    Column indices follow read_rows' frame: the features, then the signals the row sample holds.
    """
    numeric: dict[str, tuple[float, float]] = {}
    categories: dict[str, list[str]] = {}
    dims: list[int] = []
    for i, f in enumerate(profile.features + profile.row_signals):
        if f.numeric is not None and f.numeric.values.size:
            q25, q50, q75 = np.quantile(f.numeric.values, [0.25, 0.5, 0.75])
            scale = (q75 - q25) / 1.349 or f.numeric.std or 1.0
            numeric[f.name] = (float(q50), float(scale))
            dims.append(i)
        elif f.categorical is not None and f.categorical.n_unique:
            order = np.argsort(-f.categorical.counts, kind="stable")[:MAX_CATEGORIES]
            categories[f.name] = [str(c) for c in f.categorical.categories[order]]
            dims.extend([i] * (len(order) + 1))  # + the slot shared by rarer or unseen categories
    return Encoding(numeric, categories, np.asarray(dims, dtype=np.int64))


def encode(enc: Encoding, frame: RowFrame) -> np.ndarray:
    """Rows in the distance space: missing numbers at the centre, missing labels with no category set."""
    out = np.zeros((frame.rows, enc.width))
    col = 0
    weight = 1 / math.sqrt(2)  # two one-hot columns differ for two different categories
    for c in frame.columns:
        name = c.feature.name
        if name in enc.numeric:
            centre, scale = enc.numeric[name]
            assert c.numbers is not None
            z = np.nan_to_num((c.numbers - centre) / scale, nan=0.0, posinf=FAR, neginf=-FAR)
            out[:, col] = np.clip(z, -FAR, FAR)
            col += 1
        elif name in enc.categories:
            known = enc.categories[name]
            assert c.labels is not None
            index = pc.index_in(c.labels, value_set=pa.array(known, pa.string())).to_numpy(zero_copy_only=False)
            index = np.where(np.isnan(index.astype(np.float64)), -1, index).astype(np.int64)
            present = ~c.labels.is_null().to_numpy(zero_copy_only=False)
            slot = np.where(index >= 0, index, len(known))
            rows = np.flatnonzero(present)
            out[rows, col + slot[rows]] = weight
            col += len(known) + 1
    return out


@dataclass(frozen=True)
class Detector:
    """Fit rows, the calibration scores (sorted) and how to score new rows against them."""

    enc: Encoding
    fit: np.ndarray
    calibration: np.ndarray
    neighbours: int

    def __post_init__(self) -> None:
        nn = NearestNeighbors(n_neighbors=self.neighbours, algorithm="brute").fit(self.fit)
        object.__setattr__(self, "_nn", nn)

    def score(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's mean distance to its k nearest fit rows, and the nearest one's index."""
        if x.shape[0] == 0:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        dist, idx = self._nn.kneighbors(x)  # type: ignore[attr-defined]
        return dist.mean(axis=1), idx[:, 0]

    def p_values(self, scores: np.ndarray) -> np.ndarray:
        """Conformal p-values: the share of calibration rows scoring at least as high (plus one, over n + 1)."""
        n = self.calibration.size
        at_least = n - np.searchsorted(self.calibration, scores, side="left")
        return (1.0 + at_least) / (n + 1.0)

    def contributions(self, x: np.ndarray, nearest: np.ndarray, n_features: int) -> np.ndarray:
        """Per row and profile feature, its share of the squared distance to the nearest fit row."""
        sq = (x - self.fit[nearest]) ** 2
        per = np.zeros((x.shape[0], n_features))
        np.add.at(per.T, self.enc.dims, sq.T)
        total = per.sum(axis=1, keepdims=True)
        return np.divide(per, total, out=np.zeros_like(per), where=total > 0)


def needed_rows(alpha: float) -> int:
    """Calibration rows a conformal p-value needs before it can fall to alpha (and at least MIN_CALIBRATION_ROWS)."""
    return max(MIN_CALIBRATION_ROWS, math.ceil(1 / alpha) - 1)


def splits(rows: int, rule: NovelReason) -> tuple[int, int]:
    """Reference rows the distances are measured to, and rows held out to calibrate, from `rows` sampled rows."""
    fit_n = min(rule.fit_rows, rows // 2)
    return fit_n, min(rule.calibration_rows, rows - fit_n)


def shortfall(rows: int, rule: NovelReason, alpha: float) -> str | None:
    """Why a reference of `rows` rows is too small to calibrate novelty at `alpha` (None: it is not)."""
    fit_n, cal_n = splits(rows, rule)
    need = needed_rows(alpha)
    if fit_n >= rule.neighbours and cal_n >= need:
        return None
    return (
        f"calibrating novelty at alpha {alpha:g} needs a reference of at least {2 * max(need, rule.neighbours)} "
        f"rows (half to measure distances to, {need} held out); this one has {rows}"
    )


def fit_detector(profile: ReferenceProfile, rule: NovelReason, alpha: float) -> Detector | str:
    """The detector for a reference, or why it cannot be calibrated (too few rows, nothing to encode)."""
    enc = encoding(profile)
    sample = profile.row_sample
    if enc.width == 0:
        return "no numeric or categorical feature to measure distances on"
    if sample is None or sample.num_rows == 0:
        return "the reference profile holds no rows"
    n = sample.num_rows
    why = shortfall(n, rule, alpha)
    if why is not None:
        return why
    fit_n, cal_n = splits(n, rule)
    order = np.random.default_rng(rule.seed).permutation(n)
    x = encode(enc, read_rows(profile, sample))
    fit, cal = x[order[:fit_n]], x[order[fit_n : fit_n + cal_n]]
    bare = Detector(enc, fit, np.zeros(0), rule.neighbours)
    scores, _ = bare.score(cal)
    return Detector(enc, fit, np.sort(scores), rule.neighbours)


_DETECTORS: Recent[Detector | str] = Recent(16)


def detector_for(profile: ReferenceProfile, rule: NovelReason, alpha: float) -> Detector | str:
    """The detector of a reference version and settings: in memory, else on disk beside the profile, else fitted."""
    settings = json.dumps({"rule": rule.model_dump(), "alpha": alpha}, sort_keys=True)

    def build() -> Detector | str:
        path = _path(profile, settings)
        found = _load(path, profile) if path is not None else None
        if found is None:
            found = fit_detector(profile, rule, alpha)
            if isinstance(found, Detector) and path is not None:
                _store(path, found)
        return found

    return _DETECTORS.get((profile.monitor, profile.version, profile.cache_dir, settings), build)


def _path(profile: ReferenceProfile, settings: str) -> Path | None:
    if not profile.cache_dir:
        return None
    digest = hashlib.sha256(settings.encode()).hexdigest()[:12]
    return Path(profile.cache_dir) / "ood" / f"novel-{digest}.npz"


def _load(path: Path, profile: ReferenceProfile) -> Detector | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            fit, cal, k = data["fit"], data["calibration"], int(data["neighbours"])
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file is refitted
        log.warning("novelty detector refitted: unreadable file", extra={"file": path.name, "error": repr(exc)})
        return None
    enc = encoding(profile)
    if fit.ndim != 2 or fit.shape[1] != enc.width:
        return None
    return Detector(enc, fit, cal, k)


def _store(path: Path, detector: Detector) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.tmp{threading.get_ident()}.npz")
        np.savez(tmp, fit=detector.fit, calibration=detector.calibration, neighbours=detector.neighbours)
        tmp.replace(path)
    except OSError as exc:  # a full or read-only disk costs a refit after restart, not the check
        log.warning("novelty detector not kept on disk", extra={"error": exc.strerror or repr(exc)})
