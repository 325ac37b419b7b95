"""Bearer tokens with scopes against the real daemon: every route x every kind of credential, and the startup guard."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Mount

from driftwatch.config import parse_config
from driftwatch.errors import ConfigError
from driftwatch.serve.auth import is_loopback
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.routes import create_app

from .harness import DaemonProcess, free_port, write_config

INGEST, READ, ADMIN = "ingest-Tk.1", "read-Tk_2", "admin-Tk~3"
TOKENS = {"ingest": INGEST, "read": READ, "admin": ADMIN}
AUTH = f"""server:
  auth:
    tokens:
      - {{token: {INGEST}, scopes: [ingest]}}
      - {{token: "${{DW_TEST_READ_TOKEN}}", scopes: [read]}}
      - {{token: {ADMIN}, scopes: [admin]}}
    metrics_requires_token: true
ingest:
  cloudevents: [{{inference_service: triage-model, monitor: triage}}]
"""


@dataclass(frozen=True)
class Call:
    """A request to one route and the status it gets once authorized."""

    scope: str | None
    method: str
    url: str
    status: int
    kwargs: dict[str, Any] = field(default_factory=dict)


JSON_ROW = {"content": b'[{"patient_age": 30}]', "headers": {"content-type": "application/json"}}
# Every route of the app, by (method, path template): its scope and a request that succeeds (or fails after auth).
CALLS = {
    ("POST", "/v1/monitors/{monitor}/rows"): Call("ingest", "POST", "/v1/monitors/triage/rows", 202, JSON_ROW),
    # No CloudEvents attributes: past authorization, it is a 400.
    ("POST", "/v1/cloudevents"): Call("ingest", "POST", "/v1/cloudevents", 400, {"content": b"{}"}),
    ("POST", "/v1/monitors/{monitor}/checks"): Call("admin", "POST", "/v1/monitors/triage/checks", 200),
    # The example reference never changes: past authorization, a reload finds nothing to do (200, unchanged).
    ("POST", "/v1/monitors/{monitor}/reference/reload"): Call(
        "admin", "POST", "/v1/monitors/triage/reference/reload", 200
    ),
    # No such check: past authorization, a promotion is refused with a 404.
    ("POST", "/v1/monitors/{monitor}/reference/promote"): Call(
        "admin",
        "POST",
        "/v1/monitors/triage/reference/promote",
        404,
        {"content": b'{"check": 999999, "reason": "x"}', "headers": {"content-type": "application/json"}},
    ),
    ("GET", "/v1/monitors"): Call("read", "GET", "/v1/monitors", 200),
    ("GET", "/v1/monitors/{monitor}"): Call("read", "GET", "/v1/monitors/triage", 200),
    ("GET", "/v1/monitors/{monitor}/checks"): Call("read", "GET", "/v1/monitors/triage/checks", 200),
    ("GET", "/v1/checks/{check_id}"): Call("read", "GET", "/v1/checks/999999", 404),
    ("GET", "/v1/checks/{check_id}/exemplars"): Call("read", "GET", "/v1/checks/999999/exemplars", 404),
    # The pages show what the read API answers, so they need the same scope.
    ("GET", "/ui/"): Call("read", "GET", "/ui/", 200),
    ("GET", "/ui/monitors/{monitor}"): Call("read", "GET", "/ui/monitors/triage", 200),
    ("GET", "/v1/checks/{check_id}/sample"): Call("read", "GET", "/v1/checks/999999/sample", 404),
    ("GET", "/v1/checks/{check_id}/report"): Call("read", "GET", "/v1/checks/999999/report", 404),
    ("GET", "/metrics"): Call("read", "GET", "/metrics", 200),
    ("GET", "/healthz"): Call(None, "GET", "/healthz", 200),
    ("GET", "/readyz"): Call(None, "GET", "/readyz", 200),
    # The API's description holds no data, and a browser cannot send a token for /docs and its scripts.
    ("GET", "/openapi.json"): Call(None, "GET", "/openapi.json", 200),
    ("GET", "/docs"): Call(None, "GET", "/docs", 200),
    ("GET", "/docs/oauth2-redirect"): Call(None, "GET", "/docs/oauth2-redirect", 200),
    ("GET", "/docs-static"): Call(None, "GET", "/docs-static/swagger-ui.css", 200),
    # Browsers ask for it on every page, a JSON answer included: it redirects to the icon of /docs.
    ("GET", "/favicon.ico"): Call(None, "GET", "/favicon.ico", 308),
}
# Authorization headers that carry no valid token, and ones that do.
REFUSED = {
    "none": None,
    "wrong": f"Bearer {INGEST}x",
    "bare": ADMIN,
    "basic": f"Basic {ADMIN}",
    "scheme only": "Bearer",
}
GRANTED = {
    **{f"scope {scope}": (f"Bearer {token}", scope) for scope, token in TOKENS.items()},
    "lowercase bearer": (f"bearer {ADMIN}", "admin"),
    "uppercase BEARER": (f"BEARER {READ}", "read"),
}


def _routes(config_text: str) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, taken from app.routes so that a new route cannot be left out."""
    app = create_app(Daemon(parse_config(config_text, environ={"DW_TEST_READ_TOKEN": READ})))
    out = set()
    for route in app.routes:
        if isinstance(route, Mount):
            out.add(("GET", route.path))
        else:
            out |= {(m, route.path) for m in route.methods if m != "HEAD"}
    return out


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    folder = tmp_path_factory.mktemp("auth")
    os.environ["DW_TEST_READ_TOKEN"] = READ  # the read token comes from the environment
    try:
        proc = DaemonProcess(write_config(folder, extra=AUTH)).start()
    finally:
        del os.environ["DW_TEST_READ_TOKEN"]
    yield proc
    assert proc.stop() == 0, proc.log()


def test_every_route_is_in_the_matrix(daemon: DaemonProcess) -> None:
    assert _routes(daemon.config.read_text()) == set(CALLS)


def _send(client: httpx.Client, call: Call, authorization: str | None) -> httpx.Response:
    headers = dict(call.kwargs.get("headers", {}))
    if authorization is not None:
        headers["authorization"] = authorization
    return client.request(call.method, call.url, content=call.kwargs.get("content"), headers=headers)


@pytest.mark.parametrize("route", list(CALLS), ids=" ".join)
def test_auth_matrix(daemon: DaemonProcess, route: tuple[str, str]) -> None:
    call = CALLS[route]
    with daemon.client() as c:
        for name, authorization in REFUSED.items():
            resp = _send(c, call, authorization)
            if call.scope is None:
                assert resp.status_code == call.status, (name, resp.text)
                continue
            assert resp.status_code == 401, (name, resp.text)
            assert resp.headers["www-authenticate"].startswith("Bearer"), name
            assert set(resp.json()) == {"error"} and resp.json()["error"], name
        for name, (authorization, scope) in GRANTED.items():
            resp = _send(c, call, authorization)
            allowed = call.scope is None or scope in (call.scope, "admin")
            expected = call.status if allowed else 403
            assert resp.status_code == expected, (name, resp.text)
            if expected == 403:
                assert resp.json() == {"error": f"the token lacks the '{call.scope}' scope this operation needs"}


def test_the_openapi_document_declares_bearer_auth_and_each_operations_scope(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        spec = c.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    documented = {(m.upper(), path): op for path, ops in spec["paths"].items() for m, op in ops.items()}
    assert set(documented) <= set(CALLS)
    for route, op in documented.items():
        scope = CALLS[route].scope
        assert op.get("security") == ([{"bearer": [scope]}] if scope else None), route
        if scope:
            assert {"401", "403"} <= set(op["responses"]), route


def test_refusals_are_counted_and_tokens_never_logged(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        c.get("/v1/monitors", headers={"authorization": f"Bearer {ADMIN}-wrong"})
        metrics = c.get("/metrics", headers={"authorization": f"Bearer {READ}"}).text
    line = 'driftwatch_http_requests_total{method="GET",route="/v1/monitors",status_class="4xx"}'
    assert any(row.startswith(line) and float(row.split()[-1]) >= 1 for row in metrics.splitlines()), metrics
    log = daemon.log()
    assert log and all(token not in log for token in TOKENS.values())


def test_metrics_open_by_default_and_the_deprecated_ingest_token(tmp_path: Path) -> None:
    extra = "ingest: {token: legacy-Tk}\n"
    proc = DaemonProcess(write_config(tmp_path, extra=extra)).start()
    try:
        with proc.client() as c:
            assert c.get("/metrics").status_code == 200
            assert c.get("/v1/monitors").status_code == 401
            legacy = {"authorization": "Bearer legacy-Tk"}
            assert c.get("/v1/monitors", headers=legacy).status_code == 403
            row = {**JSON_ROW["headers"], **legacy}
            assert c.post("/v1/monitors/triage/rows", content=JSON_ROW["content"], headers=row).status_code == 202
    finally:
        assert proc.stop() == 0
    assert "ingest.token is deprecated" in proc.log() and "legacy-Tk" not in proc.log()


def _run(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "driftwatch", "run", "-c", str(config), "--port", str(free_port()), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("where", ["--host", "server.host"])
def test_refuses_a_non_loopback_address_without_a_token(tmp_path: Path, where: str) -> None:
    extra = "server: {host: 0.0.0.0}\n" if where == "server.host" else ""
    result = _run(write_config(tmp_path, extra=extra), *(["--host", "0.0.0.0"] if where == "--host" else []))
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert "refusing to listen on 0.0.0.0" in message and "server.allow_unauthenticated: true" in message


@pytest.mark.parametrize(
    "extra",
    [
        "server: {allow_unauthenticated: true}\n",
        f"server: {{auth: {{tokens: [{{token: {ADMIN}, scopes: [admin]}}]}}}}\n",
    ],
    ids=["allow_unauthenticated", "with a token"],
)
def test_starts_on_a_non_loopback_address_when_allowed_or_guarded(tmp_path: Path, extra: str) -> None:
    proc = DaemonProcess(write_config(tmp_path, extra=extra), args=("--host", "0.0.0.0")).start()
    try:
        with proc.client() as c:
            status = c.get("/v1/monitors").status_code
        assert status == (200 if "allow_unauthenticated" in extra else 401)
    finally:
        assert proc.stop() == 0


def _problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text + "monitors: [{name: m, reference: {path: r.csv}}]\n", environ=environ or {})
    return info.value.problems


@pytest.mark.parametrize(
    ("auth", "problem"),
    [
        ("{tokens: [{token: a1, scopes: [write]}]}", "server.auth.tokens[0].scopes[0]: Input should be 'ingest',"),
        ("{tokens: [{token: a1}]}", "server.auth.tokens[0].scopes: required key is missing"),
        ("{tokens: [{token: a1, scopes: []}]}", "server.auth.tokens[0].scopes: List should have at least 1 item"),
        ("{tokens: [{token: a1, scopes: [read], role: x}]}", "server.auth.tokens[0].role: unknown key 'role'"),
        ("{tokens: [{token: 'se cret', scopes: [read]}]}", "server.auth.tokens[0].token: a token may hold only"),
        ("{tokens: [{token: a1, scopes: [read]}, {token: a1, scopes: [admin]}]}", "two entries hold the same token"),
        ("{metrics_requires_token: maybe}", "server.auth.metrics_requires_token: Input should be a valid boolean"),
        ("{tokens: [{token: '${NOPE}', scopes: [read]}]}", "environment variable NOPE is not set"),
    ],
)
def test_config_errors_name_the_key_and_never_the_token(auth: str, problem: str) -> None:
    problems = _problems(f"server: {{auth: {auth}}}\n")
    assert any(problem in p for p in problems), problems
    assert not any("se cret" in p for p in problems)


def test_tokens_from_the_environment_and_the_deprecated_alias() -> None:
    text = """server:
  auth:
    tokens:
      - {token: '${DW_A:-}', scopes: [admin]}
      - {token: '${DW_R:-}', scopes: [read]}
ingest: {token: legacy}
monitors: [{name: m, reference: {path: r.csv}}]
"""
    config = parse_config(text, environ={"DW_A": "from-env"})
    # DW_R is unset: its entry is dropped rather than matching an empty token.
    assert [(t.token, t.scopes) for t in config.tokens] == [("from-env", ["admin"]), ("legacy", ["ingest"])]
    assert config.token_for("read") == "from-env" and config.token_for("ingest") == "from-env"
    assert parse_config(text, environ={}).token_for("read") is None
    assert _problems("ingest: {token: 'two words'}\n") == [
        "ingest.token: a token may hold only letters, digits and -._~+/ (then '=' padding), no spaces"
    ]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        *[("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True)],
        *[("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("driftwatch.internal", False)],
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
