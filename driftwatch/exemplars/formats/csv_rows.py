"""CSV: one row per exemplar, a column per feature and per `ood_` field (lists joined with ';')."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from driftwatch.exemplars.formats.base import ExportFormat, flat, meta, register
from driftwatch.exemplars.selection import QueueItem


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@register
class CsvRows(ExportFormat):
    """A header and a row per exemplar; spreadsheets and Label Studio's CSV import read it."""

    name = "csv"
    suffix = ".csv"
    description = "a column per feature, then the ood_* fields; lists joined with ';', missing values empty"

    def write(self, items: list[QueueItem], out: TextIO) -> None:
        rows = [flat(item) for item in items]
        features = sorted({k for item in items for k in item.exemplar.values})
        fields = features + (list(meta(items[0])) if items else [])
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in fields})
