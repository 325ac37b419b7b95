"""The export format kind: a name, a file suffix, and how a labelling queue is written."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any, ClassVar, TextIO

from driftwatch.exemplars.selection import QueueItem

# Keys every format adds beside the feature values; a feature of the same name is refused, not overwritten.
META_PREFIX = "ood_"


class ExportFormat(ABC):
    """One way of writing exemplars for a labelling tool; subclasses register themselves with `register`."""

    name: ClassVar[str]
    suffix: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def write(self, items: list[QueueItem], out: TextIO) -> None:
        """Write the queue to `out` (a text file opened by the caller)."""


FORMATS: dict[str, type[ExportFormat]] = {}


def register(cls: type[ExportFormat]) -> type[ExportFormat]:
    """Class decorator adding a format to the registry under its name."""
    if cls.name in FORMATS:
        raise ValueError(f"export format {cls.name!r} is registered twice")
    FORMATS[cls.name] = cls
    return cls


def meta(item: QueueItem) -> dict[str, Any]:
    """What an exported row says about its exemplar, keys prefixed with `ood_`."""
    e = item.exemplar
    return {
        "ood_fingerprint": e.fingerprint,
        "ood_monitor": e.monitor,
        "ood_check_id": e.check_id,
        "ood_rank": e.rank,
        "ood_time": datetime.fromtimestamp(e.started_at, UTC).isoformat(),
        "ood_reasons": list(e.reasons),
        "ood_features": list(e.features),
        "ood_stratum": item.stratum,
        "ood_p_value": e.p_value,
        "ood_score": e.score,
        "ood_seen": item.seen,
    }


def flat(item: QueueItem) -> dict[str, Any]:
    """The redacted feature values and the `ood_` fields in one mapping, for formats with one level of keys."""
    values = item.exemplar.values
    clash = sorted(k for k in values if k.startswith(META_PREFIX))
    if clash:
        raise ValueError(
            f"feature(s) {', '.join(clash)} start with '{META_PREFIX}', which the export keeps for its own fields;"
            " use --format jsonl, which nests the values"
        )
    return {**values, **meta(item)}
