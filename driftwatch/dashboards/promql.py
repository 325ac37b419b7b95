"""The PromQL inside generated dashboard JSON: every expression, with template variables filled in.

For tests that run the dashboards' queries against a real Prometheus, and for checking that dashboards use
only the metrics docs/metrics.md documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

# $name, ${name}, ${name:format} and the deprecated [[name]] / [[name:format]], as Grafana interpolates them.
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
# Grafana's query-variable functions whose argument is (or starts with) a PromQL expression.
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?P<selector>.+)\s*,\s*\w+\s*\)\s*$", re.DOTALL)
_QUERY_RESULT = re.compile(r"^\s*query_result\(\s*(?P<expr>.+)\s*\)\s*$", re.DOTALL)

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
    | {"atan2", "inf", "nan", "start", "end"}
)


def promql_expressions(dashboard: Mapping[str, Any], variables: Mapping[str, str]) -> list[str]:
    """Every PromQL expression of a dashboard's JSON, in order and without repeats, with variables substituted.

    Expressions come from panel targets (rows' nested panels included) and from query variables, whose
    `label_values(selector, label)` is unwrapped to `selector` and `query_result(expr)` to `expr`.
    `variables` maps names to the text Grafana would put in their place (e.g. `{"monitor": "triage",
    "__rate_interval": "1m"}`); a variable it lacks raises KeyError naming the variable and the expression.
    """
    found: dict[str, None] = {}
    for raw in _raw_expressions(dashboard):
        found.setdefault(substitute(raw, variables), None)
    return list(found)


def substitute(expr: str, variables: Mapping[str, str]) -> str:
    """`expr` with each `$name`, `${name}`, `${name:format}` or `[[name]]` replaced by `variables[name]`."""

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g is not None)
        if name not in variables:
            raise KeyError(f"no value for template variable {name!r} in {expr!r}")
        return variables[name]

    return _VARIABLE.sub(value, expr)


def metric_names(expr: str) -> set[str]:
    """Names of the metrics an expression selects (function names, keywords and label names excluded)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    return {
        m.group(1) for m in _IDENTIFIER.finditer(text) if m.group(2) is None and m.group(1).lower() not in _KEYWORDS
    }


def _raw_expressions(dashboard: Mapping[str, Any]) -> Iterator[str]:
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, Mapping):
            query = query.get("query")
        if isinstance(query, str) and (expr := _variable_expression(query)):
            yield expr
    for panel in _panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if isinstance(expr, str) and expr.strip():
                yield expr


def _variable_expression(query: str) -> str | None:
    """The PromQL of a Prometheus query variable, or None for label_names(), metrics() and the like."""
    if match := _LABEL_VALUES.match(query):
        return match.group("selector").strip()
    if match := _QUERY_RESULT.match(query):
        return match.group("expr").strip()
    if re.match(r"^\s*(label_names|label_values|metrics)\s*\(", query):
        return None
    return query.strip() or None


def _panels(panels: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))
