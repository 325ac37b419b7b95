"""The HTTP layer: FastAPI routes that adapt requests to the daemon and its history, nothing more."""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import Gauge
from starlette.concurrency import run_in_threadpool

from driftwatch import __version__
from driftwatch.checks import results
from driftwatch.config import Scope
from driftwatch.errors import UnknownMonitorError
from driftwatch.ingest.cloudevents import event_rows, find_route, parse_cloudevent, reject_reason
from driftwatch.ingest.limits import Reserve, admission_bytes, check_table, limit_reason, read_rows, scan_bytes
from driftwatch.ingest.payloads import PayloadError, decode_body
from driftwatch.serve import schemas
from driftwatch.serve.admission import RETRY_AFTER_SECONDS, BudgetExceededError, InflightBudget, Ticket
from driftwatch.serve.auth import Authorizer, requires
from driftwatch.serve.daemon import CheckRun, Daemon
from driftwatch.serve.httpmetrics import HttpMetrics
from driftwatch.serve.metrics import FeatureLines, create_registry, exposition
from driftwatch.serve.problems import ApiError, error_response, install
from driftwatch.serve.promote_routes import add_promotion_routes
from driftwatch.serve.references import ReloadResult
from driftwatch.serve.reports import add_report_routes
from driftwatch.serve.restore import RestoreReason
from driftwatch.serve.sample_routes import add_sample_routes, sample_dict
from driftwatch.serve.schemas import MAX_ID, errors
from driftwatch.ui import install_pages

log = logging.getLogger(__name__)
# CloudEvents up to this size are parsed on the event loop; larger ones in the thread pool.
SMALL_EVENT_BYTES = 64 * 1024
MonitorName = Annotated[str, Path(description="A monitor of the configuration.")]


def create_app(daemon: Daemon) -> FastAPI:
    """The daemon's HTTP API (OpenAPI at /openapi.json)."""
    # /docs with Swagger UI's assets served by the daemon itself: it renders without internet access.
    app = FastAPIOffline(
        title="driftwatch",
        version=__version__,
        description='Drift and OOD monitoring for model inputs. Every error is `{"error": ...}` (ErrorBody).',
        redoc_url=None,
        static_url="/docs-static",
        favicon_url="/docs-static/favicon.png",
        # Swagger UI would otherwise send the document to an online validator.
        swagger_ui_parameters={"validatorUrl": None},
    )
    settings = daemon.config.ingest
    app.state.daemon = daemon
    registry = create_registry(daemon)
    features = FeatureLines(daemon)
    install(app)
    app.add_middleware(HttpMetrics, registry=registry)
    # One budget for every ingest request in progress: their memory together stays within max_inflight_bytes.
    budget = app.state.budget = InflightBudget(settings.limits.max_inflight_bytes)
    Gauge(
        "driftwatch_ingest_inflight_bytes",
        "Memory held by ingest requests in progress, as charged against ingest.limits.max_inflight_bytes.",
        registry=registry,
    ).set_function(lambda: budget.used)

    # Each route's scope is its `dependencies=need(...)`; docs/api.md lists them, tests/daemon/test_auth.py checks each.
    authorizer = Authorizer(daemon.config.tokens)
    metrics_scope: Scope | None = "read" if daemon.config.server.auth.metrics_requires_token else None

    def need(scope: Scope | None) -> list[Any]:
        return requires(authorizer, scope)

    def _accepting() -> None:
        if daemon.draining:
            raise ApiError(503, "shutting down: not accepting rows")

    async def _body(request: Request, ticket: Ticket) -> bytes:
        limit = settings.limits.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise PayloadError(
                f"a body of {length} bytes exceeds ingest.limits.max_body_bytes ({limit})", 413, "max_body_bytes"
            )
        # Admitted before it is read, with what its size may cost at most (given back once it is scanned): a request
        # waiting for room holds no more than the server's read buffer, and none waits holding part of its room.
        if length is not None and length.isdigit():
            await ticket.reserve_async(min(admission_bytes(int(length)), budget.limit), prepay=True)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadError(f"the body exceeds ingest.limits.max_body_bytes ({limit})", 413, "max_body_bytes")
            await ticket.reserve_async(len(chunk))
            chunks.append(chunk)
        await ticket.reserve_async(size)  # the joined copy, beside the pieces for a moment
        return b"".join(chunks)

    def _over_budget(exc: BudgetExceededError) -> ApiError:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.status == 503 else None
        return ApiError(exc.status, str(exc), headers, limit=exc.limit)

    @app.post(
        "/v1/monitors/{monitor}/rows",
        status_code=202,
        tags=["ingest"],
        response_model=schemas.RowsAccepted,
        responses=errors(400, 401, 403, 404, 413, 415, 422, 500, 503),
        dependencies=need("ingest"),
        openapi_extra={"requestBody": schemas.ROWS_REQUEST_BODY},
    )
    async def post_rows(
        monitor: MonitorName,
        request: Request,
        content_type: Annotated[str, Header()] = "application/json",
        content_encoding: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Accept rows as a JSON array, NDJSON or an Arrow IPC stream (optionally gzip); 202 once durable."""
        _accepting()
        live = daemon.live(monitor)

        def work(body: bytes, ticket: Ticket) -> dict[str, Any]:
            try:
                # Only the monitor's features are built: other columns keep their names, never their values.
                keep = live.shaper.names
                parsed = read_rows(body, content_type, content_encoding, settings.limits, keep, ticket)
            except PayloadError as exc:
                live.counters.reject(limit_reason(exc), 1)
                raise ApiError(exc.status, str(exc)) from None
            if parsed.table.num_rows and not set(live.shaper.names).intersection(parsed.table.column_names):
                # Such rows would be stored as all-missing and read as drift; the sender has the names wrong.
                live.counters.reject("no_feature_columns", 1)
                names = parsed.table.column_names
                shown = ", ".join(names[:10]) + (f", ... ({len(names) - 10} more)" if len(names) > 10 else "")
                raise ApiError(
                    422,
                    f"none of the rows' columns ({shown}) is a feature of monitor '{monitor}'"
                    f" (features: {', '.join(live.shaper.names)})",
                )
            outcome = daemon.ingest(monitor, parsed.table, parsed.rejected)
            return {
                "accepted": outcome.accepted,
                "rejected": outcome.rejected,
                "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in parsed.errors],
                "ignored_columns": list(outcome.unknown_columns),
            }

        ticket = budget.ticket()
        try:
            try:
                body = await _body(request, ticket)
            except PayloadError as exc:
                live.counters.reject(limit_reason(exc), 1)
                raise ApiError(exc.status, str(exc)) from None
            return await run_in_threadpool(work, body, ticket)
        except BudgetExceededError as exc:
            live.counters.reject(exc.limit, 1)
            raise _over_budget(exc) from None
        finally:
            ticket.release()

    @app.post(
        "/v1/cloudevents",
        status_code=202,
        tags=["ingest"],
        response_model=None,
        responses={202: {"model": schemas.CloudEventAccepted}, **errors(400, 401, 403, 404, 413, 415, 422, 500, 503)},
        dependencies=need("ingest"),
        openapi_extra={"requestBody": schemas.CLOUDEVENT_BODY},
    )
    async def post_cloudevent(request: Request) -> Response:
        """Inference-logger events of KServe, MLServer and Seldon Core (CloudEvents binary or structured mode)."""
        _accepting()

        def work(body: bytes, reserve: Reserve) -> Response:
            monitor = None
            try:
                decoded = decode_body(body, None, settings.limits.max_decoded_bytes)
                reserve(scan_bytes(len(decoded)))
                event = parse_cloudevent(request.headers, decoded, settings.limits, reserve)
                index = find_route(settings.cloudevents, event)
                route = settings.cloudevents[index]
                monitor = route.monitor
                live = daemon.live(monitor)
                rows = event_rows(
                    event, route, f"ingest.cloudevents[{index}]", live.config.prediction_columns, live.shaper.names
                )
                check_table(rows.table, settings.limits)
            except PayloadError as exc:
                daemon.reject_event(monitor, reject_reason(exc), str(exc))
                raise ApiError(exc.status, str(exc)) from None
            except BudgetExceededError as exc:
                daemon.reject_event(monitor, exc.limit, str(exc))
                raise _over_budget(exc) from None
            joined = daemon.ingest_event(route.monitor, event.join_key, event.kind, rows.table)
            doc = {
                "monitor": route.monitor,
                "id": event.join_id,
                "kind": event.kind,
                "joined": joined,
                "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in rows.errors],
                "ignored_columns": list(rows.ignored_columns),
            }
            # Serialized directly: FastAPI's generic encoder costs as much as the rest of this small request.
            return Response(orjson.dumps(doc), status_code=202, media_type="application/json")

        ticket = budget.ticket()
        try:
            try:
                body = await _body(request, ticket)
            except PayloadError as exc:
                daemon.reject_event(None, reject_reason(exc), str(exc))
                raise ApiError(exc.status, str(exc)) from None
            # A logged inference is usually one small request: handle it on the event loop, skipping the thread
            # hop; what it claims comes from what was reserved for its size, so it never waits there.
            if len(body) <= SMALL_EVENT_BYTES:
                await ticket.reserve_async(min(admission_bytes(len(body)), budget.limit) - ticket.held, prepay=True)
                return work(body, ticket.try_reserve)
            return await run_in_threadpool(work, body, ticket.reserve)
        except BudgetExceededError as exc:
            daemon.reject_event(None, exc.limit, str(exc))
            raise _over_budget(exc) from None
        finally:
            ticket.release()

    @app.post(
        "/v1/monitors/{monitor}/checks",
        tags=["checks"],
        response_model=schemas.CheckRunOut,
        responses=errors(401, 403, 404, 422, 500, 503),
        dependencies=need("admin"),
    )
    async def post_check(monitor: MonitorName) -> dict[str, Any]:
        """Run a check of the open window now and return it."""
        run = await run_in_threadpool(daemon.check_now, monitor, "manual")
        return _run_dict(run)

    @app.post(
        "/v1/monitors/{monitor}/reference/reload",
        tags=["monitors"],
        response_model=schemas.ReferenceReloaded,
        responses=errors(401, 403, 404, 409, 422, 500, 503),
        dependencies=need("admin"),
    )
    async def post_reference_reload(monitor: MonitorName) -> dict[str, Any]:
        """Rebuild the monitor's reference from its files and use it from now on; the loaded one stays on failure."""
        result = await run_in_threadpool(daemon.reload_reference, monitor, "api")
        return _reload_dict(result)

    add_promotion_routes(app, daemon, need)

    @app.get(
        "/v1/monitors",
        tags=["monitors"],
        response_model=schemas.MonitorList,
        responses=errors(401, 403, 500),
        dependencies=need("read"),
    )
    async def get_monitors() -> dict[str, Any]:
        """Every monitor with its live window and latest check."""
        return {"monitors": [_monitor_dict(daemon, name) for name in daemon.monitors]}

    @app.get(
        "/v1/monitors/{monitor}",
        tags=["monitors"],
        response_model=schemas.MonitorOut,
        responses=errors(401, 403, 404, 422, 500),
        dependencies=need("read"),
    )
    async def get_monitor(monitor: MonitorName) -> dict[str, Any]:
        """One monitor: reference, window, ingestion counters and latest check."""
        if monitor not in daemon.monitors:
            raise UnknownMonitorError(monitor, list(daemon.monitors))
        return _monitor_dict(daemon, monitor)

    @app.get(
        "/v1/monitors/{monitor}/checks",
        tags=["checks"],
        response_model=schemas.CheckList,
        responses=errors(401, 403, 404, 422, 500, 503),
        dependencies=need("read"),
    )
    async def get_checks(
        monitor: MonitorName,
        since: Annotated[float | None, Query(description="UTC epoch seconds, inclusive", allow_inf_nan=False)] = None,
        until: Annotated[float | None, Query(description="UTC epoch seconds, exclusive", allow_inf_nan=False)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Stored checks of a monitor, newest first."""
        if monitor not in daemon.monitors:
            raise UnknownMonitorError(monitor, list(daemon.monitors))
        records = await run_in_threadpool(daemon.store.list_checks, monitor, since, until, limit)
        return {"monitor": monitor, "checks": [r.to_dict() for r in records]}

    @app.get(
        "/v1/checks/{check_id}",
        tags=["checks"],
        response_model=schemas.CheckRecordOut,
        responses=errors(401, 403, 404, 422, 500, 503),
        dependencies=need("read"),
    )
    async def get_check(check_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
        """One stored check with its per-feature results."""
        record = await run_in_threadpool(daemon.store.get_check, check_id)
        if record is None:
            raise ApiError(404, f"no check with id {check_id}")
        return {**record.to_dict(), "sample": sample_dict(daemon, record)}

    @app.get(
        "/v1/checks/{check_id}/exemplars",
        tags=["checks"],
        response_model=schemas.ExemplarList,
        responses=errors(401, 403, 404, 422, 500, 503),
        dependencies=need("read"),
    )
    async def get_exemplars(check_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
        """The out-of-distribution rows a stored check kept, redacted, most novel first."""
        found = await run_in_threadpool(daemon.store.get_exemplars, check_id)
        if found is None:
            raise ApiError(404, f"no check with id {check_id}")
        monitor, rows = found
        return {"check_id": check_id, "monitor": monitor, "exemplars": [e.to_dict() for e in rows]}

    install_pages(app, daemon, need)
    add_sample_routes(app, daemon, need)
    add_report_routes(app, daemon, need)

    @app.get(
        "/metrics",
        tags=["process"],
        response_model=None,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **errors(401, 403, 500)},
        dependencies=need(metrics_scope),
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics; OpenMetrics when the Accept header asks for it (docs/metrics.md)."""
        # Off the event loop: a large scrape must not stall ingestion or health checks.
        body, content_type = await run_in_threadpool(exposition, registry, features, request.headers.get("accept"))
        return Response(body, media_type=content_type)

    @app.get("/healthz", tags=["process"], response_model=schemas.Alive, responses=errors(500))
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "alive"}

    @app.get(
        "/readyz",
        tags=["process"],
        response_model=schemas.Ready,
        responses={503: {"model": schemas.ErrorBody, "description": "Not ready; `reasons` says why."}, **errors(500)},
    )
    async def readyz() -> JSONResponse:
        """Scheduler running, every reference loaded and restored; else 503 with the reasons. Storage down: degraded."""
        reasons = await run_in_threadpool(daemon.readiness)
        if reasons:
            # Only replaying spools after a restart: "restoring", which ends by itself.
            status = "restoring" if all(isinstance(r, RestoreReason) for r in reasons) else "not ready"
            return error_response(503, "not ready: " + "; ".join(reasons), status=status, reasons=reasons)
        # Checks wait durably in the outbox, so an unreachable database must not take the pod out of service.
        degraded = daemon.degraded()
        if degraded:
            return JSONResponse({"status": "degraded", "reasons": degraded})
        return JSONResponse({"status": "ready"})

    return app


def _num(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None


def _run_dict(run: CheckRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "stored": run.id is not None,
        "trigger": run.trigger,
        "window_start": run.window_start,
        "window_end": _num(run.window_end),
        **results.to_dict(run.result),
    }


def _reload_dict(r: ReloadResult) -> dict[str, Any]:
    w = r.window
    window = {"type": w.type, "action": w.action, "rows": w.rows, "start": w.start, "end": w.end}
    window["check"] = _run_dict(w.check) if w.check is not None else None
    return {
        "monitor": r.monitor,
        "outcome": r.outcome,
        "old_version": r.old_version,
        "new_version": r.new_version,
        "rows": r.rows,
        "features": r.features,
        "window": window,
    }


def _monitor_dict(daemon: Daemon, name: str) -> dict[str, Any]:
    state = daemon.monitors[name]
    out: dict[str, Any] = {"name": name, "loaded": state.live is not None, "load_error": state.load_error}
    if state.live is not None:
        live = state.live
        seen, sampled = live.window_rows()
        c = live.counters
        profile, problem = live.profile, daemon.reference_problem(name)
        p = live.progress
        out |= {
            "reference": {
                "version": profile.version,
                "rows": profile.rows,
                "source": profile.source,
                "stale": daemon.reference_watch[name].problem is not None,
                "problem": problem,
            },
            "window": {"type": live.settings.type, "rows_seen": seen, "rows_sampled": sampled},
            "ingest": {
                "rows_accepted": c.rows_accepted,
                "rows_rejected": dict(c.rows_rejected),
                "unknown_columns": c.unknown_columns,
                "restored_rows": c.restored_rows,
                "last_ingest_at": c.last_ingest_at,
            },
            "restore": {
                "state": p.state,
                "checkpoint": p.checkpoint,
                "rows": p.rows,
                "checkpoint_rows": p.checkpoint_rows,
                "replayed_rows": p.replayed_rows,
                "seconds": p.seconds,
            },
        }
    out["checks_by_outcome"] = dict(state.checks_by_outcome)
    out["last_check"] = _run_dict(state.last) if state.last is not None else None
    out["last_success_at"] = state.last_success_at
    return out
