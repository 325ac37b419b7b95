"""The OOD reason interface: what fires on which row and feature, fitted once per reference version."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from driftwatch.config.ood import OodSettings
from driftwatch.ood.rows import Column, RowFrame
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile


@dataclass(frozen=True)
class Flags:
    """One reason's findings: per row and feature whether it fired; novelty adds each row's p-value and score."""

    fired: np.ndarray  # (rows, features) bool
    p_values: np.ndarray | None = None
    scores: np.ndarray | None = None


class Reason(ABC):
    """One reason a row can be out of distribution."""

    name: ClassVar[str]

    def __init__(self, profile: ReferenceProfile, settings: OodSettings):
        self.profile = profile
        self.settings = settings

    @property
    def unavailable(self) -> str | None:
        """Why this reason cannot run on this reference (None: it can)."""
        return None

    @property
    def applicable(self) -> bool:
        """False for a reason with nothing to judge here (unseen_language without a text feature): left out quietly."""
        return True

    @abstractmethod
    def evaluate(self, frame: RowFrame) -> Flags:
        """Which rows (and features) this reason flags."""


class Rule(Reason):
    """A per-value reason, judged one feature at a time: cheap enough to count on every ingested row."""

    # Counted on every ingested row (driftwatch.live.rowbatch); False for rules on derived text signals, which
    # exist only once a check derives them from its sample.
    live: ClassVar[bool] = True

    def applies(self, feature: FeatureProfile) -> bool:
        """Whether this rule can fire on `feature` at all (live counting skips the features it cannot)."""
        return feature.schema.signal_of is None

    @abstractmethod
    def fires(self, j: int, column: Column) -> np.ndarray | None:
        """The rows of feature `j` this rule flags (None: it never fires on this feature)."""

    def evaluate(self, frame: RowFrame) -> Flags:
        fired = frame.blank()
        for j, column in enumerate(frame.columns):
            rows = self.fires(j, column) if self.applies(column.feature) else None
            if rows is not None:
                fired[:, j] = rows
        return Flags(fired)


REASONS: dict[str, type[Reason]] = {}


def register(cls: type[Reason]) -> type[Reason]:
    """Add a reason to the registry under its name."""
    REASONS[cls.name] = cls
    return cls
