"""Derived features of text features: their names, and their signals over the reference's sampled rows."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from driftwatch.config.text import TextSettings
from driftwatch.text.signals import SIGNALS

# Signals whose values a check computes on part of its sample only (TextSettings.code_switching_rows).
CAPPED = frozenset({"code_switching"})
# Signals that read the whole text, not its first TextSettings.max_chars characters.
WHOLE = frozenset({"length", "tokens"})


def signal_name(feature: str, signal: str) -> str:
    """The derived feature's name: `<feature>.<signal>`."""
    return f"{feature}.{signal}"


def texts_of(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """A text column's values as Python strings (None where missing; non-strings as missing)."""
    return [v if isinstance(v, str) else None for v in column.to_pylist()]


def rows_for(signal: str, texts: Sequence[str | None], settings: TextSettings) -> Sequence[str | None]:
    """What `signal` reads of `texts`: the capped rows, each cut to max_chars, alike for reference and check."""
    rows = texts[: settings.code_switching_rows] if signal in CAPPED else texts
    cut = settings.max_chars
    if signal in WHOLE or not cut:
        return rows
    return [t[:cut] if t is not None and len(t) > cut else t for t in rows]


def reference_values(
    texts: Sequence[str | None], settings: TextSettings
) -> dict[str, tuple[pa.Array, pa.Table | None]]:
    """Per enabled signal, its values on the reference's sampled texts and the reference state it keeps."""
    out = {}
    for name in settings.signals:
        out[name] = SIGNALS[name]().reference(rows_for(name, texts, settings))
    return out
