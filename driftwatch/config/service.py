"""The daemon's configuration: history storage, the server and its tokens, ingestion limits and routes."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from driftwatch.config.base import Duration, Strict


class StorageSettings(Strict):
    """Where check history is kept; SQLite in data_dir unless a URL is given."""

    url: str | None = None
    # Checks queued while the database is unreachable (a few KB each, about 0.5 KB per feature).
    outbox_max_bytes: int = Field(default=128 * 1024 * 1024, ge=64 * 1024, description="data_dir/outbox at most")
    # Checks' window samples (data_dir/samples), oldest deleted first past it; 0 keeps none.
    max_sample_bytes: int = Field(default=1024**3, ge=0, description="data_dir/samples at most")

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


class TokenSpec(Strict):
    """A bearer token and what it may do: `ingest` rows, `read` state and history, `admin` (everything)."""

    token: str
    scopes: list[Scope] = Field(min_length=1)

    @field_validator("token")
    @classmethod
    def _sendable(cls, value: str) -> str:
        return _sendable_token(value)


class AuthSettings(Strict):
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


class ServerSettings(Strict):
    """The daemon's HTTP listener."""

    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=0, le=65535)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    # Listening beyond loopback with no token is refused unless this says it is on purpose.
    allow_unauthenticated: bool = False


class CloudEventRoute(Strict):
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


class IngestLimits(Strict):
    """What one ingest request may hold; each refusal is a 4xx that names the limit (docs/api.md#input-limits)."""

    # Parsed JSON takes up to ~50 times its size in memory: these two bound what one request can cost.
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="body as sent (compressed)")
    max_decoded_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="body after gzip")
    max_depth: int = Field(default=32, ge=2, le=512, description="JSON nesting depth, the row object counts as 1")
    max_string_bytes: int = Field(default=64 * 1024, ge=16, description="one JSON string (key or value)")
    max_columns: int = Field(default=1000, ge=1, description="distinct columns of one request")
    max_rows: int = Field(default=1_000_000, ge=1, description="rows of one request")
    # Every request in progress together: what decoding, parsing and shaping them takes (docs/operations.md#memory).
    max_inflight_bytes: int = Field(
        default=768 * 1024 * 1024, ge=1024 * 1024, description="memory of all requests being decoded, estimated"
    )

    @model_validator(mode="after")
    def _decoded_covers_body(self) -> IngestLimits:
        if self.max_decoded_bytes < self.max_body_bytes:
            raise ValueError(
                f"max_decoded_bytes ({self.max_decoded_bytes}) must be at least max_body_bytes ({self.max_body_bytes})"
            )
        if self.max_inflight_bytes < 4 * self.max_decoded_bytes:
            raise ValueError(
                f"max_inflight_bytes ({self.max_inflight_bytes}) must be at least 4 x max_decoded_bytes"
                f" ({4 * self.max_decoded_bytes}): one request of that size needs its body, a decoded copy and more"
            )
        return self


# The names of the limits: each is also the `reason` label its refusals are counted under.
LIMIT_NAMES: tuple[str, ...] = tuple(IngestLimits.model_fields)


class IngestSettings(Strict):
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

    @field_validator("token")
    @classmethod
    def _blank_token(cls, value: str | None) -> str | None:
        return _sendable_token(value) or None if value is not None else None
