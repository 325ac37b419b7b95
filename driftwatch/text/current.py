"""The derived text features of a check's rows, computed with what the reference profile kept."""

from __future__ import annotations

import pyarrow as pa

from driftwatch.config.text import TextSettings
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.text.derive import rows_for, texts_of
from driftwatch.text.signals import SIGNALS


def current_signals(profile: ReferenceProfile, table: pa.Table, only: set[str] | None = None) -> dict[str, pa.Array]:
    """The derived features' values over `table`'s rows (fewer rows for a capped signal), by derived name.

    They are computed under the text settings the profile was built with, so that a check reads its rows as the
    reference's were read.
    """
    settings = profile.text if profile.text is not None else TextSettings()
    out: dict[str, pa.Array] = {}
    texts: dict[str, list[str | None]] = {}
    for derived in profile.signals:
        if only is not None and derived.name not in only:
            continue
        base, signal = derived.schema.signal_of, derived.name.rsplit(".", 1)[1]
        assert base is not None
        if base not in table.column_names:
            continue
        if base not in texts:
            texts[base] = texts_of(table.column(base))
        rows = rows_for(signal, texts[base], settings)
        out[derived.name] = SIGNALS[signal]().current(rows, profile.signal_states.get(derived.name))
    return out


def with_row_signals(
    profile: ReferenceProfile, table: pa.Table, signals: dict[str, pa.Array] | None = None
) -> pa.Table:
    """`table` with the signals the profile's row sample holds appended (computed unless given), for OOD scoring."""
    wanted = [s for s in profile.row_signals if s.name not in table.column_names]
    if not wanted:
        return table
    if signals is None:
        signals = current_signals(profile, table, only={s.name for s in wanted})
    for derived in wanted:
        if derived.name in signals and len(signals[derived.name]) == table.num_rows:
            table = table.append_column(derived.name, signals[derived.name])
    return table
