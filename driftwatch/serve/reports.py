"""GET /v1/checks/{id}/report: a stored check as a self-contained HTML page, rendered once and kept under data_dir."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from driftwatch.config import Scope
from driftwatch.report import render_report
from driftwatch.report.cache import FOLDER, ReportCache
from driftwatch.report.html import CSP
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.problems import ApiError
from driftwatch.serve.schemas import MAX_ID, errors

log = logging.getLogger(__name__)
# Says whether a page came from data_dir/reports ("hit") or was rendered for this request ("miss").
CACHE_HEADER = "x-driftwatch-report-cache"


def add_report_routes(app: FastAPI, daemon: Daemon, need: Callable[[Scope | None], list[Any]]) -> None:
    """Add the report route to the daemon's app, its pages cached in data_dir/reports."""
    cache = ReportCache(daemon.config.data_dir / FOLDER)

    def page(check_id: int) -> tuple[bytes, str]:
        around = daemon.store.neighbours(check_id)
        if around is None:
            raise ApiError(404, f"no check with id {check_id}")
        previous_id, next_id = around
        cached = cache.read(check_id, previous_id, next_id)
        if cached is not None:
            return cached, "hit"
        record = daemon.store.get_check(check_id)
        found = daemon.store.get_exemplars(check_id)
        if record is None or found is None:  # deleted by retention since the neighbours were read
            raise ApiError(404, f"no check with id {check_id}")
        body = render_report(record, found[1], previous_id=previous_id, next_id=next_id).encode()
        try:
            cache.write(check_id, previous_id, next_id, body)
        except OSError as exc:  # a full disk costs the cache, not the page
            log.warning("report not cached", extra={"check_id": check_id, "error": str(exc)})
        return body, "miss"

    @app.get(
        "/v1/checks/{check_id}/report",
        tags=["checks"],
        response_model=None,
        responses={
            200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report page."},
            **errors(401, 403, 404, 422, 500, 503),
        },
        dependencies=need("read"),
    )
    async def get_report(check_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        """One stored check as a self-contained HTML page (inline CSS and SVG): verdict, charts, OOD, exemplars."""
        body, how = await run_in_threadpool(page, check_id)
        headers = {CACHE_HEADER: how, "content-security-policy": CSP}
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
