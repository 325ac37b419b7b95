"""The routes of the pages under /ui/: they read the daemon's history and answer HTML, errors included."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from driftwatch.config import Scope
from driftwatch.errors import UnknownMonitorError
from driftwatch.serve.daemon import Daemon
from driftwatch.storage import StorageError
from driftwatch.ui.timerange import RangeError, TimeRange, parse_range
from driftwatch.ui.views import MonitorRow, MonitorView, error_page, monitor_page, monitors_page, worst_check

# Checks one page shows at most (a 6 h range at a 30 s schedule is 720): more and the page says to narrow the range.
MAX_CHECKS = 1000
# Scripts, frames, fonts and images from anywhere are refused: the pages are whole as served, styles inline.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none';"
        " frame-ancestors 'none'"
    ),
    # A link to the report or to another site must not carry the page's address (monitor, range) along.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class CheckNotInRangeError(LookupError):
    """A `check` that is not one of the page's checks."""


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _check_id(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1 <= int(raw) < 2**63:
        raise RangeError("'check' must be a check id, a whole number from 1")
    return int(raw)


def install_pages(
    app: FastAPI, daemon: Daemon, need: Callable[[Scope | None], list[Any]], clock: Callable[[], float] = time.time
) -> None:
    """Serve GET /ui/ and GET /ui/monitors/{monitor} with the `read` scope (docs/api.md#pages)."""

    def monitor_rows() -> list[MonitorRow]:
        rows = []
        for name, state in daemon.monitors.items():
            latest = daemon.store.list_checks(name, limit=1)
            rows.append(MonitorRow(name, latest[0] if latest else None, state.load_error))
        return rows

    def monitor_view(monitor: str, span: TimeRange, check: int | None, now_ms: int) -> MonitorView:
        records = daemon.store.list_checks(monitor, span.since, span.until, MAX_CHECKS, with_features=True)
        chosen = worst_check(records) if check is None else next((r for r in records if r.id == check), None)
        if check is not None and chosen is None:
            raise CheckNotInRangeError(
                f"check {check} is not a check of monitor '{monitor}' started in this range; open the page without"
                " 'check' to see the range's checks"
            )
        features = {r.id: r.to_result().features for r in records}
        truncated = len(records) == MAX_CHECKS
        return MonitorView(monitor, span, records, features, chosen, check is None, truncated, now_ms)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        """The icon browsers ask for on any page, the JSON answers a page links to included: the one of /docs."""
        return RedirectResponse("/docs-static/favicon.png", 308, headers={"Cache-Control": "max-age=86400"})

    @app.get("/ui/", include_in_schema=False, response_class=HTMLResponse, dependencies=need("read"))
    async def ui_monitors() -> HTMLResponse:
        """Every configured monitor with its latest check."""
        try:
            rows = await run_in_threadpool(monitor_rows)
        except StorageError as exc:
            return _html(error_page(503, f"the check history cannot be read now: {exc}"), 503)
        return _html(monitors_page(rows))

    @app.get("/ui/monitors/{monitor}", include_in_schema=False, response_class=HTMLResponse, dependencies=need("read"))
    async def ui_monitor(
        monitor: Annotated[str, Path()],
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: Annotated[str | None, Query()] = None,
        check: Annotated[str | None, Query()] = None,
    ) -> HTMLResponse:
        """One monitor's checks from `from` to `to` (ms since the epoch; default the last 6 hours)."""
        if monitor not in daemon.monitors:
            return _html(error_page(404, str(UnknownMonitorError(monitor, list(daemon.monitors)))), 404)
        now_ms = int(clock() * 1000)
        try:
            span = parse_range(from_, to, now_ms)
            check_id = _check_id(check)
        except RangeError as exc:
            return _html(error_page(422, f"invalid request: {exc}"), 422)
        try:
            view = await run_in_threadpool(monitor_view, monitor, span, check_id, now_ms)
        except StorageError as exc:
            return _html(error_page(503, f"the check history cannot be read now: {exc}"), 503)
        except CheckNotInRangeError as exc:
            return _html(error_page(404, str(exc)), 404)
        return _html(monitor_page(view))
