"""The derived text features of a check's rows, computed with what the reference profile kept."""

from __future__ import annotations

import pyarrow as pa

from driftwatch.config.text import TextSettings
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.text.derive import CAPPED, texts_of
from driftwatch.text.signals import SIGNALS


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
