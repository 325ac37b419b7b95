"""driftwatch: alerts when production inputs leave the distribution of a model's reference data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Monitor", "__version__", "load_monitor"]

if TYPE_CHECKING:
    from driftwatch.monitor import Monitor, load_monitor


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import driftwatch.client` in a model server stays free of the check engine.
    if name in ("Monitor", "load_monitor"):
        from driftwatch import monitor

        return getattr(monitor, name)
    raise AttributeError(f"module 'driftwatch' has no attribute {name!r}")
