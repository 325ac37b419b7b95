"""The stat test interface: score one feature's current values against its reference profile."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from driftwatch.checks.stattests.catalog import StatTestSpec
from driftwatch.types import Kind

if TYPE_CHECKING:
    from driftwatch.reference.profile import FeatureProfile

# Finite float64 values for numeric features; string labels for categorical and text features.
CurrentValues = np.ndarray | pa.Array


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
