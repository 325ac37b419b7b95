"""The "driftwatch health" dashboard: is the daemon itself working (scrapes, ingestion, checks, storage)?"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b

from driftwatch.dashboards import common as c
from driftwatch.dashboards import fields
from driftwatch.dashboards.common import Query

UID = c.HEALTH_UID
TITLE = "driftwatch health"

RATE = "[$__rate_interval]"
SCRAPE_JOB = 'job=~".*driftwatch.*"'
FAILED_OUTCOMES = 'outcome=~"error|storage_error|unavailable"'
UP_STATES = fields.value_texts(("0", "down", "red"), ("1", "up", "green"))


def _process_panels() -> list[c.PanelBuilder]:
    return [
        c.stat(
            "Daemon ready",
            "`driftwatch_up` per daemon: ready means the scheduler runs, every reference is loaded and every spool "
            "restored and writable (`GET /readyz` names what is missing; an unreachable database only degrades it).",
            [Query("driftwatch_up", "{{instance}}")],
            mappings=fields.READY_STATES,
            width=6,
            height=6,
        ),
        c.table(
            "Build",
            "driftwatch and Python versions of each daemon.",
            [Query("driftwatch_build_info", table=True)],
            transformations=[
                fields.organize(exclude=["Time", "Value", "__name__"], order=["instance", "job", "version", "python"]),
            ],
            width=6,
            height=6,
        ),
        c.state_timeline(
            "Scrape target up",
            'Whether Prometheus could scrape each driftwatch target (`up` of jobs matching ".*driftwatch.*").',
            [Query(f"up{{{SCRAPE_JOB}}}", "{{job}} {{instance}}")],
            mappings=UP_STATES,
            width=12,
            height=6,
        ),
        c.timeseries(
            "Scrape duration",
            "How long Prometheus took to scrape each driftwatch target; a scrape only reads computed state.",
            [Query(f"scrape_duration_seconds{{{SCRAPE_JOB}}}", "{{job}} {{instance}}")],
            unit=fields.SECONDS,
        ),
        c.timeseries(
            "Storage errors",
            "Failed writes to the history database per second, per daemon.",
            [Query(f"sum by (instance) (rate(driftwatch_storage_errors_total{RATE}))", "{{instance}}")],
            unit="suffix: errors/s",
        ).override_by_query("A", [fields.fixed_color("red")]),
    ]


def _ingest_panels() -> list[c.PanelBuilder]:
    links = c.series_links(c.SERIES_MONITOR, point=False)
    return [
        c.timeseries(
            "Rows received and accepted",
            "Rows per second received by each monitor (accepted + rejected) and accepted into its window.",
            [
                Query(f"sum by (monitor) (rate(driftwatch_rows_received_total{RATE}))", "{{monitor}} received"),
                Query(f"sum by (monitor) (rate(driftwatch_rows_accepted_total{RATE}))", "{{monitor}} accepted"),
            ],
            unit=fields.ROWS_PER_SECOND,
            links=links,
        ),
        c.timeseries(
            "Rejected rows by reason",
            "Rows rejected per second: `malformed` is an entry that is not an object or an unparsable line.",
            [
                Query(
                    f"sum by (monitor, reason) (rate(driftwatch_rows_rejected_total{RATE}))",
                    "{{monitor}} {{reason}}",
                )
            ],
            unit=fields.ROWS_PER_SECOND,
            links=links,
        ),
        c.timeseries(
            "Refused requests by reason",
            "Whole requests or files refused per second: `payload` (malformed or oversized body, unsupported "
            "type), `unreadable_file` (file source).",
            [
                Query(
                    f"sum by (monitor, reason) (rate(driftwatch_requests_rejected_total{RATE}))",
                    "{{monitor}} {{reason}}",
                )
            ],
            unit="suffix: req/s",
            links=links,
        ),
        c.timeseries(
            "Ignored columns",
            "Columns per second sent to a monitor that are not among its features.",
            [Query(f"sum by (monitor) (rate(driftwatch_ignored_columns_total{RATE}))", "{{monitor}}")],
            unit="suffix: columns/s",
            links=links,
        ),
        c.timeseries(
            "Spool size",
            "Bytes of spool segments on disk per monitor; they are deleted when a tumbling window closes or "
            "pruned as a sliding window moves.",
            [Query("max by (monitor) (driftwatch_spool_bytes)", "{{monitor}}")],
            unit=fields.BYTES,
            links=links,
        ),
        c.timeseries(
            "Rows in window",
            "Rows seen in each monitor's open window, and the rows of its test sample (dashed).",
            [
                Query("max by (monitor) (driftwatch_window_rows)", "{{monitor}} seen"),
                Query("max by (monitor) (driftwatch_window_sampled_rows)", "{{monitor}} sampled"),
            ],
            links=links,
        ).override_by_query("B", [fields.dashed_line()]),
    ]


def _check_panels() -> list[c.PanelBuilder]:
    at_point = c.series_links(c.SERIES_MONITOR, point=True)
    buckets = f"sum by (monitor, le) (rate(driftwatch_check_duration_seconds_bucket{RATE}))"
    return [
        c.stat(
            "Failed checks",
            "Checks that failed in the dashboard's time range: outcome error (the engine failed), storage_error "
            "(the result could not be stored) or unavailable (the monitor's reference is not loaded).",
            [Query(f"sum(increase(driftwatch_checks_total{{{FAILED_OUTCOMES}}}[$__range])) or vector(0)")],
            steps=((None, "green"), (1, "red")),
            decimals=0,
            width=6,
            height=8,
        ),
        c.timeseries(
            "Checks by outcome",
            "Checks per minute by monitor and outcome; failures (error, storage_error, unavailable) in red.",
            [Query(f"sum by (monitor, outcome) (rate(driftwatch_checks_total{RATE})) * 60", "{{monitor}} {{outcome}}")],
            unit="suffix: checks/min",
            width=18,
            links=at_point,
            legend_table=True,
        ).override_by_regexp(".*(error|unavailable).*", [fields.fixed_color("red")]),
        c.timeseries(
            "Check duration",
            "90th and 99th percentile of check durations per monitor.",
            [
                Query(f"histogram_quantile(0.9, {buckets})", "{{monitor}} p90"),
                Query(f"histogram_quantile(0.99, {buckets})", "{{monitor}} p99"),
            ],
            unit=fields.SECONDS,
            links=at_point,
        ),
        c.timeseries(
            "Checks behind schedule",
            "Time since each monitor's latest check started, in schedule intervals. It stays below about 1 while "
            "the scheduler keeps up; DriftwatchCheckStale fires when the latest successful check is 3 intervals old.",
            [
                Query(
                    "(time() - max by (monitor) (driftwatch_last_check_timestamp_seconds))"
                    " / max by (monitor) (driftwatch_check_interval_seconds)",
                    "{{monitor}}",
                )
            ],
            unit="suffix: intervals",
            links=at_point,
        ),
    ]


def _cloudevents_panels() -> list[c.PanelBuilder]:
    links = c.series_links(c.SERIES_MONITOR, point=False)
    return [
        c.timeseries(
            "Pending inferences",
            "KServe logged inferences waiting for their other half (request or response), per monitor.",
            [Query("max by (monitor) (driftwatch_cloudevents_pending)", "{{monitor}}")],
            unit="suffix: events",
            links=links,
        ),
        c.timeseries(
            "Logged inferences by outcome",
            "Per second: `joined` (request and response), `expired_request` (ingested without its response after "
            "`ingest.join_timeout`), `dropped_response` (a response without its request).",
            [
                Query(
                    f"sum by (monitor, outcome) (rate(driftwatch_cloudevents_total{RATE}))",
                    "{{monitor}} {{outcome}}",
                )
            ],
            unit="suffix: events/s",
            links=links,
        ),
    ]


def _durability_panels() -> list[c.PanelBuilder]:
    return [
        c.state_timeline(
            "Storage reachable",
            "`driftwatch_storage_up` per daemon: while it is down, checks wait in the outbox under data_dir and are "
            "stored in order once the database answers (DriftwatchStorageUnreachable).",
            [Query("driftwatch_storage_up", "{{instance}}")],
            mappings=UP_STATES,
            width=8,
        ),
        c.timeseries(
            "Checks waiting to be stored",
            "Checks queued in the outbox while the history database is unreachable, per daemon.",
            [Query("sum by (instance) (driftwatch_checks_pending_storage)", "{{instance}}")],
            width=8,
        ),
        c.timeseries(
            "Outbox on disk",
            "Bytes of queued checks under data_dir/outbox; at storage.outbox_max_bytes the least important are "
            "dropped (driftwatch_outbox_dropped_checks_total).",
            [Query("sum by (instance) (driftwatch_outbox_bytes)", "{{instance}}")],
            unit="bytes",
            width=8,
        ),
        c.state_timeline(
            "Reference on disk differs",
            "`driftwatch_reference_stale` per monitor: its reference file changed, went missing or is unreadable; "
            "checks keep the loaded one until a reload (DriftwatchReferenceStale).",
            [Query("max by (monitor) (driftwatch_reference_stale)", "{{monitor}}")],
            mappings=fields.value_texts(("0", "matches", "green"), ("1", "differs", "orange")),
            width=12,
            height=6,
        ),
        c.state_timeline(
            "Restoring after a start",
            "`driftwatch_restoring` per monitor: its windows are being restored from checkpoint and spool; rows get "
            "503 with Retry-After meanwhile.",
            [Query("max by (monitor) (driftwatch_restoring)", "{{monitor}}")],
            mappings=fields.value_texts(("0", "restored", "green"), ("1", "restoring", "blue")),
            width=12,
            height=6,
        ),
    ]


def build() -> dashboard_b.Dashboard:
    dashboard = (
        c.new_dashboard(
            UID,
            TITLE,
            "The driftwatch daemon itself: scrapes, readiness, ingestion, the spool, checks, storage, references, "
            "restarts and the KServe CloudEvents join.",
        )
        .with_variable(c.datasource_variable())
        .with_variable(c.daemon_url_variable())
    )
    sections = [
        ("Daemon and scrapes", _process_panels()),
        ("Ingestion", _ingest_panels()),
        ("Checks", _check_panels()),
        ("Storage, references and restarts", _durability_panels()),
        ("KServe CloudEvents", _cloudevents_panels()),
    ]
    for title, panels in sections:
        dashboard = dashboard.with_row(c.row(title))
        for panel in panels:
            dashboard = dashboard.with_panel(panel)
    return dashboard
