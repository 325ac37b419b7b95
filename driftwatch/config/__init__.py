"""Typed configuration: YAML with ${VAR} interpolation, validated into models that reject unknown keys."""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from driftwatch.config.base import Duration, Strict, parse_duration
from driftwatch.config.monitor import (
    DriftSettings,
    FeatureSpec,
    FileSourceSettings,
    MonitorConfig,
    ReferenceSpec,
    ScheduleSettings,
    WindowSettings,
)
from driftwatch.config.ood import OodSettings
from driftwatch.config.service import (
    LIMIT_NAMES,
    AuthSettings,
    CloudEventRoute,
    IngestLimits,
    IngestSettings,
    Scope,
    ServerSettings,
    StorageSettings,
    TokenSpec,
)
from driftwatch.config.text import TextSettings
from driftwatch.errors import ConfigError, UnknownMonitorError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Config(Strict):
    """A whole driftwatch configuration file."""

    data_dir: Path = Path("./data")
    storage: StorageSettings = Field(default_factory=StorageSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retention_days: float = Field(default=30.0, gt=0)
    # How often each open window is checkpointed under data_dir/checkpoints, so a restart replays less spool.
    checkpoint_interval: Duration = 30.0
    monitors: list[MonitorConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_monitors(self) -> Config:
        seen: set[str] = set()
        for monitor in self.monitors:
            if monitor.name in seen:
                raise ValueError(f"monitor name '{monitor.name}' is used twice")
            seen.add(monitor.name)
        for i, route in enumerate(self.ingest.cloudevents):
            if route.monitor not in seen:
                valid = ", ".join(sorted(seen))
                raise ValueError(f"ingest.cloudevents[{i}].monitor: unknown monitor '{route.monitor}' (valid: {valid})")
            problem = route.prediction_problem(self.monitor(route.monitor).prediction_columns)
            if problem is not None:
                raise ValueError(f"ingest.cloudevents[{i}] (monitor '{route.monitor}'): {problem}")
        return self

    @property
    def tokens(self) -> list[TokenSpec]:
        """Every configured token: server.auth.tokens, then the deprecated ingest.token (scope ingest)."""
        tokens = list(self.server.auth.tokens)
        if self.ingest.token and all(t.token != self.ingest.token for t in tokens):
            tokens.append(TokenSpec(token=self.ingest.token, scopes=["ingest"]))
        return tokens

    def token_for(self, scope: Scope) -> str | None:
        """A configured token granting `scope` (admin grants every scope), for the CLI's own requests."""
        for spec in self.tokens:
            if scope in spec.scopes or "admin" in spec.scopes:
                return spec.token
        return None

    @property
    def storage_url(self) -> str:
        """The SQLAlchemy URL of the history database."""
        return self.storage.url or f"sqlite:///{(self.data_dir / 'driftwatch.db').as_posix()}"

    def monitor(self, name: str) -> MonitorConfig:
        """The monitor called `name`, or an error listing the configured ones."""
        for monitor in self.monitors:
            if monitor.name == name:
                return monitor
        raise UnknownMonitorError(name, [m.name for m in self.monitors])


def load_config(path: str | Path, environ: typing.Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate a config file; relative paths resolve against its folder."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [f"cannot read file: {exc.strerror or exc}"]) from exc
    return parse_config(text, source=source, base_dir=path.resolve().parent, environ=environ)


def parse_config(
    text: str,
    *,
    source: str = "<config>",
    base_dir: Path | None = None,
    environ: typing.Mapping[str, str] | None = None,
) -> Config:
    """Validate config text; every problem is reported with its YAML path."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(source, ["the file must hold a mapping with at least 'monitors'"])
    problems: list[str] = []
    raw = _interpolate(raw, os.environ if environ is None else environ, (), problems)
    if problems:
        raise ConfigError(source, problems)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err) for err in exc.errors()]) from None
    return _resolve_paths(config, base_dir or Path.cwd())


def _interpolate(value: Any, environ: typing.Mapping[str, str], loc: tuple, problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, environ, (*loc, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, environ, (*loc, i), problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ and (environ[name] != "" or default is None):
            return environ[name]
        if default is not None:
            return default
        problems.append(f"{_path(loc)}: environment variable {name} is not set (set it, or write ${{{name}:-default}})")
        return ""

    return _VAR.sub(substitute, value)


def _resolve_paths(config: Config, base: Path) -> Config:
    def resolve(p: str | Path) -> Path:
        p = Path(os.path.expanduser(str(p)))
        return p if p.is_absolute() else (base / p)

    monitors = []
    for m in config.monitors:
        update: dict[str, Any] = {}
        if m.reference.path is not None:
            update["reference"] = m.reference.model_copy(update={"path": str(resolve(m.reference.path))})
        if m.file_source is not None:
            update["file_source"] = m.file_source.model_copy(update={"path": str(resolve(m.file_source.path))})
        monitors.append(m.model_copy(update=update))
    return config.model_copy(update={"data_dir": resolve(config.data_dir), "monitors": monitors})


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(err: Any) -> str:
    """One 'yaml.path: message' line for a pydantic error, with the valid keys for an unknown one."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        valid = _fields_at(loc[:-1])
        hint = f" (valid: {', '.join(valid)})" if valid else ""
        return f"{_path(loc)}: unknown key '{loc[-1]}'{hint}"
    if kind == "missing":
        return f"{_path(loc)}: required key is missing"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind in {"enum", "literal_error"}:
        message = f"{message}, got {err['input']!r}"
    return f"{_path(loc)}: {message}"


def _fields_at(loc: tuple) -> list[str]:
    annotation: Any = Config
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            field = annotation.model_fields.get(part)
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) is list and isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


__all__ = [
    "LIMIT_NAMES",
    "AuthSettings",
    "CloudEventRoute",
    "Config",
    "DriftSettings",
    "Duration",
    "FeatureSpec",
    "FileSourceSettings",
    "IngestLimits",
    "IngestSettings",
    "MonitorConfig",
    "OodSettings",
    "ReferenceSpec",
    "ScheduleSettings",
    "Scope",
    "ServerSettings",
    "StorageSettings",
    "TextSettings",
    "TokenSpec",
    "WindowSettings",
    "load_config",
    "parse_config",
    "parse_duration",
]
