"""A stored feature's explanation, read defensively and cut to terminal cells: shifted quantiles, moved categories."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from driftwatch.checks.results import FeatureResult
from driftwatch.storage.records import FeatureRecord

# Filled per feature when any feature of the check carries an explanation; "-" where one is absent or unreadable.
COLUMNS = ("median ref → now", "p5 .. p95 ref → now", "moved most", "top unseen")
# Unseen values listed per feature; the rest are counted.
TOP_UNSEEN = 3
# Category values are data: long ones are cut so a row stays readable.
MAX_VALUE_CHARS = 32
_NONE = ("-",) * len(COLUMNS)


def explanation_of(*holders: FeatureRecord | FeatureResult) -> dict[str, Any] | None:
    """The first explanation a holder (FeatureRecord, FeatureResult) carries, in its stored (JSON) form."""
    for holder in holders:
        if holder.explanation is not None:
            return holder.explanation.to_dict()
    return None


def cells(explanation: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The COLUMNS cells of one feature: its median and p5/p95 then and now, or its most moved and unseen values."""
    if explanation is None:
        return _NONE
    if explanation.get("kind") == "numeric":
        return _quantile(explanation, 0.5), _range(explanation), "-", "-"
    if explanation.get("kind") == "categorical":
        return "-", "-", _moved(explanation.get("moved")), _unseen(explanation.get("unseen"), explanation)
    return _NONE


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _at(explanation: Mapping[str, Any], level: float) -> tuple[float | None, float | None] | None:
    """The reference and current quantile at `level`, or None when the explanation does not list it."""
    levels, ref, cur = (explanation.get(k) for k in ("quantiles", "reference", "current"))
    if not all(isinstance(v, Sequence) and not isinstance(v, str) for v in (levels, ref, cur)):
        return None
    if not len(levels) == len(ref) == len(cur):
        return None
    for i, at in enumerate(levels):
        if (found := _number(at)) is not None and math.isclose(found, level, abs_tol=1e-9):
            return _number(ref[i]), _number(cur[i])
    return None


def _quantile(explanation: Mapping[str, Any], level: float) -> str:
    pair = _at(explanation, level)
    return "-" if pair is None else f"{_fmt(pair[0])} → {_fmt(pair[1])}"


def _range(explanation: Mapping[str, Any]) -> str:
    low, high = _at(explanation, 0.05), _at(explanation, 0.95)
    if low is None or high is None:
        return "-"
    return f"{_fmt(low[0])} .. {_fmt(high[0])} → {_fmt(low[1])} .. {_fmt(high[1])}"


def _value(v: Any) -> str:
    text = "(missing)" if v is None else "(empty)" if v == "" else str(v)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _moved(moved: Any) -> str:
    """The category whose share moved most, with its reference and current shares."""
    if not isinstance(moved, Sequence) or isinstance(moved, str):
        return "-"
    shares = [
        (m.get("value"), _number(m.get("reference")), _number(m.get("current")))
        for m in moved
        if isinstance(m, Mapping) and "value" in m
    ]
    shares = [(v, ref, cur) for v, ref, cur in shares if ref is not None or cur is not None]
    if not shares:
        return "-"
    value, ref, cur = max(shares, key=lambda s: abs((s[2] or 0.0) - (s[1] or 0.0)))
    return f"{_value(value)} {_pct(ref or 0.0)} → {_pct(cur or 0.0)}"


def _unseen(unseen: Any, explanation: Mapping[str, Any]) -> str:
    """The most frequent values the reference never had, with their counts, and how many more there are."""
    if not isinstance(unseen, Sequence) or isinstance(unseen, str):
        return "-"
    counted = [(u.get("value"), _number(u.get("count")) or 0.0) for u in unseen if isinstance(u, Mapping)]
    if not counted:
        return "-"
    counted.sort(key=lambda c: -c[1])
    shown = ", ".join(f"{_value(v)} ({n:.0f})" for v, n in counted[:TOP_UNSEEN])
    total = explanation.get("unseen_values")
    known = total if isinstance(total, int) and not isinstance(total, bool) else len(counted)
    more = known - min(len(counted), TOP_UNSEEN)
    return shown + (f" +{more} more" if more > 0 else "")
