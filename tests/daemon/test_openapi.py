"""The OpenAPI document against the real daemon: schemathesis finds no 5xx and no undocumented status or body."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from prometheus_client.parser import text_string_to_metric_families
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .harness import DaemonProcess, write_config

# Examples per operation and generation mode: about 20 s for the whole API on a shared machine.
EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    folder = tmp_path_factory.mktemp("openapi")
    proc = DaemonProcess(write_config(folder, extra="ingest: {max_body_bytes: 200000}\n")).start()
    yield proc
    assert proc.stop() == 0, proc.log()


@pytest.fixture(scope="module")
def api(daemon: DaemonProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{daemon.url}/openapi.json")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(api: schemathesis.BaseSchema, daemon: DaemonProcess, mode: GenerationMode) -> None:
    """Valid and invalid requests to every operation: bounded, reproducible examples (derandomized)."""
    failures: dict[str, str] = {}
    tested: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=daemon.url, checks=CHECKS, timeout=30)

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid: no parameters, or only free strings (a monitor name) and headers.
            assert mode == GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # collected, so that one failing operation does not hide the others
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
        else:
            tested.append(operation.label)
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    routes = {"GET /v1/monitors/{monitor}/checks", "GET /v1/checks/{check_id}", "GET /v1/checks/{check_id}/exemplars"}
    assert routes <= set(tested)
    with daemon.client() as c:
        assert c.get("/healthz").status_code == 200


def test_the_error_body_is_the_same_everywhere(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        resp = c.get("/no/such/path")
        assert resp.status_code == 404 and resp.json() == {"error": "no such path: /no/such/path"}
        resp = c.delete("/v1/monitors")
        assert resp.status_code == 405 and resp.headers["allow"] == "GET"
        assert resp.json() == {
            "error": "method DELETE not allowed on /v1/monitors (allowed: GET)",
            "allowed": ["GET"],
        }
        resp = c.get("/v1/monitors/triage/checks", params={"limit": 0, "since": "nan"})
        assert resp.status_code == 422
        doc = resp.json()
        assert [p["location"] for p in doc["problems"]] == ["query.since", "query.limit"]
        assert doc["error"].startswith("invalid request: query.since: ") and "query.limit" in doc["error"]
        assert set(doc) == {"error", "problems"}  # FastAPI's own {"detail": ...} never leaks out
        resp = c.get("/v1/checks/99999999999999999999")
        assert resp.status_code == 422 and resp.json()["problems"][0]["location"] == "path.check_id"
        resp = c.get("/v1/monitors/nope")
        assert resp.status_code == 404
        assert resp.json() == {"error": "unknown monitor 'nope' (valid: triage)", "monitors": ["triage"]}
        spec = c.get("/openapi.json").json()
        for path, operations in spec["paths"].items():
            for method, op in operations.items():
                for status, answer in op["responses"].items():
                    if status.startswith(("4", "5")):
                        ref = answer["content"]["application/json"]["schema"]["$ref"]
                        assert ref == "#/components/schemas/ErrorBody", (method, path, status)
                    else:
                        assert answer.get("content"), (method, path, status)
        assert "HTTPValidationError" not in spec["components"]["schemas"]
        body = spec["paths"]["/v1/monitors/{monitor}/rows"]["post"]["requestBody"]["content"]
        assert set(body) == {
            "application/json",
            "application/x-ndjson",
            "application/jsonl",
            "application/vnd.apache.arrow.stream",
        }


def test_docs_render_without_internet(daemon: DaemonProcess) -> None:
    """/docs and every asset it references come from the daemon itself."""
    with daemon.client() as c:
        page = c.get("/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text
        urls = re.findall(r"""(?:href|src|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
        assert not [u for u in urls if re.match(r"(https?:)?//", u)], urls
        assets = [u for u in urls if u.startswith("/") and u != "/openapi.json"]
        assert {"/docs-static/swagger-ui-bundle.js", "/docs-static/swagger-ui.css"} <= set(assets)
        for url in assets:
            resp = c.get(url)
            assert resp.status_code == 200 and len(resp.content) > 0, url
        js = c.get("/docs-static/swagger-ui-bundle.js")
        assert "javascript" in js.headers["content-type"] and len(js.content) > 500_000
        assert c.get("/openapi.json").json()["openapi"].startswith("3.")


def test_http_metrics_by_route_template_and_status_class(daemon: DaemonProcess) -> None:
    with daemon.client() as c:

        def count(method: str, route: str, status_class: str) -> float:
            text = c.get("/metrics").text
            for family in text_string_to_metric_families(text):
                if family.name == "driftwatch_http_requests":
                    for s in family.samples:
                        if s.labels == {"method": method, "route": route, "status_class": status_class}:
                            return s.value
            return 0.0

        before = count("GET", "/v1/monitors/{monitor}", "4xx"), count("GET", "unmatched", "4xx")
        for name in ("a", "b", "c"):
            assert c.get(f"/v1/monitors/{name}").status_code == 404
            assert c.get(f"/raw/{name}").status_code == 404
        assert count("GET", "/v1/monitors/{monitor}", "4xx") == before[0] + 3
        assert count("GET", "unmatched", "4xx") == before[1] + 3
        text = c.get("/metrics").text
        assert 'route="/raw/a"' not in text and 'route="/v1/monitors/a"' not in text
        assert 'driftwatch_http_request_duration_seconds_bucket{le="0.0005",method="GET",route="/metrics"}' in text
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "python_info", "python_gc"):
            assert name in text, name
