"""The text signal interface: one derived feature of a text feature, computed row by row from its texts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import pyarrow as pa

from driftwatch.types import Kind

Texts = Sequence[str | None]


class Signal(ABC):
    """A per-row property of texts (their language, length, ...), compared with the reference's like a feature."""

    name: ClassVar[str]
    kind: ClassVar[Kind]

    def reference(self, texts: Texts) -> tuple[pa.Array, pa.Table | None]:
        """The reference rows' values and what the signal keeps of the reference (None: nothing)."""
        return self.current(texts, None), None

    @abstractmethod
    def current(self, texts: Texts, state: pa.Table | None) -> pa.Array:
        """One value per row (float64 for numeric signals, strings for categorical ones), never null."""


SIGNALS: dict[str, type[Signal]] = {}


def register(cls: type[Signal]) -> type[Signal]:
    """Add a signal to the registry under its name."""
    SIGNALS[cls.name] = cls
    return cls
