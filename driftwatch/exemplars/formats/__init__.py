"""Export formats of the labelling queue, by name; each lives in its own module and registers itself."""

from __future__ import annotations

from driftwatch.exemplars.formats import csv_rows, jsonl, label_studio
from driftwatch.exemplars.formats.base import FORMATS, ExportFormat, register

__all__ = ["FORMATS", "ExportFormat", "csv_rows", "export_format", "jsonl", "label_studio", "register"]


def export_format(name: str) -> ExportFormat:
    """The registered format called `name`; ValueError naming the valid ones otherwise."""
    try:
        return FORMATS[name]()
    except KeyError:
        raise ValueError(f"unknown export format {name!r} (valid: {', '.join(FORMATS)})") from None
