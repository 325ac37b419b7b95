"""Label Studio tasks: a JSON list of `{"data": {...}}`, which its Import dialog and import API take as is.

Each task's `data` holds the redacted feature values and the `ood_` fields as top-level keys, so a labelling
configuration can refer to any of them as `$name`; `ood_row` renders the whole row as text for a `<Text>` tag.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from driftwatch.exemplars.formats.base import ExportFormat, flat, register
from driftwatch.exemplars.selection import QueueItem


def _row_text(values: dict[str, Any]) -> str:
    return "\n".join(f"{name}: {'(missing)' if v is None else v}" for name, v in sorted(values.items()))


@register
class LabelStudioTasks(ExportFormat):
    """Label Studio's basic JSON task format (a list of tasks with a `data` object each)."""

    name = "label-studio"
    suffix = ".json"
    description = 'Label Studio tasks: [{"data": {features..., ood_*..., "ood_row": text}}]'

    def write(self, items: list[QueueItem], out: TextIO) -> None:
        tasks = []
        for item in items:
            data = flat(item)
            data["ood_reasons"] = ", ".join(item.exemplar.reasons)
            data["ood_features"] = ", ".join(item.exemplar.features)
            data["ood_row"] = _row_text(item.exemplar.values)
            tasks.append({"data": data})
        json.dump(tasks, out, ensure_ascii=False, indent=1)
        out.write("\n")
