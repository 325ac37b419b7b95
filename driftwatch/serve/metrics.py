"""Prometheus metrics: a collector that turns the daemon's computed state into series (docs/metrics.md)."""

from __future__ import annotations

import math
import platform
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from driftwatch import __version__
from driftwatch.checks.results import CheckResult, FeatureQuality, FeatureResult, severity
from driftwatch.config import LIMIT_NAMES
from driftwatch.ood.reasons import ORDER
from driftwatch.ood.results import OodResult
from driftwatch.reference.watch import PROBLEMS
from driftwatch.serve.daemon import CheckRun, Daemon, MonitorState
from driftwatch.types import Status

REASON_LABELS = ("monitor", "reason")
# Check durations: from a few milliseconds (numeric features) to minutes (text drift on large windows).
CHECK_OUTCOMES = (
    "ok",
    "drift",
    "insufficient_data",
    "skipped_insufficient_data",
    "error",
    "storage_error",
    "unavailable",
    "restoring",
)
CHECK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


def create_registry(daemon: Daemon) -> CollectorRegistry:
    """The daemon's registry: its collector, the check-duration histogram (wired into the daemon), process and GC."""
    # `_created` series double the histogram's series and Prometheus does not use them in the text format.
    disable_created_metrics()
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    histogram = Histogram(
        "driftwatch_check_duration_seconds",
        "How long checks took.",
        ["monitor"],
        buckets=CHECK_BUCKETS,
        registry=registry,
    )
    daemon.on_check_duration = lambda monitor, seconds: histogram.labels(monitor).observe(seconds)
    registry.register(DaemonCollector(daemon))
    return registry


class DaemonCollector(Collector):
    """Reads what checks and ingestion already computed; never runs a check, never touches the database."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon

    def collect(self) -> Iterator[Metric]:
        d = self.daemon
        build = InfoMetricFamily("driftwatch_build", "driftwatch build.")
        build.add_metric([], {"version": __version__, "python": platform.python_version()})
        yield build
        up = GaugeMetricFamily("driftwatch_up", "1 while the daemon is ready (/readyz not 503).")
        up.add_metric([], 0.0 if d.readiness() else 1.0)
        yield up
        storage = GaugeMetricFamily("driftwatch_storage_up", "1 while the history database answers.")
        storage.add_metric([], 0.0 if d.storage_error is not None else 1.0)
        yield storage
        yield GaugeMetricFamily(
            "driftwatch_checks_pending_storage",
            "Checks queued in data_dir/outbox for the database.",
            value=len(d.outbox),
        )
        yield CounterMetricFamily(
            "driftwatch_storage_errors", "Failed writes to the history database.", value=d.storage_errors
        )
        yield GaugeMetricFamily(
            "driftwatch_outbox_bytes", "Bytes of the checks queued in data_dir/outbox.", value=d.outbox.size_bytes
        )
        dropped = _counter("driftwatch_outbox_dropped_checks", "Queued checks dropped: outbox full.", ["trigger"])
        for trigger in ("schedule", "manual", "window_close"):  # from zero, so that increase() sees the first
            dropped.add_metric([trigger], d.outbox.dropped.get(trigger, 0))
        yield dropped
        yield GaugeMetricFamily(
            "driftwatch_sample_bytes", "Bytes of checks' samples in data_dir/samples.", value=d.samples.files.size_bytes
        )
        sample_errors = _counter("driftwatch_sample_write_errors", "Checks stored without their sample: write failed.")
        for name in d.monitors:
            sample_errors.add_metric([name], d.samples.write_errors.get(name, 0))
        yield sample_errors
        states = list(d.monitors.items())
        yield from _monitor_families(d, states)
        yield from _ood_families(states)
        yield from _text_families(states, {m.name: m.text.exported_languages for m in d.config.monitors})
        yield from _reference_families(d)


def _gauge(name: str, doc: str, labels: Iterable[str] = ("monitor",)) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _counter(name: str, doc: str, labels: Iterable[str] = ("monitor",)) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=list(labels))


def _monitor_families(d: Daemon, states: list[tuple[str, MonitorState]]) -> Iterator[Metric]:
    dataset = _gauge("driftwatch_dataset_drift", "1 when the latest verdict found dataset drift.")
    share = _gauge("driftwatch_drifted_features_ratio", "Share of judged features that drifted in the latest verdict.")
    verdict_end = _gauge(
        "driftwatch_verdict_window_end_timestamp_seconds", "End of the rows the exported verdict judged."
    )
    level = _gauge("driftwatch_check_level", "The level the latest calibrated verdict compared p-values with.")
    received = _counter("driftwatch_rows_received", "Rows received (accepted + rejected).")
    accepted = _counter("driftwatch_rows_accepted", "Rows accepted into the window.")
    rejected = _counter("driftwatch_rows_rejected", "Rows rejected, by reason.", ["monitor", "reason"])
    refused = _counter(
        "driftwatch_requests_rejected", "Whole requests or files refused, by reason.", ["monitor", "reason"]
    )
    ignored = _counter("driftwatch_ignored_columns", "Columns sent that are not features of the monitor.")
    window = _gauge("driftwatch_window_rows", "Rows seen in the open window.")
    sampled = _gauge("driftwatch_window_sampled_rows", "Rows of the open window in the stat tests' sample.")
    ref_info = InfoMetricFamily("driftwatch_reference", "The loaded reference dataset.", labels=["monitor"])
    ref_rows = _gauge("driftwatch_reference_rows", "Rows in the reference dataset.")
    interval = _gauge("driftwatch_check_interval_seconds", "The monitor's schedule interval.")
    last = _gauge("driftwatch_last_check_timestamp_seconds", "When the latest check started.")
    success = _gauge("driftwatch_last_successful_check_timestamp_seconds", "When the latest completed check started.")
    checks = _counter("driftwatch_checks", "Checks by outcome.", ["monitor", "outcome"])
    events = _counter("driftwatch_cloudevents", "Logged inferences by outcome.", ["monitor", "outcome"])
    pending = _gauge("driftwatch_cloudevents_pending", "Logged inferences waiting for their other half.")
    unspooled = _gauge("driftwatch_cloudevents_unspooled", "Acknowledged inferences the spool refused, to be retried.")
    spool = _gauge("driftwatch_spool_bytes", "Bytes of spool segments on disk.")
    spool_errors = _counter("driftwatch_spool_write_errors", "Failed spool writes (disk full, read-only data_dir).")
    corrupt = _counter("driftwatch_spool_corrupt_segments", "Unreadable spool segments set aside at restore.")
    restoring = _gauge("driftwatch_restoring", "1 while the monitor replays its spool after a start (intake 503).")
    restored = _gauge(
        "driftwatch_restored_rows", "Rows restored into windows at start, by `from`.", ["monitor", "from"]
    )
    restore_seconds = _gauge("driftwatch_restore_duration_seconds", "How long restoring the windows at start took.")
    checkpoint_at = _gauge("driftwatch_checkpoint_timestamp_seconds", "When the open window was last checkpointed.")
    checkpoint_errors = _counter("driftwatch_checkpoint_errors", "Checkpoints that could not be written.")
    refusals: dict[tuple[str, str], int] = {}
    for name, state in states:
        m = [name]
        if state.interval_seconds is not None:
            interval.add_metric(m, state.interval_seconds)
        # Every outcome from zero, so that increase() sees the first failure.
        by_outcome = dict(state.checks_by_outcome)
        for outcome in sorted(set(CHECK_OUTCOMES) | set(by_outcome)):
            checks.add_metric([name, outcome], by_outcome.get(outcome, 0))
        if state.last_check_at is not None:
            last.add_metric(m, state.last_check_at)
        if state.last_success_at is not None:
            success.add_metric(m, state.last_success_at)
        run = state.last
        if run is not None and run.result.status == Status.OK:
            dataset.add_metric(m, float(run.result.dataset_drift))
            share.add_metric(m, run.result.drift_share)
            verdict_end.add_metric(m, run.judged_until)
            if run.result.level is not None and math.isfinite(run.result.level):
                level.add_metric(m, run.result.level)
        joiner = d.joiners.get(name)
        if joiner is not None:
            js = joiner.stats
            events.add_metric([name, "joined"], js.joined)
            events.add_metric([name, "expired_request"], js.expired_requests)
            events.add_metric([name, "dropped_response"], js.dropped_responses)
            pending.add_metric(m, js.pending)
            events.add_metric([name, "dropped_unspooled"], d.events.dropped.get(name, 0))
            unspooled.add_metric(m, d.events.held(name))
        live = state.live
        if live is None:
            continue
        c = live.counters
        rejects = dict(c.rows_rejected)
        malformed = rejects.get("malformed", 0)
        received.add_metric(m, c.rows_accepted + malformed)
        accepted.add_metric(m, c.rows_accepted)
        rejected.add_metric([name, "malformed"], malformed)
        for reason in ("payload", "no_feature_columns", "unreadable_file", *LIMIT_NAMES):
            refusals[(name, reason)] = rejects.get(reason, 0)
        ignored.add_metric(m, c.unknown_columns)
        seen, in_sample = live.window_rows()
        window.add_metric(m, seen)
        sampled.add_metric(m, in_sample)
        ref_info.add_metric([name], {"version": live.profile.version, "source": live.profile.source})
        ref_rows.add_metric(m, live.profile.rows)
        spool.add_metric(m, live.spool.size_bytes())
        spool_errors.add_metric(m, live.spool.write_errors)
        corrupt.add_metric(m, live.spool.corrupt_segments)
        p = live.progress
        restoring.add_metric(m, float(live.restoring))
        restored.add_metric([name, "checkpoint"], p.checkpoint_rows)
        restored.add_metric([name, "spool"], p.replayed_rows)
        if p.seconds is not None:
            restore_seconds.add_metric(m, p.seconds)
        if live.checkpoint_at is not None:
            checkpoint_at.add_metric(m, live.checkpoint_at)
        checkpoint_errors.add_metric(m, live.checkpoint_errors)
    # Requests and CloudEvents share the limit reasons: one sample each, their sum. Monitor "": reached none.
    for key, n in d.events_rejected.items():
        refusals[key] = refusals.get(key, 0) + n
    for (monitor, reason), n in sorted(refusals.items()):
        refused.add_metric([monitor, reason], n)
    yield from (
        dataset,
        share,
        verdict_end,
        level,
        received,
        accepted,
        rejected,
        refused,
        ignored,
        window,
        sampled,
        ref_info,
        ref_rows,
    )
    yield from (interval, last, success, checks, events, pending, unspooled, spool, spool_errors, corrupt)
    yield from (restoring, restored, restore_seconds, checkpoint_at, checkpoint_errors)


def _verdict_ood(run: CheckRun | None) -> OodResult | None:
    """The OOD result exported for a monitor: the exported verdict's, over a non-empty sample (else None)."""
    if run is None or run.result.status != Status.OK or run.result.ood is None or run.result.ood.rows == 0:
        return None
    return run.result.ood


def _ood_families(states: list[tuple[str, MonitorState]]) -> Iterator[Metric]:
    """The exported verdict's OOD rates, overall and by reason, and which reasons ran; none with OOD off."""
    ratio = _gauge("driftwatch_ood_ratio", "Share of the latest verdict's scored rows out of distribution.")
    by_reason = _gauge(
        "driftwatch_ood_reason_ratio", "Share of the latest verdict's scored rows a reason flagged.", REASON_LABELS
    )
    enabled = _gauge(
        "driftwatch_ood_reason_enabled",
        "1 for an OOD reason that ran in the latest verdict; 0 for one switched off or unavailable.",
        REASON_LABELS,
    )
    rules = _gauge(
        "driftwatch_ood_rules_ratio",
        "Share of all rows of the latest verdict's live window at least one per-value OOD rule fired on.",
    )
    rule_rows = _gauge("driftwatch_ood_rules_rows", "Rows of the latest verdict's live window the OOD rules counted.")
    for name, state in states:
        ood = _verdict_ood(state.last)
        if ood is None:
            continue
        ratio.add_metric([name], ood.rate)
        if ood.rules is not None:
            rules.add_metric([name], ood.rules.rate)
            rule_rows.add_metric([name], ood.rules.rows)
        for reason in (*ORDER, *sorted(set(ood.reasons) - set(ORDER))):
            ran = reason in ood.reasons
            enabled.add_metric([name, reason], float(ran))
            if ran:  # a reason that did not run has no rate, not a rate of 0
                by_reason.add_metric([name, reason], ood.reason_rate(reason))
    yield from (ratio, by_reason, enabled, rules, rule_rows)


def _text_families(states: list[tuple[str, MonitorState]], top: dict[str, int]) -> Iterator[Metric]:
    """The exported verdict's text block: language shares (the top K per feature, the rest as other) and rates."""
    labels = ["monitor", "feature"]
    language = _gauge(
        "driftwatch_text_language_ratio",
        "Share of the latest verdict's rows of a text feature in a language (top K, the rest as other).",
        [*labels, "language"],
    )
    switching = _gauge(
        "driftwatch_text_code_switching_ratio", "Share of a text feature's rows that switch language.", labels
    )
    oov = _gauge("driftwatch_text_oov_ratio", "Mean share of a row's tokens the reference vocabulary lacks.", labels)
    empty = _gauge("driftwatch_text_empty_ratio", "Share of a text feature's rows without any letter.", labels)
    for name, state in states:
        run = state.last
        if run is None or run.result.status != Status.OK:
            continue
        for feature, t in run.result.text.items():
            shares = sorted(((k, v[1] or 0.0) for k, v in t.languages.items() if k != "other"), key=lambda kv: -kv[1])
            k = top.get(name, 8)
            for lang, share in shares[:k]:
                language.add_metric([name, feature, lang], share)
            if len(shares) > k or "other" in t.languages:
                rest = sum(v for _, v in shares[k:]) + (t.languages.get("other", (0.0, 0.0))[1] or 0.0)
                language.add_metric([name, feature, "other"], rest)
            for family, pair in ((switching, t.code_switching), (oov, t.oov_rate), (empty, t.empty)):
                if pair[1] is not None:
                    family.add_metric([name, feature], pair[1])
    yield from (language, switching, oov, empty)


def _reference_families(d: Daemon) -> Iterator[Metric]:
    """The reference on disk against the loaded one (watched path references), and reloads by outcome."""
    stale = _gauge("driftwatch_reference_stale", "1 while the reference on disk differs from the loaded one.")
    doc = "1 for what is wrong with the reference on disk (or its latest reload), by reason."
    problem = _gauge("driftwatch_reference_problem", doc, ["monitor", "reason"])
    reloads = _counter("driftwatch_reference_reloads", "Reference reloads by outcome.", ["monitor", "outcome"])
    for m in d.config.monitors:
        watch = d.reference_watch[m.name]
        for outcome, n in watch.reloads.items():
            reloads.add_metric([m.name, outcome], n)
        if d.monitors[m.name].live is None:
            continue  # no reference loaded: driftwatch_up is 0
        problem.add_metric([m.name, "reload_failed"], float(watch.reload_error is not None))
        if m.reference.path is None or m.reference.watch_interval is None:
            continue  # not watched: the disk is not compared
        now = watch.problem.reason if watch.problem is not None else None
        stale.add_metric([m.name], float(now is not None))
        for reason in PROBLEMS:
            problem.add_metric([m.name, reason], float(reason == now))
    yield from (stale, problem, reloads)


# Per-feature families: (name, help). They are most of a scrape (about 7 series per feature), so they are
# rendered to exposition lines once per check and cached instead of going through prometheus_client each time.
FEATURE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("driftwatch_feature_status", "1 for every exported feature; label status is its outcome in the latest check."),
    ("driftwatch_feature_drift_score", "The stat test's score (p-value or distance)."),
    (
        "driftwatch_feature_p_value",
        "The p-value the decision used (adjusted when corrected): calibrated, or the test's own under thresholds.",
    ),
    ("driftwatch_feature_drift_threshold", "The threshold the score is compared with."),
    (
        "driftwatch_feature_drifted",
        "1 when the feature drifted in the latest check (ok, missing_column, no_valid_values, mostly_missing).",
    ),
    ("driftwatch_feature_missing_ratio", "Share of rows where the feature is missing."),
    ("driftwatch_feature_unseen_category_ratio", "Share of present values not in the reference."),
    ("driftwatch_feature_out_of_range_ratio", "Share of present values outside the reference range."),
    ("driftwatch_feature_type_error_ratio", "Share of rows whose value had the wrong type."),
    ("driftwatch_feature_ood_ratio", "Share of the latest verdict's scored rows an OOD reason flagged on the feature."),
)
# Statuses that carry a verdict without a test: drifted is exported for them, with method="none".
_VERDICT_WITHOUT_TEST = frozenset({Status.MISSING_COLUMN, Status.NO_VALID_VALUES, Status.MOSTLY_MISSING})
OPENMETRICS = "application/openmetrics-text"


class FeatureLines:
    """Exposition lines of the per-feature families, rendered once per (monitor, check) and reused by scrapes."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        self.limits = {m.name: m.max_exported_features for m in daemon.config.monitors}
        self._cache: dict[str, tuple[CheckResult, list[str], int]] = {}

    def render(self) -> bytes:
        """Every per-feature family (HELP/TYPE, then the cached lines of each monitor), plus the omitted counts."""
        per_family: list[list[str]] = [[] for _ in FEATURE_FAMILIES]
        omitted: list[str] = []
        for name, state in list(self.daemon.monitors.items()):
            run = state.last
            if run is None:
                self._cache.pop(name, None)
                continue
            cached = self._cache.get(name)
            # Keyed by the result itself: a check waiting to be stored has no id yet.
            if cached is None or cached[0] is not run.result:
                limit = self.limits.get(name, 100)
                chunks, dropped = _render_monitor(name, run.result.features, limit, _verdict_ood(run))
                cached = self._cache[name] = (run.result, chunks, dropped)
            for i, chunk in enumerate(cached[1]):
                per_family[i].append(chunk)
            omitted.append(f'driftwatch_features_omitted{{monitor="{_escape(name)}"}} {floatToGoString(cached[2])}\n')
        out = []
        for (family, doc), chunks in zip(FEATURE_FAMILIES, per_family, strict=True):
            out.append(f"# HELP {family} {doc}\n# TYPE {family} gauge\n")
            out.extend(chunks)
        out.append("# HELP driftwatch_features_omitted Features not exported because of max_exported_features.\n")
        out.append("# TYPE driftwatch_features_omitted gauge\n")
        out.extend(omitted)
        return "".join(out).encode()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _render_monitor(
    monitor: str, features: list[FeatureResult], limit: int, ood: OodResult | None = None
) -> tuple[list[str], int]:
    """One chunk of lines per feature family for one monitor's check; most severe first (OOD shares: most OOD rows)."""
    lines: list[list[str]] = [[] for _ in FEATURE_FAMILIES]
    status, score, p_value, threshold, drifted, missing, unseen, out_of_range, type_errors, ood_share = lines
    ranked = sorted(features, key=lambda f: (not f.drifted, -severity(f), f.name))
    m = _escape(monitor)
    for f in ranked[:limit]:
        q = f.quality
        key = f'monitor="{m}",feature="{_escape(f.name)}"'
        status.append(f'{{{key},status="{f.status.value}"}} 1.0')
        # A ratio is exported only over a non-empty population: no 0 of 0.
        if q.rows > 0:
            missing.append(f"{{{key}}} {floatToGoString(q.missing_rate)}")
            type_errors.append(f"{{{key}}} {floatToGoString(q.type_error_rate)}")
        if f.status != Status.MISSING_COLUMN and _present(q) > 0:
            if q.unseen_category_rate is not None:
                unseen.append(f"{{{key}}} {floatToGoString(q.unseen_category_rate)}")
            if q.out_of_range_rate is not None:
                out_of_range.append(f"{{{key}}} {floatToGoString(q.out_of_range_rate)}")
        # The test that ran; "none" for a verdict without a test (and the p-value it may carry).
        method = f.method if f.status == Status.OK and f.score is not None else None
        labels = f'{{{key},method="{_escape(method or "none")}"}}'
        if f.status in _VERDICT_WITHOUT_TEST:
            drifted.append(f"{labels} {floatToGoString(float(f.drifted))}")
        # Any p-value the result carries, distances' calibrated ones and a mostly-missing feature's included.
        p = f.adjusted_p_value if f.adjusted_p_value is not None else f.p_value
        if p is not None and math.isfinite(p):
            p_value.append(f"{labels} {floatToGoString(p)}")
        if method is None or f.score is None:
            continue  # no test ran: no fake score
        if math.isfinite(f.score):
            score.append(f"{labels} {floatToGoString(f.score)}")
        if f.threshold is not None:
            threshold.append(f"{labels} {floatToGoString(f.threshold)}")
        drifted.append(f"{labels} {floatToGoString(float(f.drifted))}")
    if ood is not None:
        for feature, n in sorted(ood.features.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
            ood_share.append(f'{{monitor="{m}",feature="{_escape(feature)}"}} {floatToGoString(n / ood.rows)}')
    chunks = [
        "".join(f"{family}{line}\n" for line in family_lines)
        for (family, _), family_lines in zip(FEATURE_FAMILIES, lines, strict=True)
    ]
    return chunks, max(0, len(ranked) - limit)


def _present(q: FeatureQuality) -> int:
    """Rows where the feature has a value of its kind: the population of the unseen and out-of-range ratios."""
    # The rates are exact count/rows quotients, so rounding recovers the counts.
    return q.rows - round(q.missing_rate * q.rows) - round(q.type_error_rate * q.rows)


def exposition(registry: CollectorRegistry, features: FeatureLines, accept: str | None) -> tuple[bytes, str]:
    """The whole scrape body and its content type: the text format, or OpenMetrics when `accept` asks for it."""
    encoder, content_type = choose_encoder(accept)
    body = encoder(registry)
    tail = features.render()
    if content_type.startswith(OPENMETRICS):
        # Gauge lines read the same in both formats; OpenMetrics ends with one "# EOF".
        return body.removesuffix(b"# EOF\n") + tail + b"# EOF\n", content_type
    return body + tail, content_type
