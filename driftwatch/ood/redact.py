"""Redaction of exemplar values, applied before a row is kept anywhere."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from driftwatch.config.ood import OodSettings
from driftwatch.types import Kind


def rule_for(feature: str, kind: Kind, settings: OodSettings) -> str:
    """The redaction of one feature: as configured, else drop for text (it may be a transcript), keep otherwise."""
    return settings.redact.get(feature) or ("drop" if kind == Kind.TEXT else "keep")


def redact(value: Any, rule: str, salt: str) -> tuple[bool, Any]:
    """(kept, value after the rule): drop removes the value, hash keeps equal values equal, truncate:N cuts it."""
    if rule == "drop":
        return False, None
    value = _plain(value)
    if value is None or rule == "keep":
        return True, value
    if rule == "hash":
        # A salted digest lets duplicates be found; it does not hide a value from someone who can try them all.
        return True, "sha256:" + hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()[:16]
    n = int(rule.split(":", 1)[1])
    return True, str(value)[:n]


def _plain(value: Any) -> Any:
    """A JSON-safe value: NaN is missing, an infinity its name."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value
