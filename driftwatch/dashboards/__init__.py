"""Grafana dashboards for driftwatch's metrics (docs/metrics.md), built with grafana-foundation-sdk.

`python -m driftwatch.dashboards` writes dashboards/*.json at the repository root; `--check` only reports
files that are out of date. The three dashboards are "driftwatch overview" (every monitor), "driftwatch
monitor" (one monitor, its features and checks) and "driftwatch health" (the daemon itself).
"""

from driftwatch.dashboards.generate import DASHBOARDS, main, render_all, stale, to_json, write
from driftwatch.dashboards.promql import metric_names, promql_expressions, substitute

__all__ = [
    "DASHBOARDS",
    "main",
    "metric_names",
    "promql_expressions",
    "render_all",
    "stale",
    "substitute",
    "to_json",
    "write",
]
