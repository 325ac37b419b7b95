"""Shared enums and type aliases used across driftwatch."""

from __future__ import annotations

from enum import StrEnum

# The column of shaped live rows that lists, per row, the comma-separated indices of the features whose value could
# not be read (null when none).
TYPE_ERRORS_COLUMN = "__type_errors"


class Kind(StrEnum):
    """How a feature is compared: its values as numbers, as labels, or as free text."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"


class Status(StrEnum):
    """Outcome of one feature's comparison; only `ok` carries a test score."""

    OK = "ok"
    INSUFFICIENT_DATA = "insufficient_data"
    MISSING_COLUMN = "missing_column"
    NO_VALID_VALUES = "no_valid_values"
    # Too few usable values to compare distributions; a calibrated decision judges the missing rate alone.
    MOSTLY_MISSING = "mostly_missing"
    NO_REFERENCE_VALUES = "no_reference_values"
    # A text feature judged through its derived signals (`<feature>.language`, ...); its own row has quality only.
    SIGNALS = "signals"
    ERROR = "error"


class MultipleTesting(StrEnum):
    """Correction applied across the p-value tests of one check."""

    NONE = "none"
    BONFERRONI = "bonferroni"
    BH = "bh"
