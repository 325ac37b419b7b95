"""deploy/docker/Dockerfile and .dockerignore: a non-root, health-checked image; the context holds what it copies."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from driftwatch.cli import app
from driftwatch.config import load_config

from .helpers import (
    ROOT,
    copy_sources,
    dockerfile,
    dockerignore_patterns,
    dockerignored,
    final_stage,
    image_path,
)

CONFIG_IN_IMAGE = "/etc/driftwatch/config.yaml"
DATA_DIR = "/var/lib/driftwatch"


def _final(keyword: str) -> list[str]:
    return [i.args for i in final_stage(dockerfile()) if i.keyword == keyword]


def test_multi_stage_build_installs_a_wheel_built_from_the_repository() -> None:
    instructions = dockerfile()
    froms = [i.args for i in instructions if i.keyword == "FROM"]
    assert len(froms) == 2, froms
    assert froms[0].endswith(" AS build"), froms[0]
    assert any("pip wheel" in i.args and i.stage == 0 for i in instructions if i.keyword == "RUN")
    installs = _final("RUN")
    assert any("from=build" in run and "pip install --no-index" in run for run in installs), installs
    base = next(i.args for i in instructions if i.keyword == "ARG" and i.args.startswith("PYTHON_IMAGE="))
    assert base.startswith("PYTHON_IMAGE=python:3.11-slim"), base


def test_runs_as_a_non_root_user() -> None:
    users = _final("USER")
    assert users, "the final stage sets no USER: the daemon would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, users[-1]


def test_exposes_8321_and_checks_healthz_without_curl() -> None:
    assert "8321" in " ".join(_final("EXPOSE")).split()
    (healthcheck,) = _final("HEALTHCHECK")
    assert "CMD" in healthcheck
    assert "urllib.request" in healthcheck and "http://127.0.0.1:8321/healthz" in healthcheck, healthcheck
    assert "curl" not in healthcheck
    # The exec form is a JSON array; its python snippet must at least compile.
    argv = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "HEALTHCHECK", "exec")


def test_entrypoint_and_cmd_run_the_daemon_on_the_mounted_config() -> None:
    (entrypoint,) = _final("ENTRYPOINT")
    (cmd,) = _final("CMD")
    assert json.loads(entrypoint) == ["driftwatch"]
    assert json.loads(cmd) == ["run", "-c", CONFIG_IN_IMAGE, "--host", "0.0.0.0"]
    # The options in CMD exist on `driftwatch run`.
    usage = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).output
    for option in ("--config", "--host", "--port", "--log-format"):
        assert option in usage, option


def test_data_dir_is_a_volume_owned_by_the_user() -> None:
    volumes = " ".join(_final("VOLUME"))
    assert DATA_DIR in volumes, volumes
    assert any(DATA_DIR in run and "chown" in run for run in _final("RUN"))


def test_copied_sources_exist_and_are_in_the_build_context() -> None:
    patterns = dockerignore_patterns()
    sources = copy_sources(dockerfile())
    assert sources
    for source, _ in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: not in the repository"
        files = (
            [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            assert not dockerignored(relative, patterns), f"COPY {source}: .dockerignore leaves out {relative}"


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    patterns = dockerignore_patterns()
    for path in (
        ".venv/bin/python",
        ".git/HEAD",
        "data/driftwatch.db",
        "tests/conftest.py",
        "driftwatch/__pycache__/x.pyc",
    ):
        assert dockerignored(path, patterns), path
    # The Dockerfile reads .dockerignore's allowlist; the package build needs these.
    for path in ("pyproject.toml", "README.md", "driftwatch/cli.py", "examples/triage/reference.csv"):
        assert not dockerignored(path, patterns), path


def test_default_config_in_the_image_uses_the_bundled_example() -> None:
    source = image_path(dockerfile(), CONFIG_IN_IMAGE)
    assert source is not None and source.is_file(), f"no COPY puts a file at {CONFIG_IN_IMAGE}"
    config = load_config(source, environ={})
    assert config.data_dir.as_posix() == DATA_DIR
    for monitor in config.monitors:
        assert monitor.reference.path is not None
        in_repo = image_path(dockerfile(), monitor.reference.path)
        assert in_repo is not None and in_repo.is_file(), f"{monitor.reference.path} is not copied into the image"
