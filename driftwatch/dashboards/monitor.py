"""The "driftwatch monitor" dashboard: one monitor's features, data quality, window and checks."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.builders import heatmap as heatmap_b
from grafana_foundation_sdk.models import common as common_m
from grafana_foundation_sdk.models import heatmap as heatmap_m

from driftwatch.checks.stattests.catalog import STAT_TESTS
from driftwatch.dashboards import common as c
from driftwatch.dashboards import fields
from driftwatch.dashboards.common import MONITOR, MONITOR_FEATURE, Query

UID = c.MONITOR_UID
TITLE = "driftwatch monitor"

RATE = "[$__rate_interval]"
SCORE = f"driftwatch_feature_drift_score{{{MONITOR_FEATURE}}}"
P_VALUE = f"driftwatch_feature_p_value{{{MONITOR_FEATURE}}}"
THRESHOLD = f"driftwatch_feature_drift_threshold{{{MONITOR_FEATURE}}}"
DRIFTED = f"driftwatch_feature_drifted{{{MONITOR_FEATURE}}}"
# The latest calibrated verdict's level, one series per monitor; absent for threshold decisions.
LEVEL = f"max by (monitor) (driftwatch_check_level{{{MONITOR}}})"
# The level on each feature's p-value series, for tables and ratios.
FEATURE_LEVEL = f"0 * {P_VALUE} + on (monitor) group_left {LEVEL}"
# How far past its decision line a feature is, > 1 meaning drift, as driftwatch.checks.results.severity computes it:
# level / p-value for calibrated decisions; threshold / p-value for p-value tests (the only ones exporting a p-value
# under threshold decisions), score / threshold for distances.
SEVERITY = (
    f"{LEVEL} / on (monitor) group_right clamp_min({P_VALUE}, 1e-300)"
    f" or {THRESHOLD} / clamp_min({P_VALUE}, 1e-300) or {SCORE} / {THRESHOLD}"
)
# What a p-value is compared with: the level (one line) for calibrated decisions, else each p-value test's threshold.
P_VALUE_LINE = f"{LEVEL} or (max by (feature, method) ({THRESHOLD} and {P_VALUE}) unless on () {LEVEL})"
# Tests whose score is a distance: a calibrated decision gives them a p-value too, so the method tells them apart.
DISTANCES = "|".join(sorted(name for name, spec in STAT_TESTS.items() if spec.score_kind == "distance"))
DISTANCE = f'driftwatch_feature_drift_score{{{MONITOR_FEATURE}, method=~"{DISTANCES}"}}'
DISTANCE_THRESHOLD = f'driftwatch_feature_drift_threshold{{{MONITOR_FEATURE}, method=~"{DISTANCES}"}}'
OOD_RATE = f"max(driftwatch_ood_ratio{{{MONITOR}}})"
# What the alert and the runbook point at for the rows behind an OOD rate.
EXEMPLARS_HELP = (
    "The rows behind it, redacted: `driftwatch exemplars CHECK_ID` or `<daemon_url>/v1/checks/{id}/exemplars`, "
    "with the id of the check behind a point (its link)."
)
FIRING = f'count(ALERTS{{alertname=~"Driftwatch.*", alertstate="firing", {MONITOR}}}) or vector(0)'
QUALITY = {
    "Missing values": ("driftwatch_feature_missing_ratio", "Share of the window's rows where the feature is null."),
    "Unseen categories": (
        "driftwatch_feature_unseen_category_ratio",
        "Categorical features: share of present values that are not a reference category.",
    ),
    "Out of range": (
        "driftwatch_feature_out_of_range_ratio",
        "Numeric features: share of present values outside the reference's [min, max].",
    ),
    "Type errors": (
        "driftwatch_feature_type_error_ratio",
        "Share of rows whose value could not be read as the feature's kind.",
    ),
}
FEATURE_COLUMNS = {
    "Value #A": "Severity",
    "Value #B": "Drifted",
    "Value #D": "p-value",
    "Value #F": "Level",
    "Value #C": "Score",
    "Value #E": "Threshold",
}


def _status_stats() -> list[c.PanelBuilder]:
    links = c.series_links(c.MONITOR_VARIABLE, point=False)
    return [
        c.stat(
            "Dataset drift",
            "The latest check's dataset verdict (absent until a check with enough data ran). " + c.CHECK_DETAIL_HELP,
            [Query(f"max(driftwatch_dataset_drift{{{MONITOR}}})")],
            mappings=fields.DRIFT_STATES,
            width=3,
            links=links,
        ),
        c.stat(
            "Drifted features",
            "Share of judged features that drifted in the latest check (red from 50%, the default `drift_share`).",
            [Query(f"max(driftwatch_drifted_features_ratio{{{MONITOR}}})")],
            unit=fields.PERCENT,
            steps=((None, "green"), (0.5, "red")),
            width=3,
            links=links,
        ),
        c.stat(
            "OOD rate",
            "Share of the latest verdict's scored rows (its sample) out of distribution, for any reason (orange "
            "from 10%, DriftwatchOODRateHigh's threshold). Empty with `ood.enabled: false` or before a verdict.",
            [Query(OOD_RATE)],
            unit=fields.PERCENT,
            steps=((None, "green"), (0.1, "orange")),
            no_value="no OOD rate",
            width=3,
            links=links,
        ),
        c.stat(
            "Last successful check",
            "Seconds since the latest successful check started.",
            [Query(f"time() - max(driftwatch_last_successful_check_timestamp_seconds{{{MONITOR}}})")],
            unit=fields.SECONDS,
            width=3,
            links=links,
        ),
        c.stat(
            "Rows in window",
            "Rows seen in the open window.",
            [Query(f"max(driftwatch_window_rows{{{MONITOR}}})")],
            width=3,
        ),
        c.stat(
            "Reference rows",
            "Rows in the reference dataset.",
            [Query(f"max(driftwatch_reference_rows{{{MONITOR}}})")],
            width=3,
        ),
        c.stat(
            "Features omitted",
            "Features not exported because of `max_exported_features` (the least severe ones).",
            [Query(f"max(driftwatch_features_omitted{{{MONITOR}}})")],
            steps=((None, "green"), (1, "orange")),
            width=3,
        ),
        c.stat(
            "Firing alerts",
            "Firing driftwatch alerts of this monitor.",
            [Query(FIRING)],
            steps=((None, "green"), (1, "red")),
            width=3,
        ),
    ]


def _severity_heatmap() -> c.PanelBuilder:
    # Not calculated from the data: each feature's series is one row of the heatmap (ordinal y axis).
    panel = (
        heatmap_b.Panel()
        .title("Drift severity by feature")
        .description(
            "How far past its decision line each feature is, as the daemon ranks features: level / p-value for "
            "calibrated decisions; threshold / p-value for p-value tests and score / threshold for distances "
            "under threshold decisions. Above 1 (orange to red) the feature drifted; colours saturate at 2. "
            + c.CHECK_DETAIL_HELP
        )
        .span(24)
        .height(10)
        .calculate(False)
        .rows_frame(heatmap_b.RowsHeatmapOptions().layout(common_m.HeatmapCellLayout.UNKNOWN).value("Severity"))
        .color(
            heatmap_b.HeatmapColorOptions()
            .mode(heatmap_m.HeatmapColorMode.SCHEME)
            .scheme("RdYlGn")
            .reverse(True)
            .scale(heatmap_m.HeatmapColorScale.LINEAR)
            .exponent(0.5)
            .fill("dark-orange")
            .steps(64)
            .min(0)
            .max(2)
        )
        # Grafana hides cells <= 1e-9 by default; a severity of 0 (identical distributions) is worth seeing.
        .filter_values(heatmap_b.FilterValueRange().le(-1))
        .y_axis(heatmap_b.YAxisConfig().axis_placement(common_m.AxisPlacement.LEFT))
        .cell_gap(1)
        .cell_values(heatmap_b.CellValues().decimals(2))
        .show_value(common_m.VisibilityMode.NEVER)
        .mode(common_m.TooltipDisplayMode.SINGLE)
        .hide_y_histogram()
        .show_color_scale(True)
        .show_legend()
        .data_links(c.series_links(c.MONITOR_VARIABLE, point=True))
    )
    return c.with_queries(panel, [Query(f"max by (feature) ({SEVERITY})", "{{feature}}")])


def _feature_table() -> c.PanelBuilder:
    per_test = "max by (feature, method) ({})"
    queries = [
        Query(per_test.format(SEVERITY), table=True),
        Query(per_test.format(DRIFTED), table=True),
        Query(per_test.format(SCORE), table=True),
        Query(per_test.format(P_VALUE), table=True),
        Query(per_test.format(THRESHOLD), table=True),
        Query(per_test.format(FEATURE_LEVEL), table=True),
    ]
    return (
        c.table(
            "Features in the latest check",
            "The latest check's test per feature, most severe first. `method` is the stat test; method `none` is a "
            "feature judged without a test: a missing column, no usable values, or mostly missing values (judged "
            "on the missing rate; see Feature status). Calibrated decisions compare the p-value with the level, "
            "threshold decisions the score with the threshold. " + c.CHECK_DETAIL_HELP,
            queries,
            transformations=[
                fields.merge(),
                fields.organize(
                    exclude=["Time"], rename=FEATURE_COLUMNS, order=["feature", "method", *FEATURE_COLUMNS]
                ),
                fields.sort_by("Severity", desc=True),
            ],
            height=10,
            links=c.series_links(c.MONITOR_VARIABLE, point=False),
        )
        .decimals(4)
        .override_by_name(
            "Severity", [fields.cell_text_color(), *fields.thresholds_override((None, "green"), (1, "red"))]
        )
        .override_by_name("Drifted", [fields.mappings_override(fields.FEATURE_STATES), fields.cell_background()])
    )


def _feature_panels() -> list[c.PanelBuilder]:
    at_point = c.series_links(c.MONITOR_VARIABLE, point=True)
    threshold_lines = [fields.dashed_line()]
    return [
        _severity_heatmap(),
        c.state_timeline(
            "Drifted features",
            "Whether each feature drifted in the latest check, over time. " + c.CHECK_DETAIL_HELP,
            [Query(f"max by (feature) ({DRIFTED})", "{{feature}}")],
            mappings=fields.FEATURE_STATES,
            links=at_point,
        ),
        c.timeseries(
            "p-values vs level",
            "Each feature's p-value, after the multiple-testing correction when one is in force; below the dashed "
            "line is drift. Calibrated decisions (`drift.decision: calibrated`, the default): every test's "
            "calibrated p-value, and a mostly-missing feature's missing-rate test (method `none`), against the "
            "level (alpha times this look's share of the window's alpha). Threshold decisions: p-value tests only, "
            "each against its threshold.",
            [
                Query(f"max by (feature, method) ({P_VALUE})", "{{feature}} ({{method}})"),
                Query(P_VALUE_LINE, "level {{feature}}"),
            ],
            min_value=None,
            links=at_point,
            legend_table=True,
        )
        .scale_distribution(fields.log_scale())
        .override_by_query("B", threshold_lines),
        c.timeseries(
            "Distance scores vs threshold",
            "Features tested with a distance (e.g. wasserstein, jensenshannon) against their threshold (dashed), "
            "evidently's rule: it decides under threshold decisions (above the line is drift) and is shown for "
            "comparison under calibrated ones, which decide on the p-value (previous panel).",
            [
                Query(f"max by (feature, method) ({DISTANCE})", "{{feature}} ({{method}})"),
                Query(f"max by (feature, method) ({DISTANCE_THRESHOLD})", "{{feature}} threshold"),
            ],
            links=at_point,
            legend_table=True,
        ).override_by_query("B", threshold_lines),
        _feature_table(),
        _status_table(),
    ]


def _status_table() -> c.PanelBuilder:
    return c.table(
        "Feature status",
        "Every exported feature and its outcome in the latest check: `ok` (the test ran), `missing_column`, "
        "`no_valid_values` (both count as drift), `mostly_missing` (judged on its missing rate), "
        "`insufficient_data`, `no_reference_values` or `error` (docs/metrics.md). " + c.CHECK_DETAIL_HELP,
        [Query(f"max by (feature, status) (driftwatch_feature_status{{{MONITOR_FEATURE}}})", table=True)],
        transformations=[
            fields.organize(exclude=["Time", "Value"], rename={"feature": "Feature", "status": "Status"}),
            fields.sort_by("Feature", desc=False),
        ],
        height=8,
        links=c.series_links(c.MONITOR_VARIABLE, point=False),
    )


def _quality_panels() -> list[c.PanelBuilder]:
    return [
        c.timeseries(
            title,
            description + " Exact counts over the whole window, not the test sample.",
            [Query(f"max by (feature) ({metric}{{{MONITOR_FEATURE}}})", "{{feature}}")],
            unit=fields.PERCENT,
            links=c.series_links(c.MONITOR_VARIABLE, point=True),
            legend_table=True,
        )
        for title, (metric, description) in QUALITY.items()
    ]


def _ood_panels() -> list[c.PanelBuilder]:
    at_point = c.series_links(c.MONITOR_VARIABLE, point=True)
    return [
        c.timeseries(
            "OOD rate by reason",
            "Share of the latest verdict's scored rows each reason flagged: `out_of_range` (a number outside the "
            "reference's range, widened), `unseen_category`, `unexpected_missing` (a value missing where the "
            "reference has none), `type_error`, `novel` (far from every reference row: conformal p-value at most "
            "`ood.alpha`, about `ood.alpha` of rows like the reference's). A row can have several reasons; the "
            "dashed line is the rate for any reason. " + EXEMPLARS_HELP,
            [
                Query(f"max by (reason) (driftwatch_ood_reason_ratio{{{MONITOR}}})", "{{reason}}"),
                Query(OOD_RATE, "any reason"),
            ],
            unit=fields.PERCENT,
            max_value=1,
            width=9,
            links=at_point,
            legend_table=True,
        ).override_by_query("B", [fields.dashed_line()]),
        c.timeseries(
            "OOD share by feature",
            "Share of the latest verdict's scored rows that a reason flagged on each feature (a row flagged on two "
            "features counts for both): the features to look at first. " + EXEMPLARS_HELP,
            [Query(f"max by (feature) (driftwatch_feature_ood_ratio{{{MONITOR_FEATURE}}})", "{{feature}}")],
            unit=fields.PERCENT,
            max_value=1,
            width=9,
            links=at_point,
            legend_table=True,
        ),
        c.stat(
            "OOD reasons",
            "Which reasons ran in the latest verdict: `off` when switched off in `ood.reasons` or unavailable on "
            "this reference (`novel` on a reference too small to calibrate at `ood.alpha`; why: `ood.disabled` of "
            "the check).",
            [Query(f"max by (reason) (driftwatch_ood_reason_enabled{{{MONITOR}}})", "{{reason}}")],
            mappings=fields.REASON_STATES,
            width=6,
            height=8,
            links=c.series_links(c.MONITOR_VARIABLE, point=False),
        ).text_mode(common_m.BigValueTextMode.VALUE_AND_NAME),
    ]


def _text_panels() -> list[c.PanelBuilder]:
    at_point = c.series_links(c.MONITOR_VARIABLE, point=True)
    return [
        c.timeseries(
            "Languages of text features",
            "Share of the latest verdict's rows of each text feature per language (ISO 639-1; `unknown`: no "
            "confident language; `none`: no letters), the `text.exported_languages` largest, the rest as `other`. "
            "A new line is a language the demo data may never have had; `<feature>.language` drifts with it.",
            [
                Query(
                    f"max by (feature, language) (driftwatch_text_language_ratio{{{MONITOR_FEATURE}}})",
                    "{{feature}} {{language}}",
                )
            ],
            unit=fields.PERCENT,
            max_value=1,
            width=12,
            links=at_point,
            legend_table=True,
        ),
        c.timeseries(
            "Code-switching, out-of-vocabulary and empty texts",
            "Per text feature: the share of rows switching language mid-row, the mean share of a row's tokens the "
            "reference's texts never contained, and the share of rows without any letter.",
            [
                Query(
                    f"max by (feature) (driftwatch_text_code_switching_ratio{{{MONITOR_FEATURE}}})",
                    "{{feature}} switching",
                ),
                Query(f"max by (feature) (driftwatch_text_oov_ratio{{{MONITOR_FEATURE}}})", "{{feature}} OOV"),
                Query(f"max by (feature) (driftwatch_text_empty_ratio{{{MONITOR_FEATURE}}})", "{{feature}} empty"),
            ],
            unit=fields.PERCENT,
            max_value=1,
            width=12,
            links=at_point,
            legend_table=True,
        ),
    ]


def _window_and_check_panels() -> list[c.PanelBuilder]:
    buckets = f"sum by (le) (rate(driftwatch_check_duration_seconds_bucket{{{MONITOR}}}{RATE}))"
    links = c.series_links(c.MONITOR_VARIABLE, point=True)
    return [
        c.timeseries(
            "Window size",
            "Rows seen in the open window, rows in the sample the stat tests use, and the reference's rows.",
            [
                Query(f"max(driftwatch_window_rows{{{MONITOR}}})", "rows seen"),
                Query(f"max(driftwatch_window_sampled_rows{{{MONITOR}}})", "rows in the test sample"),
                Query(f"max(driftwatch_reference_rows{{{MONITOR}}})", "reference rows"),
            ],
            width=8,
            links=links,
        ).override_by_query("C", [fields.dashed_line()]),
        c.timeseries(
            "Check duration",
            "Quantiles of how long checks took (from the driftwatch_check_duration_seconds histogram), and the mean.",
            [
                Query(f"histogram_quantile(0.5, {buckets})", "p50"),
                Query(f"histogram_quantile(0.9, {buckets})", "p90"),
                Query(f"histogram_quantile(0.99, {buckets})", "p99"),
                Query(
                    f"sum(rate(driftwatch_check_duration_seconds_sum{{{MONITOR}}}{RATE}))"
                    f" / sum(rate(driftwatch_check_duration_seconds_count{{{MONITOR}}}{RATE}))",
                    "mean",
                ),
            ],
            unit=fields.SECONDS,
            width=8,
            links=links,
        ),
        c.timeseries(
            "Checks by outcome",
            "Checks per minute by outcome: ok, drift, insufficient_data, skipped_insufficient_data (an open window "
            "still below min_rows: not stored, the last verdict stays), and the failures error, storage_error and "
            "unavailable.",
            [Query(f"sum by (outcome) (rate(driftwatch_checks_total{{{MONITOR}}}{RATE})) * 60", "{{outcome}}")],
            unit="suffix: checks/min",
            width=8,
            links=links,
        ),
        c.timeseries(
            "Ingestion",
            "Rows per second received (accepted + rejected), accepted into the window, and rejected by reason.",
            [
                Query(f"sum(rate(driftwatch_rows_received_total{{{MONITOR}}}{RATE}))", "received"),
                Query(f"sum(rate(driftwatch_rows_accepted_total{{{MONITOR}}}{RATE}))", "accepted"),
                Query(
                    f"sum by (reason) (rate(driftwatch_rows_rejected_total{{{MONITOR}}}{RATE}))", "rejected: {{reason}}"
                ),
            ],
            unit=fields.ROWS_PER_SECOND,
            links=links,
        ),
        c.table(
            "Reference",
            "The loaded reference: `version` is its content hash, `source` where it was read from.",
            [Query(f"driftwatch_reference_info{{{MONITOR}}}", table=True)],
            transformations=[
                fields.organize(exclude=["Time", "Value", "__name__"], order=["monitor", "version", "source"]),
            ],
            width=12,
        ),
    ]


def build() -> dashboard_b.Dashboard:
    dashboard = (
        c.new_dashboard(
            UID,
            TITLE,
            "One driftwatch monitor: the latest check, per-feature drift, out-of-distribution rows and data quality, "
            "the window and the checks. Links open the daemon's stored checks for the time range or the clicked point.",
        )
        .with_variable(c.datasource_variable())
        .with_variable(c.daemon_url_variable())
        .with_variable(c.monitor_variable())
        .with_variable(c.feature_variable())
    )
    sections = [
        ("Latest check", _status_stats()),
        ("Features", _feature_panels()),
        ("Out of distribution", _ood_panels()),
        ("Text", _text_panels()),
        ("Data quality", _quality_panels()),
        ("Window and checks", _window_and_check_panels()),
    ]
    for title, panels in sections:
        dashboard = dashboard.with_row(c.row(title))
        for panel in panels:
            dashboard = dashboard.with_panel(panel)
    return dashboard
