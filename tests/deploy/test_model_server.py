"""The Kubernetes example's pod, run locally: the placeholder model (model/app.py) beside a real driftwatch daemon.

The model and the sidecar start with the Deployment's own commands and the ConfigMap's config (paths in the image
mapped back to the repository, ports made free), so the wiring the manifests describe is what is tested.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .helpers import KUBERNETES, dockerfile, find, image_path, load_module, pod_containers

MODEL_DIR = KUBERNETES / "model"


@pytest.fixture(scope="module")
def model() -> Any:
    return load_module(MODEL_DIR / "app.py")


def test_urgency_rule_known_answers(model: Any) -> None:
    assert model.urgency({}) == "low"
    assert model.urgency({"pain_score": 5}) == "medium"
    assert model.urgency({"pain_score": 8, "heart_rate": 101}) == "high"
    assert model.urgency({"systolic_bp": 85, "arrival_mode": "ambulance"}) == "critical"
    # Missing, non-numeric and non-finite vitals count as normal, as in driftwatch.demo.
    assert model.urgency({"pain_score": None, "heart_rate": "fast", "temperature_c": float("nan")}) == "low"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _container(name: str) -> dict[str, Any]:
    (container,) = [c for c in pod_containers(find("Deployment")) if c["name"] == name]
    return container


def _option(args: list[str], name: str, value: str) -> list[str]:
    """`args` with the value after `name` replaced."""
    i = args.index(name)
    return [*args[: i + 1], value, *args[i + 2 :]]


def _start(argv: list[str], env: dict[str, str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{argv[:3]} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{argv[:3]} did not answer /healthz within 60 s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(model URL, driftwatch URL) of the pod's two containers, started as the Deployment starts them."""
    folder = tmp_path_factory.mktemp("pod")
    config = yaml.safe_load(find("ConfigMap", "driftwatch-config")["data"]["config.yaml"])
    config["data_dir"] = str(folder / "data")
    for monitor in config["monitors"]:
        monitor["reference"]["path"] = str(image_path(dockerfile(), monitor["reference"]["path"]))
    config_path = folder / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))

    sidecar_port, model_port = _free_port(), _free_port()
    sidecar = _container("driftwatch")
    args = _option(_option(sidecar["args"], "-c", str(config_path)), "--host", "127.0.0.1")
    drift_url = f"http://127.0.0.1:{sidecar_port}"
    procs = [
        _start(
            [sys.executable, "-m", "driftwatch", *args, "--port", str(sidecar_port)],
            {},
            drift_url,
            folder / "driftwatch.log",
        )
    ]
    try:
        model = _container("model")
        assert model["command"] == ["uvicorn"]
        margs = _option(
            _option(_option(model["args"], "--app-dir", str(MODEL_DIR)), "--host", "127.0.0.1"),
            "--port",
            str(model_port),
        )
        env = {e["name"]: e["value"] for e in model["env"]}
        env["DRIFTWATCH_URL"] = env["DRIFTWATCH_URL"].replace(":8321", f":{sidecar_port}")
        model_url = f"http://127.0.0.1:{model_port}"
        procs.append(_start([sys.executable, "-m", "uvicorn", *margs], env, model_url, folder / "model.log"))
        yield model_url, drift_url
    finally:
        for proc in reversed(procs):  # the model first, as a native sidecar outlives the main container
            proc.terminate()
            proc.wait(60)


def _accepted(drift_url: str) -> int:
    return httpx.get(f"{drift_url}/v1/monitors/triage", timeout=10).json()["ingest"]["rows_accepted"]


def test_model_logs_its_inputs_and_predictions_to_the_sidecar(pod: tuple[str, str]) -> None:
    model_url, drift_url = pod
    before = _accepted(drift_url)
    instances = [{"pain_score": 9, "heart_rate": 88, "channel": "web"}, {"pain_score": 1, "arrival_mode": "walk_in"}]
    reply = httpx.post(f"{model_url}/v1/models/triage-model:predict", json={"instances": instances}, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"predictions": ["medium", "low"]}
    assert httpx.post(f"{model_url}/v1/models/triage-model:predict", json={"inputs": []}, timeout=10).status_code == 400
    deadline = time.monotonic() + 20
    while _accepted(drift_url) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _accepted(drift_url) == before + 2


def test_kserve_logger_events_reach_the_monitor_of_the_route(pod: tuple[str, str]) -> None:
    _, drift_url = pod
    isvc = find("InferenceService")["metadata"]["name"]
    before = _accepted(drift_url)
    replies = []
    for kind, body in (
        ("request", {"instances": [{"pain_score": 3, "heart_rate": 70}]}),
        ("response", {"predictions": ["low"]}),
    ):
        headers = {
            "ce-id": "req-1",
            "ce-type": f"org.kubeflow.serving.inference.{kind}",
            "ce-source": "http://localhost:9081/",
            "ce-specversion": "1.0",
            "ce-inferenceservicename": isvc,
            "ce-endpoint": "triage-model-predictor",
            "content-type": "application/json",
        }
        replies.append(httpx.post(f"{drift_url}/v1/cloudevents", json=body, headers=headers, timeout=10))
    assert [r.status_code for r in replies] == [202, 202], [r.text for r in replies]
    assert replies[1].json()["joined"] == 1
    deadline = time.monotonic() + 20
    while _accepted(drift_url) < before + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _accepted(drift_url) == before + 1
