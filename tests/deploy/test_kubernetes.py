"""deploy/kubernetes: well-formed manifests that kustomize lists completely and that agree with each other."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from driftwatch.config import parse_config

from .helpers import (
    KUBERNETES,
    compose,
    dockerfile,
    find,
    host_path,
    image_path,
    load_yaml,
    manifests,
    pod_containers,
)

SIDECAR = "driftwatch"
GENERATOR = KUBERNETES / "generate_prometheusrule.py"


def _kustomizations() -> list[Path]:
    return sorted(KUBERNETES.rglob("kustomization.yaml"))


def _config() -> tuple[str, Any]:
    text = find("ConfigMap", "driftwatch-config")["data"]["config.yaml"]
    # Reference files are not read by validation; the sidecar's env does not set these variables.
    return text, parse_config(text, source="configmap.yaml", base_dir=Path("/etc/driftwatch"), environ={})


def _sidecar() -> dict[str, Any]:
    (container,) = [c for c in pod_containers(find("Deployment")) if c["name"] == SIDECAR]
    return container


def _port(container: dict[str, Any], probe: dict[str, Any]) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    return number


def test_every_manifest_has_api_version_kind_and_name() -> None:
    found = manifests()
    assert found
    for path, docs in found.items():
        assert docs, f"{path} holds no document"
        for doc in docs:
            assert isinstance(doc, dict), f"{path}: a document is not a mapping"
            assert doc.get("apiVersion") and doc.get("kind"), f"{path}: missing apiVersion or kind"
            assert doc.get("metadata", {}).get("name"), f"{path}: {doc['kind']} has no metadata.name"


@pytest.mark.parametrize("kustomization", _kustomizations(), ids=lambda p: str(p.relative_to(KUBERNETES)))
def test_kustomization_lists_exactly_the_manifests_in_its_folder(kustomization: Path) -> None:
    doc = load_yaml(kustomization)
    assert doc["apiVersion"] == "kustomize.config.k8s.io/v1beta1" and doc["kind"] == "Kustomization"
    folder = kustomization.parent
    listed = doc.get("resources", [])
    assert len(listed) == len(set(listed)), f"{kustomization}: a resource is listed twice"
    present = {p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert set(listed) == present, f"{kustomization}: lists {sorted(listed)}, the folder has {sorted(present)}"


def test_every_file_is_a_resource_a_generator_input_or_the_rule_generator() -> None:
    used = {GENERATOR}
    for kustomization in _kustomizations():
        doc = load_yaml(kustomization)
        used.add(kustomization)
        used |= {kustomization.parent / name for name in doc.get("resources", [])}
        for generator in doc.get("configMapGenerator", []):
            for entry in generator.get("files", []):
                path = kustomization.parent / entry.split("=")[-1]
                assert path.is_file(), f"{kustomization}: configMapGenerator file {entry} does not exist"
                used.add(path)
    files = {p for p in KUBERNETES.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert files - used == set(), f"files no kustomization uses: {sorted(map(str, files - used))}"


def test_configmap_config_validates_and_routes_the_inference_service() -> None:
    _, config = _config()
    isvc = find("InferenceService")
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    routes = [r for r in config.ingest.cloudevents if r.inference_service == isvc["metadata"]["name"]]
    assert routes, f"no ingest.cloudevents route for InferenceService {isvc['metadata']['name']}"
    assert config.server.host == "0.0.0.0" and config.server.port == 8321
    for monitor in config.monitors:
        assert monitor.reference.path is not None
        in_repo = image_path(dockerfile(), monitor.reference.path)
        assert in_repo is not None and in_repo.is_file(), f"{monitor.reference.path} is not in the image"


def test_inference_service_logs_to_the_sidecar_service() -> None:
    logger = find("InferenceService")["spec"]["predictor"]["logger"]
    assert logger["mode"] == "all"
    url = urlsplit(logger["url"])
    service = find("Service")
    namespace = load_yaml(KUBERNETES / "kustomization.yaml")["namespace"]
    assert load_yaml(KUBERNETES / "kserve" / "kustomization.yaml")["namespace"] == namespace
    assert url.hostname == f"{service['metadata']['name']}.{namespace}.svc.cluster.local", url.hostname
    assert url.path == "/v1/cloudevents"
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    assert port["name"] == "metrics" and port["targetPort"] == 8321


def test_service_monitor_scrapes_the_metrics_port_of_the_sidecar() -> None:
    monitor = find("ServiceMonitor")
    service = find("Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == "metrics"]
    assert port["targetPort"] in [p["containerPort"] for p in _sidecar()["ports"]]
    deployment = find("Deployment")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    # The same job label as docker compose's scrape job, which the dashboards select on.
    prometheus = load_yaml(host_path(compose()["services"]["prometheus"], "/etc/prometheus/prometheus.yml"))
    (job,) = [j["job_name"] for j in prometheus["scrape_configs"] if "driftwatch:8321" in str(j["static_configs"])]
    relabel = [r for r in endpoint.get("relabelings", []) if r.get("targetLabel") == "job"]
    assert [r["replacement"] for r in relabel] == [job]


def test_sidecar_probes_volumes_and_limits() -> None:
    deployment = find("Deployment")
    sidecar = _sidecar()
    # A native sidecar: an init container that keeps running beside the model.
    assert sidecar in deployment["spec"]["template"]["spec"].get("initContainers", [])
    assert sidecar["restartPolicy"] == "Always"
    assert sidecar["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert sidecar["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert _port(sidecar, sidecar[probe]) == 8321, probe
    assert sidecar["args"][:3] == ["run", "-c", "/etc/driftwatch/config.yaml"]
    _, config = _config()
    mounted = {PurePosixPath(m["mountPath"]): m["name"] for m in sidecar["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    config_volume = volumes[mounted[PurePosixPath("/etc/driftwatch")]]
    assert config_volume["configMap"]["name"] == "driftwatch-config"
    data_volume = volumes[mounted[PurePosixPath(config.data_dir.as_posix())]]
    claim = data_volume["persistentVolumeClaim"]["claimName"]
    assert find("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteOnce"]
    # One writer for the ReadWriteOnce volume and SQLite: never two pods at once.
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    for container in pod_containers(deployment):
        resources = container["resources"]
        for key in ("cpu", "memory"):
            assert resources["requests"][key] and resources["limits"][key], f"{container['name']}: {key}"


def test_pod_runs_as_the_image_user_without_privileges() -> None:
    pod = find("Deployment")["spec"]["template"]["spec"]
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == security["fsGroup"] == 10001  # the uid of deploy/docker/Dockerfile's USER
    user = [i.args for i in dockerfile() if i.keyword == "USER"][-1]
    assert user.split(":")[0] == str(security["runAsUser"])
    for container in pod_containers(find("Deployment")):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]


def test_images_are_named_in_both_kustomizations() -> None:
    images = {c["image"].split(":")[0] for c in pod_containers(find("Deployment"))}
    images |= {c["image"].split(":")[0] for c in find("InferenceService")["spec"]["predictor"]["containers"]}
    for kustomization in _kustomizations():
        named = {entry["name"] for entry in load_yaml(kustomization).get("images", [])}
        assert named, f"{kustomization} names no image to override"
        assert named <= images, f"{kustomization}: images {sorted(named - images)} are used by no container"
