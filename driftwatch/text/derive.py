"""Derived features of text features: their signals over the reference's sampled rows and over a check's rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from driftwatch.config.text import TextSettings
from driftwatch.text.signals import SIGNALS

if TYPE_CHECKING:
    from driftwatch.reference.profile import ReferenceProfile

# Signals whose values a check computes on part of its sample only (TextSettings.code_switching_rows).
CAPPED = frozenset({"code_switching"})


def signal_name(feature: str, signal: str) -> str:
    """The derived feature's name: `<feature>.<signal>`."""
    return f"{feature}.{signal}"


def texts_of(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """A text column's values as Python strings (None where missing; non-strings as missing)."""
    return [v if isinstance(v, str) else None for v in column.to_pylist()]


def reference_values(
    texts: Sequence[str | None], settings: TextSettings
) -> dict[str, tuple[pa.Array, pa.Table | None]]:
    """Per enabled signal, its values on the reference's sampled texts and the reference state it keeps."""
    out = {}
    for name in settings.signals:
        rows = texts[: settings.code_switching_rows] if name in CAPPED else texts
        out[name] = SIGNALS[name]().reference(rows)
    return out


def current_signals(profile: ReferenceProfile, table: pa.Table, settings: TextSettings) -> dict[str, pa.Array]:
    """The derived features' values over `table`'s rows (fewer rows for a capped signal), by derived name."""
    out: dict[str, pa.Array] = {}
    texts: dict[str, list[str | None]] = {}
    for derived in profile.signals:
        base, signal = derived.schema.signal_of, derived.name.rsplit(".", 1)[1]
        assert base is not None
        if base not in table.column_names:
            continue
        if base not in texts:
            texts[base] = texts_of(table.column(base))
        rows = texts[base][: settings.code_switching_rows] if signal in CAPPED else texts[base]
        out[derived.name] = SIGNALS[signal]().current(rows, profile.signal_states.get(derived.name))
    return out
