"""Redaction of exemplar values, applied before a row is kept anywhere."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from driftwatch.config.ood import OodSettings
from driftwatch.types import Kind

# Schema metadata key of a redacted table: the rule applied to each feature, as JSON.
REDACTION_KEY = "driftwatch.redaction"


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


def redact_table(table: pa.Table, kinds: Mapping[str, Kind], settings: OodSettings, salt: str) -> pa.Table:
    """`table` with each feature's rule applied to its column: dropped ones (and columns of no feature) removed."""
    rules = {n: rule_for(n, kinds[n], settings) for n in table.column_names if n in kinds}
    out = table.select([n for n, rule in rules.items() if rule != "drop"])  # keeps the row count, also of none
    for i, name in enumerate(out.column_names):
        rule = rules[name]
        if rule != "keep":
            values = (redact(v, rule, salt)[1] for v in out.column(name).to_pylist())
            out = out.set_column(i, name, pa.array([None if v is None else str(v) for v in values], pa.string()))
    # The rules travel with the values: whoever reads them later (a promotion) knows what they are.
    return out.replace_schema_metadata({REDACTION_KEY: json.dumps(rules, sort_keys=True)})


def recorded_rules(table: pa.Table) -> dict[str, str] | None:
    """The rules redact_table applied to `table`, by feature; None for a table it did not write."""
    raw = (table.schema.metadata or {}).get(REDACTION_KEY.encode())
    return None if raw is None else dict(json.loads(raw))
