"""deploy/compose: every path it names exists, and the services, Prometheus, Alertmanager and Grafana fit together."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftwatch.config import load_config

from .helpers import (
    COMPOSE_DIR,
    DASHBOARD_FILES,
    DASHBOARDS,
    ROOT,
    RULES,
    compose,
    compose_path,
    dockerfile,
    host_path,
    image_path,
    load_yaml,
    mounts,
)

GRAFANA_PROVISIONING = "/etc/grafana/provisioning"


def _service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"no service {name!r} in docker-compose.yml (have {', '.join(services)})"
    return services[name]


def _provisioning(kind: str, name: str) -> tuple[Path, Any]:
    path = host_path(_service("grafana"), f"{GRAFANA_PROVISIONING}/{kind}/{name}")
    assert path is not None, f"grafana mounts nothing at {GRAFANA_PROVISIONING}/{kind}"
    assert path.is_file(), f"{path} (grafana's {GRAFANA_PROVISIONING}/{kind}/{name}) does not exist"
    return path, load_yaml(path)


def test_build_context_and_dockerfile_exist() -> None:
    build = _service("driftwatch")["build"]
    context = compose_path(build["context"])
    assert context == ROOT, f"build context {context} is not the repository root"
    assert (context / build["dockerfile"]).is_file()


def test_bind_mounts_and_env_files_exist() -> None:
    doc = compose()
    declared = set(doc.get("volumes") or {})
    for name, service in doc["services"].items():
        for mount in mounts(service):
            if mount.bind:
                assert compose_path(mount.source).exists(), f"{name}: bind mount source {mount.source} does not exist"
            else:
                assert mount.source in declared, f"{name}: volume {mount.source} is not declared under volumes:"
        env_files = service.get("env_file", [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = env_file if isinstance(env_file, str) else env_file["path"]
            assert compose_path(path).is_file(), f"{name}: env_file {path} does not exist"


def test_every_service_has_an_image_and_published_port() -> None:
    expected = {"driftwatch": 8321, "prometheus": 9090, "alertmanager": 9093, "grafana": 3000}
    for name, port in expected.items():
        service = _service(name)
        assert service.get("image"), f"{name} has no image"
        assert f"{port}:{port}" in service.get("ports", []), f"{name} does not publish {port}"


def test_driftwatch_config_validates_and_uses_the_example_in_the_image() -> None:
    source = host_path(_service("driftwatch"), "/etc/driftwatch/config.yaml")
    assert source == COMPOSE_DIR / "driftwatch.yaml"
    config = load_config(source, environ={})
    assert config.server.host == "0.0.0.0" and config.server.port == 8321
    data_dir = config.data_dir.as_posix()
    assert any(not m.bind and m.target == data_dir for m in mounts(_service("driftwatch"))), (
        f"data_dir {data_dir} is not on a named volume"
    )
    for monitor in config.monitors:
        assert monitor.reference.path is not None
        in_repo = image_path(dockerfile(), monitor.reference.path)
        assert in_repo is not None and in_repo.is_file(), f"{monitor.reference.path} is not copied into the image"


def test_prometheus_scrapes_driftwatch_and_loads_the_rules_file() -> None:
    service = _service("prometheus")
    config_path = host_path(service, "/etc/prometheus/prometheus.yml")
    assert config_path is not None and config_path.is_file()
    config = load_yaml(config_path)
    rule_files = [host_path(service, path) for path in config["rule_files"]]
    assert RULES.resolve() in rule_files, rule_files
    for path in rule_files:
        assert path is not None and path.is_file(), path
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "driftwatch"]
    assert job["scrape_interval"] == "15s"
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert [t for c in job["static_configs"] for t in c["targets"]] == ["driftwatch:8321"]
    targets = [t for am in config["alerting"]["alertmanagers"] for c in am["static_configs"] for t in c["targets"]]
    assert targets == ["alertmanager:9093"]


def test_alertmanager_routes_to_a_defined_receiver() -> None:
    path = host_path(_service("alertmanager"), "/etc/alertmanager/alertmanager.yml")
    assert path is not None and path.is_file()
    config = load_yaml(path)
    receivers = {r["name"] for r in config["receivers"]}

    def walk(route: dict[str, Any]) -> None:
        if "receiver" in route:
            assert route["receiver"] in receivers, route["receiver"]
        for child in route.get("routes", []):
            walk(child)

    assert config["route"]["receiver"] in receivers
    walk(config["route"])


def test_grafana_datasource_is_prometheus_with_uid_prometheus() -> None:
    _, doc = _provisioning("datasources", "prometheus.yml")
    (source,) = doc["datasources"]
    assert source["uid"] == "prometheus" and source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"


def test_grafana_dashboards_come_from_the_repository_dashboards_folder() -> None:
    _, doc = _provisioning("dashboards", "driftwatch.yml")
    (provider,) = doc["providers"]
    folder = host_path(_service("grafana"), provider["options"]["path"])
    assert folder == DASHBOARDS, f"the dashboards provider reads {folder}, not {DASHBOARDS}"
    grafana = _service("grafana")
    (mount,) = [m for m in mounts(grafana) if m.bind and m.target == provider["options"]["path"]]
    assert mount.read_only, "the dashboards folder should be mounted read-only"
    home = grafana.get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        assert host_path(grafana, home) == DASHBOARDS / "driftwatch-overview.json"
    for name in DASHBOARD_FILES:
        assert (folder / name).is_file(), f"{name} is missing from {folder}"


def _datasource_uids(node: Any) -> set[str]:
    uids: set[str] = set()
    if isinstance(node, dict):
        source = node.get("datasource")
        if isinstance(source, dict) and isinstance(source.get("uid"), str):
            uids.add(source["uid"])
        for value in node.values():
            uids |= _datasource_uids(value)
    elif isinstance(node, list):
        for value in node:
            uids |= _datasource_uids(value)
    return uids


@pytest.mark.parametrize("name", DASHBOARD_FILES)
def test_dashboards_use_the_provisioned_datasource(name: str) -> None:
    dashboard = json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))
    # Literal uids must be the provisioned one; "${...}"/"$..." are template variables chosen in the UI.
    literal = {uid for uid in _datasource_uids(dashboard) if not uid.startswith("$") and uid != "-- Grafana --"}
    assert literal <= {"prometheus"}, f"{name} refers to datasources {sorted(literal)}, provisioned is 'prometheus'"


def test_promtool_accepts_the_prometheus_config(tmp_path: Path) -> None:
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's prometheus package (or set PROMTOOL to the binary)")
    service = _service("prometheus")
    config_path = host_path(service, "/etc/prometheus/prometheus.yml")
    assert config_path is not None
    config = load_yaml(config_path)
    # Point rule_files at the repository files the container would see, then let promtool check both.
    config["rule_files"] = [str(host_path(service, path)) for path in config["rule_files"]]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [promtool, "check", "config", str(local)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
