"""HTTP request metrics: counts and latency by route template and status class (docs/metrics.md)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# From a cached scrape or a small CloudEvent (sub-millisecond) to a large Arrow upload or a manual check.
HTTP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Label values for requests that matched no route and for methods outside the standard set: bounded cardinality.
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    """Pure ASGI middleware: one counter increment and one histogram observation per request."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry):
        self.app = app
        self.requests = Counter(
            "driftwatch_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            ["method", "route", "status_class"],
            registry=registry,
        )
        self.latency = Histogram(
            "driftwatch_http_request_duration_seconds",
            "Time from receiving a request to the end of its answer, by method and route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._templates: dict[object, str] | None = None

    def _route(self, scope: Scope) -> str:
        """The matched route's path template; plain routes and mounts are found by their endpoint."""
        route = scope.get("route")
        if route is not None:
            return route.path
        if self._templates is None:
            self._templates = {}
            for r in getattr(scope.get("app"), "routes", ()):
                if isinstance(r, Mount):
                    self._templates[r.app] = r.path + "/{path}"
                elif isinstance(r, Route):
                    self._templates[r.endpoint] = r.path
        return self._templates.get(scope.get("endpoint"), UNMATCHED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        t0 = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - t0
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = self._route(scope)
            key = (method, route, f"{status // 100}xx")
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (self.requests.labels(*key), self.latency.labels(method, route))
            children[0].inc()
            children[1].observe(elapsed)
