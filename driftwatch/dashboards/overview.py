"""The "driftwatch overview" dashboard: every monitor at a glance, one click from its monitor dashboard."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.models import common as common_m

from driftwatch.dashboards import common as c
from driftwatch.dashboards import fields
from driftwatch.dashboards.common import Query

UID = c.OVERVIEW_UID
TITLE = "driftwatch overview"

RATE = "[$__rate_interval]"
DATASET_DRIFT = "max by (monitor) (driftwatch_dataset_drift)"
DRIFTED_SHARE = "max by (monitor) (driftwatch_drifted_features_ratio)"
OOD_RATE = "max by (monitor) (driftwatch_ood_ratio)"
ROWS_PER_SECOND = f"sum by (monitor) (rate(driftwatch_rows_received_total{RATE}))"
# Rejected rows are part of the received ones, so with no traffic the ratio is 0 (not 0/0 = NaN).
REJECT_RATIO = (
    f"sum by (monitor) (rate(driftwatch_rows_rejected_total{RATE}))"
    f" / clamp_min(sum by (monitor) (rate(driftwatch_rows_received_total{RATE})), 1e-9)"
)
LAST_CHECK_AGE = "time() - max by (monitor) (driftwatch_last_successful_check_timestamp_seconds)"
# 0 rather than no row for monitors without a firing alert.
FIRING_BY_MONITOR = f"count by (monitor) ({c.ALERTS_FIRING}) or 0 * count by (monitor) ({c.MONITORS})"

MONITOR_COLUMNS = {
    "Value #A": "Dataset drift",
    "Value #B": "Drifted features",
    "Value #C": "OOD rate",
    "Value #D": "Rows/s",
    "Value #E": "Reject ratio",
    "Value #F": "Last check age",
    "Value #G": "Firing alerts",
}


def _fleet_stats() -> list[c.PanelBuilder]:
    return [
        c.stat(
            "Monitors",
            "Monitors with a loaded reference.",
            [Query(f"count(count by (monitor) ({c.MONITORS}))")],
        ),
        c.stat(
            "Monitors with dataset drift",
            "Monitors whose latest check found dataset drift.",
            [Query(f"count({DATASET_DRIFT} == 1) or vector(0)")],
            steps=((None, "green"), (1, "red")),
        ),
        c.stat(
            "Firing alerts",
            "Firing driftwatch alerts (deploy/prometheus/rules/driftwatch.rules.yml).",
            [Query(f"count({c.ALERTS_FIRING}) or vector(0)")],
            steps=((None, "green"), (1, "red")),
        ),
        c.stat(
            "Rows received",
            "Rows received by all monitors (accepted + rejected).",
            [Query(f"sum(rate(driftwatch_rows_received_total{RATE}))")],
            unit=fields.ROWS_PER_SECOND,
        ),
        c.stat(
            "Oldest successful check",
            "Age of the latest successful check of the monitor that has waited longest.",
            [Query("max(time() - driftwatch_last_successful_check_timestamp_seconds)")],
            unit=fields.SECONDS,
        ),
        c.stat(
            "Daemons ready",
            "Whether every daemon reports ready (`/readyz`): storage reachable, scheduler running, references loaded.",
            [Query("min(driftwatch_up)")],
            mappings=fields.READY_STATES,
        ),
    ]


def _monitor_table() -> c.PanelBuilder:
    queries = [
        Query(DATASET_DRIFT, table=True),
        Query(DRIFTED_SHARE, table=True),
        Query(OOD_RATE, table=True),
        Query(ROWS_PER_SECOND, table=True),
        Query(REJECT_RATIO, table=True),
        Query(LAST_CHECK_AGE, table=True),
        Query(FIRING_BY_MONITOR, table=True),
    ]
    return (
        c.table(
            "Monitors",
            "One row per monitor: the latest check's verdict, ingestion and alerts. OOD rate is the latest "
            "verdict's share of rows out of distribution, empty with `ood.enabled: false`. " + c.CHECK_DETAIL_HELP,
            queries,
            transformations=[
                fields.merge(),
                fields.organize(exclude=["Time"], rename=MONITOR_COLUMNS, order=["monitor", *MONITOR_COLUMNS]),
            ],
            height=8,
            links=c.series_links(c.ROW_MONITOR, point=False),
        )
        .override_by_name("Dataset drift", [fields.mappings_override(fields.DRIFT_STATES), fields.cell_background()])
        .override_by_name("Drifted features", [fields.unit_override(fields.PERCENT)])
        .override_by_name("OOD rate", [fields.unit_override(fields.PERCENT)])
        .override_by_name("Rows/s", [fields.unit_override(fields.ROWS_PER_SECOND)])
        .override_by_name(
            "Reject ratio",
            [
                fields.unit_override(fields.PERCENT),
                fields.cell_text_color(),
                *fields.thresholds_override((None, "text"), (0.05, "red")),
            ],
        )
        .override_by_name("Last check age", [fields.unit_override(fields.SECONDS)])
        .override_by_name(
            "Firing alerts", [fields.cell_text_color(), *fields.thresholds_override((None, "green"), (1, "red"))]
        )
    )


def _alerts_table() -> c.PanelBuilder:
    return c.table(
        "Driftwatch alerts",
        "Pending and firing driftwatch alerts. A pending alert fires once its condition has held for the "
        "rule's `for` duration.",
        [Query('ALERTS{alertname=~"Driftwatch.*"}', table=True)],
        transformations=[
            fields.organize(
                exclude=["Time", "Value", "__name__"],
                order=["alertstate", "alertname", "severity", "monitor", "feature", "method"],
            ),
            fields.sort_by("alertstate", desc=False),
        ],
        width=12,
        height=8,
    ).override_by_name(
        "alertstate",
        [
            fields.mappings_override(fields.value_texts(("firing", "firing", "red"), ("pending", "pending", "orange"))),
            fields.cell_background(),
        ],
    )


def _monitor_panels() -> list[c.PanelBuilder]:
    series = c.series_links(c.SERIES_MONITOR, point=False)
    at_point = c.series_links(c.SERIES_MONITOR, point=True)
    return [
        _monitor_table(),
        c.stat(
            "Dataset drift",
            "The latest check's dataset verdict per monitor (absent until a check with enough data ran). "
            + c.CHECK_DETAIL_HELP,
            [Query(DATASET_DRIFT, "{{monitor}}")],
            mappings=fields.DRIFT_STATES,
            width=8,
            height=8,
            links=series,
        ).text_mode(common_m.BigValueTextMode.VALUE_AND_NAME),
        c.state_timeline(
            "Dataset drift over time",
            "Each monitor's dataset verdict over time. " + c.CHECK_DETAIL_HELP,
            [Query(DATASET_DRIFT, "{{monitor}}")],
            mappings=fields.DRIFT_STATES,
            width=16,
            links=at_point,
        ),
        c.timeseries(
            "Drifted features share",
            "Share of judged features that drifted in the latest check; dataset drift is declared at the "
            "monitor's `drift.drift_share` (default 50%).",
            [Query(DRIFTED_SHARE, "{{monitor}}")],
            unit=fields.PERCENT,
            max_value=1,
            links=at_point,
        ),
        c.timeseries(
            "OOD rate",
            "Share of the latest verdict's scored rows (its sample) out of distribution, for any reason; "
            "DriftwatchOODRateHigh fires above 10%. The monitor dashboard breaks it down by reason and feature.",
            [Query(OOD_RATE, "{{monitor}}")],
            unit=fields.PERCENT,
            max_value=1,
            links=at_point,
        ),
        c.timeseries(
            "Rows received",
            "Rows received per second by each monitor (accepted + rejected).",
            [Query(ROWS_PER_SECOND, "{{monitor}}")],
            unit=fields.ROWS_PER_SECOND,
            links=series,
        ),
        c.timeseries(
            "Reject ratio",
            "Share of received rows rejected as malformed (0 when a monitor receives nothing).",
            [Query(REJECT_RATIO, "{{monitor}}")],
            unit=fields.PERCENT,
            max_value=1,
            links=series,
        ),
        c.timeseries(
            "Last successful check age",
            "Seconds since the latest successful check of each monitor started; it should stay below a few "
            "schedule intervals (DriftwatchCheckStale fires at three).",
            [Query(LAST_CHECK_AGE, "{{monitor}}")],
            unit=fields.SECONDS,
            links=series,
        ),
        _alerts_table(),
    ]


def build() -> dashboard_b.Dashboard:
    dashboard = (
        c.new_dashboard(
            UID,
            TITLE,
            "Every driftwatch monitor: dataset drift, drifted features, OOD rate, ingestion, check freshness and "
            "alerts. Click a monitor for its dashboard or its stored checks.",
        )
        .with_variable(c.datasource_variable())
        .with_variable(c.daemon_url_variable())
    )
    for title, panels in [("Fleet", _fleet_stats()), ("Monitors", _monitor_panels())]:
        dashboard = dashboard.with_row(c.row(title))
        for panel in panels:
            dashboard = dashboard.with_panel(panel)
    return dashboard
