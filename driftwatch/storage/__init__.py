"""Check history: a SQL store (SQLite by default, PostgreSQL via postgresql+psycopg://) whose schema alembic manages."""

from __future__ import annotations

from driftwatch.storage.convert import without_exemplars
from driftwatch.storage.records import (
    TRIGGERS,
    CheckRecord,
    ExemplarRecord,
    FeatureRecord,
    MonitorSummary,
    ReferenceLike,
    StorageError,
    StorageUnavailableError,
    UnknownReferenceError,
)
from driftwatch.storage.store import HistoryStore, alembic_config, mask_url

__all__ = [
    "TRIGGERS",
    "CheckRecord",
    "ExemplarRecord",
    "FeatureRecord",
    "HistoryStore",
    "MonitorSummary",
    "ReferenceLike",
    "StorageError",
    "StorageUnavailableError",
    "UnknownReferenceError",
    "alembic_config",
    "mask_url",
    "upgrade",
    "without_exemplars",
]


def upgrade(url: str) -> None:
    """Create or migrate the history schema at `url`; what `driftwatch db upgrade` runs."""
    with HistoryStore(url) as store:
        store.upgrade()
