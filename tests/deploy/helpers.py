"""Readers for the deployment files, shared by the deploy tests: YAML documents, compose mounts, the Dockerfile."""

from __future__ import annotations

import importlib.util
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
KUBERNETES = DEPLOY / "kubernetes"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
RULES = DEPLOY / "prometheus" / "rules" / "driftwatch.rules.yml"
DASHBOARDS = ROOT / "dashboards"
DASHBOARD_FILES = ("driftwatch-overview.json", "driftwatch-monitor.json", "driftwatch-health.json")


def load_yaml(path: Path) -> Any:
    """The single YAML document in `path`."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_documents(path: Path) -> list[Any]:
    """Every non-empty YAML document in `path`."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def load_module(path: Path) -> ModuleType:
    """Import a script that is not in a package (deploy/ is not one) by its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- docker compose


@dataclass(frozen=True)
class Mount:
    """One entry of a compose service's `volumes`: a bind mount (`source` is a host path) or a named volume."""

    source: str
    target: str
    bind: bool
    read_only: bool


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE_FILE)


def compose_path(path: str) -> Path:
    """A host path in the compose file, which compose resolves against the compose file's folder."""
    return (COMPOSE_DIR / path).resolve()


def mounts(service: dict[str, Any]) -> list[Mount]:
    """A service's volumes in short ("src:dst[:mode]") or long ({type, source, target}) syntax."""
    out = []
    for entry in service.get("volumes", []):
        if isinstance(entry, str):
            source, target, *mode = entry.split(":")
            # Short syntax: a source that looks like a path is a bind mount, anything else a named volume.
            read_only = "ro" in ",".join(mode).split(",")
            out.append(Mount(source, target, source.startswith((".", "/", "~")), read_only))
        else:
            bind = entry.get("type") == "bind"
            out.append(Mount(entry["source"], entry["target"], bind, bool(entry.get("read_only"))))
    return out


def host_path(service: dict[str, Any], container_path: str) -> Path | None:
    """The repository path a container path of `service` comes from, through its deepest bind mount."""
    best: Mount | None = None
    wanted = PurePosixPath(container_path)
    for mount in mounts(service):
        target = PurePosixPath(mount.target)
        covers = mount.bind and (wanted == target or target in wanted.parents)
        if covers and (best is None or len(target.parts) > len(PurePosixPath(best.target).parts)):
            best = mount
    if best is None:
        return None
    return compose_path(best.source) / wanted.relative_to(best.target)


# ---- Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int


def dockerfile(path: Path = DOCKERFILE) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped, numbered by stage."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, args = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), stage))
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def copy_sources(instructions: list[Instruction]) -> list[tuple[str, str]]:
    """(source in the build context, destination) of every COPY/ADD that reads the context (not --from)."""
    pairs = []
    for ins in instructions:
        if ins.keyword not in {"COPY", "ADD"}:
            continue
        words = shlex.split(ins.args)
        if any(w.startswith("--from") for w in words):
            continue
        paths = [w for w in words if not w.startswith("--")]
        pairs.extend((source, paths[-1]) for source in paths[:-1])
    return pairs


def image_path(instructions: list[Instruction], container_path: str) -> Path | None:
    """The build-context file that the final stage's COPY puts at `container_path`, if one does."""
    wanted = PurePosixPath(container_path)
    for source, destination in copy_sources(final_stage(instructions)):
        dest = PurePosixPath(destination)
        if wanted == dest:
            return ROOT / source
        if dest in wanted.parents and (ROOT / source).is_dir():
            return ROOT / source / wanted.relative_to(dest)
    return None


# ---- .dockerignore


def dockerignore_patterns(path: Path = ROOT / ".dockerignore") -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception '!', compiled pattern) per line, in order: the last matching line decides."""
    patterns = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip() if negate else line
        patterns.append((negate, re.compile(_glob_regex(pattern.strip("/")))))
    return patterns


def _glob_regex(pattern: str) -> str:
    # Docker's rules: Go filepath.Match per segment, plus '**' for any number of segments.
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return f"^{out}$"


def dockerignored(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the build context leaves out `relative` (a path relative to the context, '/'-separated)."""
    parts = PurePosixPath(relative).parts
    # A pattern matching a parent folder applies to everything in it.
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in patterns:
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded


# ---- Kubernetes


def manifests() -> dict[Path, list[dict[str, Any]]]:
    """Every Kubernetes manifest under deploy/kubernetes (kustomizations excluded), by file."""
    return {
        path: load_documents(path) for path in sorted(KUBERNETES.rglob("*.yaml")) if path.name != "kustomization.yaml"
    }


def find(kind: str, name: str | None = None) -> dict[str, Any]:
    """The one manifest of `kind` (and `name`) under deploy/kubernetes."""
    found = [
        doc
        for docs in manifests().values()
        for doc in docs
        if doc.get("kind") == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''} in deploy/kubernetes, found {len(found)}"
    return found[0]


def pod_containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    """A Deployment's containers, native sidecars (init containers with restartPolicy: Always) included."""
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]
