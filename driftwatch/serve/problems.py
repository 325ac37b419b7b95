"""Every error the HTTP API answers, mapped to one JSON body `{"error": ..., <detail>}` in this one place."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from driftwatch.errors import DataError, DiskFullError, DriftwatchError, MonitorRestoringError, UnknownMonitorError
from driftwatch.ingest.payloads import PayloadError
from driftwatch.serve.daemon import MonitorUnavailableError
from driftwatch.serve.references import ReferenceReloadError
from driftwatch.storage import StorageError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with its HTTP status and optional detail fields."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any):
        self.status = status
        self.message = message
        self.headers = headers
        self.extra = extra
        super().__init__(message)


def error_response(code: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """The one error body."""
    return JSONResponse({"error": message, **extra}, status_code=code, headers=headers)


def install(app: FastAPI) -> None:
    """Register the exception handlers and the catch-all that turns any other exception into a JSON 500."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(DriftwatchError)
    async def _driftwatch_error(_: Request, exc: DriftwatchError) -> JSONResponse:
        if isinstance(exc, UnknownMonitorError):
            return error_response(404, str(exc), monitors=exc.valid)
        if isinstance(exc, ReferenceReloadError):
            return error_response(exc.status, str(exc), reason=exc.reason, reference_version=exc.kept)
        if isinstance(exc, MonitorRestoringError):  # nothing was kept: the client retries once it is restored
            return error_response(503, str(exc), {"Retry-After": str(exc.retry_after)}, status="restoring")
        return error_response(status_for(exc), str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            return error_response(404, f"no such path: {request.url.path}", headers)
        if exc.status_code == 405:
            allowed = [m.strip() for m in headers.get("Allow", headers.get("allow", "")).split(",") if m.strip()]
            message = f"method {request.method} not allowed on {request.url.path} (allowed: {', '.join(allowed)})"
            return error_response(405, message, headers, allowed=allowed)
        return error_response(exc.status_code, str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: the offending input itself is not echoed back (it may be personal data).
        problems = [
            {"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
        return error_response(422, f"invalid request: {summary}", problems=problems)

    app.add_middleware(CatchAll)


def status_for(exc: DriftwatchError) -> int:
    """The HTTP status of an error raised on purpose."""
    if isinstance(exc, UnknownMonitorError):
        return 404
    if isinstance(exc, ReferenceReloadError):
        return exc.status
    if isinstance(exc, DiskFullError):
        return 507  # Insufficient Storage: the client may retry once space is freed
    if isinstance(exc, MonitorUnavailableError | MonitorRestoringError | StorageError):
        return 503
    if isinstance(exc, PayloadError):
        return exc.status
    if isinstance(exc, DataError):
        return 400
    return 500


_INTERNAL = orjson.dumps({"error": "internal server error; the daemon's log has the details"})


class CatchAll:
    """Any exception no handler took: a JSON 500 (counted by the HTTP metrics), logged without request data."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "unmatched")
            # Frames only: an exception's message may quote the rows or headers that caused it.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unhandled %s in %s %s\n%s", type(exc).__name__, scope.get("method"), route, frames)
            if started:
                raise  # the status is already sent: let the server close the connection
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(_INTERNAL)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": _INTERNAL})
