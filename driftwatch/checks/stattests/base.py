"""The stat test interface: score one feature's current values against its reference profile."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from driftwatch.checks.stattests.catalog import StatTestSpec
from driftwatch.types import Kind

if TYPE_CHECKING:
    from driftwatch.reference.profile import FeatureProfile


@dataclass(frozen=True)
class CountedLabels:
    """Categorical values given as distinct labels and their counts (how bootstrap samples are drawn)."""

    values: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return int(self.counts.sum())


# Finite float64 values for numeric features; string labels for categorical and text features.
CurrentValues = np.ndarray | pa.Array | CountedLabels


@dataclass(frozen=True)
class Outcome:
    """A test's score and evidently's verdict, plus a two-sample p-value where the test's own null is exact."""

    score: float
    drifted: bool
    exact_p_value: float | None = None


class StatTest(ABC):
    """One stat test; implementations must give evidently's score for the same data."""

    def __init__(self, spec: StatTestSpec):
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def compare(
        self, reference: FeatureProfile, current: CurrentValues, kind: Kind, threshold: float
    ) -> tuple[float, bool]:
        """Score `current` against the reference and say whether that score means drift."""

    def outcome(self, reference: FeatureProfile, current: CurrentValues, kind: Kind, threshold: float) -> Outcome:
        """The score and verdict; tests with an exact two-sample null also give its p-value."""
        score, drifted = self.compare(reference, current, kind, threshold)
        return Outcome(score, drifted)
