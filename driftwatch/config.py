"""Typed configuration: YAML with ${VAR} interpolation, validated into models that reject unknown keys."""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from driftwatch.checks.stattests.catalog import lookup
from driftwatch.errors import ConfigError, UnknownMonitorError
from driftwatch.types import Kind, MultipleTesting

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as '90s', '15m', '1h', '7d'."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r} (use seconds or a string like '30s', '15m', '1h')")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"invalid duration {value!r} (use seconds or a string like '30s', '15m', '1h')")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {value!r}")
    return seconds


Duration = Annotated[float, Field(description="seconds; accepts '30s', '15m', '1h', '7d'")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureSpec(_Strict):
    """One monitored column: its kind (inferred when absent), stat test and threshold overrides."""

    kind: Kind | None = None
    method: str | None = None
    threshold: float | None = Field(default=None, gt=0)

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            lookup(value, info.data.get("kind"))
        return value


class ReferenceSpec(_Strict):
    """Where the reference dataset lives: a file, glob or folder, or a SQL query."""

    path: str | None = None
    query: str | None = None
    url: str | None = None
    format: Literal["auto", "parquet", "csv", "jsonl"] = "auto"

    @model_validator(mode="after")
    def _one_source(self) -> ReferenceSpec:
        if (self.path is None) == (self.query is None):
            raise ValueError("give exactly one of 'path' (file, glob or folder) or 'query' (SQL, with 'url')")
        if self.query is not None and self.url is None:
            raise ValueError("'query' needs 'url', the SQLAlchemy URL of the database to run it on")
        return self


class DriftSettings(_Strict):
    """How features are compared and when a whole dataset counts as drifted."""

    min_rows: int = Field(default=100, ge=1)
    drift_share: float = Field(default=0.5, gt=0, le=1)
    multiple_testing: MultipleTesting = MultipleTesting.NONE
    methods: dict[Kind, str] = Field(default_factory=dict)
    thresholds: dict[Kind, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _methods_fit_kinds(self) -> DriftSettings:
        for kind, method in self.methods.items():
            lookup(method, kind)
        for kind, threshold in self.thresholds.items():
            if threshold <= 0:
                raise ValueError(f"thresholds.{kind} must be positive, got {threshold}")
        return self


class WindowSettings(_Strict):
    """The slice of live traffic one check looks at."""

    type: Literal["tumbling", "sliding"] = "tumbling"
    duration: Duration = 900.0
    rows: int = Field(default=10_000, ge=1)
    max_sample_rows: int = Field(default=50_000, ge=1)

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


class ScheduleSettings(_Strict):
    """When a monitor's check runs: every `interval`, or on a `cron` expression."""

    interval: Duration = 60.0
    cron: str | None = None

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value, timezone="UTC")
            except ValueError as exc:
                raise ValueError(
                    f"invalid crontab expression {value!r}: {exc} (five fields: minute hour day month weekday)"
                ) from None
        return value


class FileSourceSettings(_Strict):
    """Files a model server's request logger writes; each is ingested exactly once, across restarts."""

    path: str
    format: Literal["auto", "parquet", "csv", "jsonl"] = "auto"
    poll_interval: Duration = 10.0
    # A file younger than this may still be being written; it is picked up on a later poll.
    settle_seconds: Duration = 2.0

    @field_validator("poll_interval", "settle_seconds", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> float:
        return parse_duration(value)


class MonitorConfig(_Strict):
    """One model input stream compared against one reference dataset."""

    name: str = Field(pattern=_NAME)
    reference: ReferenceSpec
    features: dict[str, FeatureSpec] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)
    prediction_columns: list[str] = Field(default_factory=list)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    window: WindowSettings = Field(default_factory=WindowSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    file_source: FileSourceSettings | None = None
    # Bounds Prometheus cardinality: the most severe features are exported first.
    max_exported_features: int = Field(default=100, ge=1)

    @field_validator("features", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        # `feature: numeric` is shorthand for `feature: {kind: numeric}`.
        if isinstance(value, dict):
            return {k: {"kind": v} if isinstance(v, str) else ({} if v is None else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> MonitorConfig:
        both = sorted(set(self.ignore) & set(self.features))
        if both:
            raise ValueError(f"features both listed and ignored: {', '.join(both)}")
        return self


class StorageSettings(_Strict):
    """Where check history is kept; SQLite in data_dir unless a URL is given."""

    url: str | None = None

    @field_validator("url")
    @classmethod
    def _blank_is_default(cls, value: str | None) -> str | None:
        return value or None


Scope = Literal["ingest", "read", "admin"]
# RFC 6750 b64token: what a bearer token may contain, so that every configured token can be sent in a header.
_B64TOKEN = re.compile(r"^[A-Za-z0-9._~+/-]+=*$")


def _sendable_token(value: str) -> str:
    # The value itself is never part of the message: it is a secret.
    if value and not _B64TOKEN.match(value):
        raise ValueError("a token may hold only letters, digits and -._~+/ (then '=' padding), no spaces")
    return value


class TokenSpec(_Strict):
    """A bearer token and what it may do: `ingest` rows, `read` state and history, `admin` (everything)."""

    token: str
    scopes: list[Scope] = Field(min_length=1)

    @field_validator("token")
    @classmethod
    def _sendable(cls, value: str) -> str:
        return _sendable_token(value)


class AuthSettings(_Strict):
    """Who may call the API: with any token configured, every route but /healthz and /readyz needs one."""

    tokens: list[TokenSpec] = Field(default_factory=list)
    metrics_requires_token: bool = False

    @field_validator("tokens")
    @classmethod
    def _no_repeats(cls, value: list[TokenSpec]) -> list[TokenSpec]:
        # An empty token (an unset ${VAR:-}) is dropped: one config serves with and without authentication.
        kept = [t for t in value if t.token]
        for i, spec in enumerate(kept):
            for j in range(i):
                if kept[j].token == spec.token:
                    raise ValueError(f"two entries hold the same token (the {j + 1}. and {i + 1}. non-empty one)")
        return kept


class ServerSettings(_Strict):
    """The daemon's HTTP listener."""

    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=0, le=65535)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    # Listening beyond loopback with no token is refused unless this says it is on purpose.
    allow_unauthenticated: bool = False


class CloudEventRoute(_Strict):
    """Sends inference-logger events of one InferenceService, endpoint or model (MLServer / Seldon) to a monitor."""

    # KServe: ce-inferenceservicename; MLServer: its server name.
    inference_service: str | None = None
    endpoint: str | None = None
    # MLServer / Seldon Core: ce-modelid, the model's name.
    model: str | None = None
    monitor: str
    # Column names for positional inputs (V1 instances as lists, V2 tensors wider than one column).
    input_columns: list[str] = Field(default_factory=list)
    # Column names for the outputs; a single output is the monitor's prediction column without them.
    output_columns: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _selects_and_names(self) -> CloudEventRoute:
        if self.inference_service is None and self.model is None:
            raise ValueError(
                "give 'inference_service' (KServe's ce-inferenceservicename) or 'model' (ce-modelid of MLServer and"
                " Seldon Core), or both"
            )
        for key in ("input_columns", "output_columns"):
            names: list[str] = getattr(self, key)
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{key} names {', '.join(twice)} more than once")
        return self

    def prediction_problem(self, prediction_columns: list[str]) -> str | None:
        """Why this route cannot fill the monitor's prediction columns, or None when it can."""
        if not self.output_columns:
            if len(prediction_columns) > 1:
                return (
                    f"the monitor has {len(prediction_columns)} prediction_columns ({', '.join(prediction_columns)})"
                    " and the route has no output_columns to map the model's outputs to them"
                )
            return None
        unmapped = [c for c in prediction_columns if c not in self.output_columns]
        if unmapped:
            return f"output_columns does not name the monitor's prediction column(s) {', '.join(unmapped)}"
        return None


class IngestLimits(_Strict):
    """What one ingest request may hold; each refusal is a 4xx that names the limit (docs/api.md#input-limits)."""

    # Parsed JSON takes up to ~50 times its size in memory: these two bound what one request can cost.
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="body as sent (compressed)")
    max_decoded_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="body after gzip")
    max_depth: int = Field(default=32, ge=2, le=512, description="JSON nesting depth, the row object counts as 1")
    max_string_bytes: int = Field(default=64 * 1024, ge=16, description="one JSON string (key or value)")
    max_columns: int = Field(default=1000, ge=1, description="distinct columns of one request")
    max_rows: int = Field(default=1_000_000, ge=1, description="rows of one request")

    @model_validator(mode="after")
    def _decoded_covers_body(self) -> IngestLimits:
        if self.max_decoded_bytes < self.max_body_bytes:
            raise ValueError(
                f"max_decoded_bytes ({self.max_decoded_bytes}) must be at least max_body_bytes ({self.max_body_bytes})"
            )
        return self


# The names of the limits: each is also the `reason` label its refusals are counted under.
LIMIT_NAMES: tuple[str, ...] = tuple(IngestLimits.model_fields)


class IngestSettings(_Strict):
    """Limits and routing for live ingestion."""

    limits: IngestLimits = Field(default_factory=IngestLimits)
    # Deprecated: the same as a server.auth.tokens entry with scopes [ingest].
    token: str | None = None
    durability: Literal["process", "fsync"] = "process"
    cloudevents: list[CloudEventRoute] = Field(default_factory=list)
    join_timeout: Duration = 10.0
    max_pending_events: int = Field(default=10_000, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _body_limit_alias(cls, value: Any) -> Any:
        # `ingest.max_body_bytes` predates ingest.limits; it still caps the body, before and after gzip.
        if isinstance(value, dict) and "max_body_bytes" in value and "limits" not in value:
            value = dict(value)
            size = value.pop("max_body_bytes")
            value["limits"] = {"max_body_bytes": size, "max_decoded_bytes": size}
        return value

    @field_validator("join_timeout", mode="before")
    @classmethod
    def _join_timeout(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("token")
    @classmethod
    def _blank_token(cls, value: str | None) -> str | None:
        return _sendable_token(value) or None if value is not None else None


class Config(_Strict):
    """A whole driftwatch configuration file."""

    data_dir: Path = Path("./data")
    storage: StorageSettings = Field(default_factory=StorageSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retention_days: float = Field(default=30.0, gt=0)
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
