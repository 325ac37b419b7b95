"""Pieces every driftwatch dashboard shares: the variables, queries, data links and panel skeletons.

Every panel and every query reads from the `datasource` template variable, so the dashboards import into any
Grafana whatever its Prometheus data source is called. Links to the daemon's HTTP API (docs/api.md) go
through the `daemon_url` variable: the daemon binds to localhost by default, so whoever imports the
dashboards sets the address their browser can reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.builders import prometheus as prometheus_b
from grafana_foundation_sdk.builders import stat as stat_b
from grafana_foundation_sdk.builders import statetimeline as statetimeline_b
from grafana_foundation_sdk.builders import table as table_b
from grafana_foundation_sdk.builders import timeseries as timeseries_b
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common as common_m
from grafana_foundation_sdk.models import dashboard as dashboard_m
from grafana_foundation_sdk.models import prometheus as prometheus_m

from driftwatch.dashboards.fields import by_thresholds, thresholds

DATASOURCE = dashboard_m.DataSourceRef(type_val="prometheus", uid="${datasource}")
DAEMON_URL_DEFAULT = "http://localhost:8321"
TAG = "driftwatch"

OVERVIEW_UID = "driftwatch-overview"
MONITOR_UID = "driftwatch-monitor"
HEALTH_UID = "driftwatch-health"

# Label matchers of the monitor dashboard. `feature` is multi-valued, so it is always matched as a regex.
MONITOR = 'monitor="$monitor"'
MONITOR_FEATURE = 'monitor="$monitor", feature=~"$feature"'
# Alerts come from the rules in deploy/prometheus/rules/driftwatch.rules.yml; every one is named Driftwatch*.
ALERTS_FIRING = 'ALERTS{alertname=~"Driftwatch.*", alertstate="firing"}'
# Series whose `monitor` label names every monitor with a loaded reference (the `monitor` variable's source).
MONITORS = "driftwatch_window_rows"

# How a data link names the monitor: the dashboard variable, a series label, or a table row's cell.
MONITOR_VARIABLE = "${monitor}"
SERIES_MONITOR = "${__field.labels.monitor}"
ROW_MONITOR = "${__data.fields.monitor}"

PanelBuilder = cogbuilder.Builder[dashboard_m.Panel]

CHECK_DETAIL_HELP = (
    "Links open the daemon's page of the monitor over this time range (`/ui/monitors/{monitor}`: a timeline, every "
    "check with links to its report, and the worst check's features) and its stored checks as JSON "
    "(`GET /v1/monitors/{monitor}/checks`, newest first, at most 100). "
    "Metrics carry no check id: take a check's `id` from that list and open "
    "`<daemon_url>/v1/checks/{id}` for its per-feature results, sorted by severity. "
    "Set the `daemon_url` variable to an address of the daemon that your browser can reach."
)


@dataclass(frozen=True)
class Query:
    """One PromQL target: `legend` is a Grafana legend template; `instant` asks for the latest value only,
    `table` for the latest value as a table (one column per label)."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


class _QueryablePanel(Protocol):
    def datasource(self, datasource: dashboard_m.DataSourceRef) -> Self: ...

    def with_target(self, target: cogbuilder.Builder[cogvariants.Dataquery]) -> Self: ...


P = TypeVar("P", bound=_QueryablePanel)


def _target(query: Query, ref_id: str) -> prometheus_b.Dataquery:
    target = prometheus_b.Dataquery().expr(query.expr).ref_id(ref_id).datasource(DATASOURCE)
    if query.table:
        return target.instant().format(prometheus_m.PromQueryFormat.TABLE)
    target = target.instant() if query.instant else target.range()
    if query.legend:
        target = target.legend_format(query.legend)
    return target


def with_queries(panel: P, queries: Sequence[Query]) -> P:
    """Point the panel at the `datasource` variable and add the queries as targets A, B, C, ..."""
    if not queries:
        raise ValueError("a panel needs at least one query")
    panel = panel.datasource(DATASOURCE)
    for i, query in enumerate(queries):
        panel = panel.with_target(_target(query, chr(ord("A") + i)))
    return panel


# Variables ------------------------------------------------------------------------------------------------


def datasource_variable() -> dashboard_b.DatasourceVariable:
    return dashboard_b.DatasourceVariable("datasource").label("Data source").type("prometheus")


def daemon_url_variable() -> dashboard_b.TextBoxVariable:
    return (
        dashboard_b.TextBoxVariable("daemon_url")
        .label("Daemon URL")
        .description("Base URL of the driftwatch daemon's HTTP API, as your browser reaches it (used by links).")
        .default_value(DAEMON_URL_DEFAULT)
        .current(dashboard_m.VariableOption(text=DAEMON_URL_DEFAULT, value=DAEMON_URL_DEFAULT))
    )


def monitor_variable() -> dashboard_b.QueryVariable:
    return (
        dashboard_b.QueryVariable("monitor")
        .label("Monitor")
        .datasource(DATASOURCE)
        .query(f"label_values({MONITORS}, monitor)")
        .refresh(dashboard_m.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_m.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
    )


def feature_variable() -> dashboard_b.QueryVariable:
    # Listed from the status series, which every exported feature has whatever its outcome: a feature whose
    # column vanished has no score but is still picked. "All" is `.+`: monitors export up to 100 features.
    return (
        dashboard_b.QueryVariable("feature")
        .label("Feature")
        .datasource(DATASOURCE)
        .query('label_values(driftwatch_feature_status{monitor="$monitor"}, feature)')
        .refresh(dashboard_m.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_m.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".+")
        .current(dashboard_m.VariableOption(text=["All"], value=["$__all"]))
    )


# Links ------------------------------------------------------------------------------------------------------


def checks_in_range_url(monitor: str) -> str:
    """The daemon's stored checks of `monitor` within the dashboard's time range (epoch seconds, UTC)."""
    return f"${{daemon_url}}/v1/monitors/{monitor}/checks?since=${{__from:date:seconds}}&until=${{__to:date:seconds}}"


def monitor_page_url(monitor: str) -> str:
    """The daemon's page of `monitor` over the dashboard's time range (`${__from}`, `${__to}`: epoch milliseconds)."""
    return f"${{daemon_url}}/ui/monitors/{monitor}?from=${{__from}}&to=${{__to}}"


def monitor_page_link(monitor: str) -> dashboard_b.DashboardLink:
    # First in every list: Grafana's tooltip shows it on top, and it is the page meant for people.
    return (
        dashboard_b.DashboardLink("Checks of this time range (daemon page)")
        .url(monitor_page_url(monitor))
        .target_blank(True)
    )


def checks_in_range_link(monitor: str) -> dashboard_b.DashboardLink:
    return (
        dashboard_b.DashboardLink("Checks in this time range (daemon API)")
        .url(checks_in_range_url(monitor))
        .target_blank(True)
    )


def check_at_point_link(monitor: str) -> dashboard_b.DashboardLink:
    # A point shows what the latest check before it computed: the newest check started before the clicked
    # time is the one behind the value (its `id` opens /v1/checks/{id}).
    return (
        dashboard_b.DashboardLink("Check behind this point (daemon API)")
        .url(f"${{daemon_url}}/v1/monitors/{monitor}/checks?until=${{__value.time:date:seconds}}&limit=1")
        .target_blank(True)
    )


def monitor_dashboard_link(monitor: str) -> dashboard_b.DashboardLink:
    return dashboard_b.DashboardLink("Open the monitor dashboard").url(
        f"/d/{MONITOR_UID}/driftwatch-monitor?var-monitor={monitor}"
        "&${__url_time_range}&${datasource:queryparam}&${daemon_url:queryparam}"
    )


def series_links(monitor: str, *, point: bool) -> list[cogbuilder.Builder[dashboard_m.DashboardLink]]:
    """Links of a panel whose series (or rows) belong to `monitor`; `point` adds the clicked point's check."""
    links: list[cogbuilder.Builder[dashboard_m.DashboardLink]] = [
        monitor_page_link(monitor),
        checks_in_range_link(monitor),
    ]
    if point:
        links.append(check_at_point_link(monitor))
    if monitor != MONITOR_VARIABLE:
        links.append(monitor_dashboard_link(monitor))
    return links


def dashboard_links() -> list[cogbuilder.Builder[dashboard_m.DashboardLink]]:
    return [
        dashboard_b.DashboardLink("driftwatch")
        .type(dashboard_m.DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(True)
        .keep_time(True)
        .include_vars(True),
        dashboard_b.DashboardLink("Daemon API")
        .type(dashboard_m.DashboardLinkType.LINK)
        .icon("external link")
        .tooltip("The daemon's OpenAPI documentation")
        .url("${daemon_url}/docs")
        .target_blank(True),
    ]


def _table_legend() -> common_b.VizLegendOptions:
    return (
        common_b.VizLegendOptions()
        .display_mode(common_m.LegendDisplayMode.TABLE)
        .placement(common_m.LegendPlacement.RIGHT)
        .show_legend(True)
        .calcs(["lastNotNull", "max"])
        .sort_by("Last *")
        .sort_desc(True)
    )


# Panels ---------------------------------------------------------------------------------------------------


def timeseries(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    min_value: float | None = 0,
    max_value: float | None = None,
    links: list[cogbuilder.Builder[dashboard_m.DashboardLink]] | None = None,
    legend_table: bool = False,
) -> timeseries_b.Panel:
    panel = (
        timeseries_b.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .span(width)
        .height(height)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common_m.VisibilityMode.NEVER)
        .tooltip(
            common_b.VizTooltipOptions().mode(common_m.TooltipDisplayMode.MULTI).sort(common_m.SortOrder.DESCENDING)
        )
    )
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    if links:
        panel = panel.data_links(links)
    if legend_table:
        panel = panel.legend(_table_legend())
    return with_queries(panel, queries)


def stat(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    width: int = 4,
    height: int = 4,
    steps: Sequence[tuple[float | None, str]] = ((None, "text"),),
    mappings: list[dashboard_m.ValueMapping] | None = None,
    links: list[cogbuilder.Builder[dashboard_m.DashboardLink]] | None = None,
    no_value: str | None = None,
    decimals: float | None = None,
) -> stat_b.Panel:
    """A stat of the latest value of each series; coloured by `steps` (value, color) or by `mappings`."""
    panel = (
        stat_b.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .span(width)
        .height(height)
        .thresholds(thresholds(*steps))
        .color_scheme(by_thresholds())
        .color_mode(common_m.BigValueColorMode.BACKGROUND if mappings else common_m.BigValueColorMode.VALUE)
        .graph_mode(common_m.BigValueGraphMode.NONE)
        .text_mode(common_m.BigValueTextMode.AUTO)
        .justify_mode(common_m.BigValueJustifyMode.AUTO)
        .reduce_options(common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if mappings:
        panel = panel.mappings(mappings)
    if links:
        panel = panel.data_links(links)
    if no_value is not None:
        panel = panel.no_value(no_value)
    if decimals is not None:
        panel = panel.decimals(decimals)
    return with_queries(panel, [replace(q, instant=True) for q in queries])


def state_timeline(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    mappings: list[dashboard_m.ValueMapping],
    width: int = 24,
    height: int = 8,
    links: list[cogbuilder.Builder[dashboard_m.DashboardLink]] | None = None,
) -> statetimeline_b.Panel:
    panel = (
        statetimeline_b.Panel()
        .title(title)
        .description(description)
        .span(width)
        .height(height)
        .mappings(mappings)
        .thresholds(thresholds((None, "green"), (1, "red")))
        .color_scheme(by_thresholds())
        .show_value(common_m.VisibilityMode.NEVER)
        .merge_values(True)
        .row_height(0.9)
        .fill_opacity(80)
        .line_width(0)
        .legend(common_b.VizLegendOptions().show_legend(False))
    )
    if links:
        panel = panel.data_links(links)
    return with_queries(panel, queries)


def table(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    transformations: Sequence[dashboard_m.DataTransformerConfig],
    width: int = 24,
    height: int = 8,
    links: list[cogbuilder.Builder[dashboard_m.DashboardLink]] | None = None,
) -> table_b.Panel:
    if not all(q.table for q in queries):
        raise ValueError(f"table panel {title!r}: every query must be an instant table query")
    panel = (
        table_b.Panel()
        .title(title)
        .description(description)
        .span(width)
        .height(height)
        .cell_height(common_m.TableCellHeight.SM)
        .show_header(True)
        .transformations(list(transformations))
    )
    if links:
        panel = panel.data_links(links)
    return with_queries(panel, queries)


def row(title: str) -> dashboard_b.Row:
    # Expanded rows: the panels that follow belong to the row (Grafana strips panels nested in expanded rows).
    return dashboard_b.Row(title).collapsed(False)


# Dashboards -------------------------------------------------------------------------------------------------


def new_dashboard(uid: str, title: str, description: str) -> dashboard_b.Dashboard:
    """A dashboard with the settings all three share; callers add variables, then rows and panels."""
    return (
        dashboard_b.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .editable()
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("browser")
        .tooltip(dashboard_m.DashboardCursorSync.CROSSHAIR)
        .links(dashboard_links())
    )
