"""How a report writes values: every one HTML-escaped, numbers and shares in a fixed, short form."""

from __future__ import annotations

import html
import json
import math
from datetime import UTC, datetime
from typing import Any

# Longest a label may be in a chart before it is cut (the full value stays in the bar's tooltip).
LABEL_CHARS = 28


def esc(value: Any) -> str:
    """Any value as HTML text: category values and exemplar fields may be attacker-controlled strings."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = (
            json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
            if isinstance(value, dict | list)
            else str(value)
        )
    return html.escape(value, quote=True)


def num(x: float | None, digits: int = 4) -> str:
    """A number in `digits` significant digits; "-" for none."""
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "-" if math.isnan(x) else str(x)
    return f"{x:.{digits}g}"


def pct(x: float | None, digits: int = 1) -> str:
    """A 0-1 share as a percentage; "-" for none."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x * 100:.{digits}f}%"


def when(epoch: float | None) -> str:
    """UTC epoch seconds as an ISO 8601 time to the second; "-" for none."""
    if epoch is None or not math.isfinite(epoch):
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def label(value: str | None) -> str:
    """A category as a chart shows it: cut to LABEL_CHARS, "(redacted)" when the rule removed it."""
    if value is None:
        return "(redacted)"
    if value == "":
        return "(empty)"  # an empty string is a category of its own, and a blank label reads as a bug
    return value if len(value) <= LABEL_CHARS else value[: LABEL_CHARS - 1] + "…"
