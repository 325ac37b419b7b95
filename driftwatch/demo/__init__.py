"""Seeded example data for a fictional clinic triage assistant.

``reference_table`` produces the clean, English-only demo data a triage model would be validated on.
``production_batch`` produces data as it arrives in production; its ``drift`` knob (0 to 1) controls how
far the batch moves away from the reference. Every drift effect touches about ``drift * rate`` of the rows:

======================================  =====  ==========================================================
effect                                  rate   what happens to an affected row
======================================  =====  ==========================================================
older patient cohort                    0.50   age drawn from N(72, 9) instead of the adult mix
elevated heart rate                     0.50   heart rate raised by N(14, 6) bpm
temperature entered in Fahrenheit       0.15   ``temperature_c`` holds the Fahrenheit reading
new arrival mode ``telehealth``         0.30   vitals mostly missing, channel never ``kiosk``
new channel ``whatsapp``/``mobile_app`` 0.30   replaces the intake channel
new insurance ``international``         0.06   replaces the insurance value
symptoms in another language            0.30   full sentence in es/fr/de/pt/it/Hindi (Latin script)
code-switched symptoms                  0.20   English and another language mixed mid-sentence
missing values                          0.05+  per column, see ``_NULL_RATES`` in simulate.py
======================================  =====  ==========================================================

With ``drift=0.0`` nothing is applied, so a batch comes from exactly the reference distribution.
``predicted_urgency`` is the label a rule-like model assigns from the values it receives (missing vitals
count as normal), so input drift also shows up as prediction drift.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from driftwatch.demo.simulate import SCHEMA, simulate

__all__ = ["SCHEMA", "production_batch", "reference_table", "write_examples"]


def reference_table(rows: int = 5000, seed: int = 7) -> pa.Table:
    """Return clean English-only demo triage data with no missing values."""
    _check_rows(rows)
    return simulate(np.random.default_rng(seed), rows, 0.0)


def production_batch(rows: int = 1000, drift: float = 0.0, seed: int = 1) -> pa.Table:
    """Return a production-like triage batch whose distance from the reference grows with ``drift``."""
    _check_rows(rows)
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"drift must be between 0.0 and 1.0 inclusive, got {drift!r}")
    return simulate(np.random.default_rng(seed), rows, float(drift))


def write_examples(folder: Path) -> None:
    """Write reference.csv, batch_clean.csv and batch_drifted.csv into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(reference_table(5000, seed=7), folder / "reference.csv")
    pa_csv.write_csv(production_batch(1000, 0.0, seed=11), folder / "batch_clean.csv")
    pa_csv.write_csv(production_batch(1000, 0.8, seed=12), folder / "batch_drifted.csv")


def _check_rows(rows: int) -> None:
    """Raise ValueError unless ``rows`` is a non-negative integer."""
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer):
        raise ValueError(f"rows must be an integer, got {rows!r}")
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
