"""JSON Lines: one object per exemplar, its redacted values nested under `values`."""

from __future__ import annotations

import json
from typing import TextIO

from driftwatch.exemplars.formats.base import ExportFormat, meta, register
from driftwatch.exemplars.selection import QueueItem


@register
class JsonLines(ExportFormat):
    """One JSON object a line; the format most tools and scripts read."""

    name = "jsonl"
    suffix = ".jsonl"
    description = "one JSON object per line: ood_* fields and the redacted values under `values`"

    def write(self, items: list[QueueItem], out: TextIO) -> None:
        for item in items:
            out.write(json.dumps({**meta(item), "values": item.exemplar.values}, ensure_ascii=False) + "\n")
