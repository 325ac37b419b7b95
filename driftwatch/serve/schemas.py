"""Response models of the HTTP API: they type the OpenAPI document (/openapi.json) and nothing else."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from driftwatch.ingest.payloads import ARROW_TYPES, JSON_TYPES, NDJSON_TYPES
from driftwatch.types import Kind, MultipleTesting, Status

# Largest id SQLite and PostgreSQL store (a signed 64-bit integer); larger ones are a 422, not a database error.
MAX_ID = 2**63 - 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Model):
    """One invalid part of a request (422)."""

    location: str = Field(description="Where: `path.<name>`, `query.<name>`, `header.<name>` or `body`.")
    message: str


class ErrorBody(BaseModel):
    """Every error answer: `error` says what is wrong; some statuses add detail fields."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="What is wrong, in a sentence a user can act on.")
    problems: list[Problem] | None = Field(None, description="422: each invalid parameter.")
    allowed: list[str] | None = Field(None, description="405: the methods the path accepts.")
    monitors: list[str] | None = Field(None, description="404 for an unknown monitor: the configured monitors.")
    reasons: list[str] | None = Field(None, description="503 from /readyz: why the daemon is not ready.")
    reason: str | None = Field(
        None, description="A failed reference reload: missing, unreadable, invalid, unwritable or shutting_down."
    )
    reference_version: str | None = Field(None, description="A failed reference reload: the version still in use.")
    limit: str | None = Field(
        None, description="503 or 413 from ingest: the ingest.limits entry refusing it (max_inflight_bytes)."
    )


class RowErrorOut(_Model):
    """A rejected row (`column` null) or a value whose type differs from its column's other values."""

    row: int
    column: str | None
    message: str


class RowsAccepted(_Model):
    """The answer to POST /rows, sent once the accepted rows are in the spool."""

    accepted: int
    rejected: int
    errors: list[RowErrorOut]
    ignored_columns: list[str]


class CloudEventAccepted(_Model):
    """The answer to a logged inference; `joined` is the number of rows it completed."""

    monitor: str
    id: str
    kind: Literal["request", "response"]
    joined: int
    errors: list[RowErrorOut]
    ignored_columns: list[str]


class QualityOut(_Model):
    """Data quality of one feature in the window; rates run from 0 to 1."""

    rows: int
    missing_rate: float
    reference_missing_rate: float
    type_error_rate: float
    unseen_category_rate: float | None
    out_of_range_rate: float | None


class BinsOut(_Model):
    """Shared bin edges (21) and each side's share of its values per bin; the end bins hold the tails."""

    edges: list[float]
    reference: list[float]
    current: list[float]


class NumericExplanationOut(_Model):
    """A numeric feature's reference and current quantiles, and a histogram on shared bins."""

    kind: Literal["numeric"]
    quantiles: list[float] = Field(description="The levels: 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99.")
    reference: list[float] = Field(description="The reference's values at those levels.")
    current: list[float] = Field(description="The checked rows' values at those levels.")
    bins: BinsOut


class ShareOut(_Model):
    value: str | None = Field(description="The category (null: removed by the feature's redaction).")
    reference: float
    current: float


class UnseenOut(_Model):
    value: str | None = Field(description="The value (hashed or cut as the feature's redaction says; null: dropped).")
    count: int


class CategoricalExplanationOut(_Model):
    """The categories whose share moved most (at most 10) and the most frequent values the reference never had."""

    kind: Literal["categorical"]
    moved: list[ShareOut]
    unseen: list[UnseenOut] = Field(description="At most 10, most frequent first.")
    unseen_values: int = Field(description="Distinct values the reference never had, of which `unseen` lists some.")
    unseen_rows: int = Field(description="Checked rows holding one of them.")


class FeatureOut(_Model):
    """One feature's comparison (docs/configuration.md describes the fields)."""

    name: str
    kind: Kind
    method: str | None
    score: float | None
    score_kind: str | None
    p_value: float | None = Field(
        description="`calibrated` decisions: the calibrated p-value; `threshold`: the test's own, if it has one."
    )
    adjusted_p_value: float | None = Field(description="`p_value` after the check's multiple-testing correction.")
    threshold: float | None
    threshold_drifted: bool | None = Field(
        description="The verdict of `score` against `threshold` (evidently's rule), kept beside a calibrated decision."
    )
    decision: Literal["calibrated", "threshold", "none"] = Field(
        description="The rule that set `drifted`; `none`: the feature was not judged."
    )
    calibration: str | None = Field(
        description="How `p_value` was obtained: `bootstrap`, `exact`, or `missing_rate` (judged on the share of "
        "unusable values alone); null when the feature has no calibrated p-value."
    )
    missing_p_value: float | None = Field(
        description="Two-sample test of the share of unusable values (missing, non-finite, wrong type) against "
        "the reference."
    )
    level: float | None = Field(description="The level the (adjusted) p-value was compared with.")
    drifted: bool
    status: Status
    reference_rows: int
    current_rows: int
    prediction: bool
    message: str
    quality: QualityOut
    explanation: NumericExplanationOut | CategoricalExplanationOut | None = Field(
        default=None,
        description="What explains the verdict, for judged features (null otherwise, and for checks stored before).",
    )


class DecisionOut(_Model):
    """The check's decision rule: calibrated p-values against `level`, or evidently's thresholds."""

    rule: Literal["calibrated", "threshold"]
    alpha: float | None = Field(description="The window's false-alarm rate (`drift.alpha`); null for thresholds.")
    look_share: float = Field(description="This look's share of the window's alpha; 1 for a single look.")
    level: float | None = Field(description="alpha * look_share, what every adjusted p-value is compared with.")


class RulesOut(_Model):
    """The per-value OOD rules counted on every row the live window received, not only on the check's sample."""

    rate: float = Field(description="Share of the window's rows at least one rule fired on.")
    rows: int = Field(description="Rows the window received (all of them, not the sample).")
    ood_rows: int
    by_reason: dict[str, float] = Field(description="Per rule, the share of the window's rows it flagged.")
    features: dict[str, float] = Field(description="Per feature, the share of the window's rows a rule flagged it in.")


class OodOut(_Model):
    """The check's rows scored out of distribution: rates of all rows scored, by reason and by feature."""

    rate: float = Field(description="Share of the scored rows out of distribution (any enabled reason fired).")
    rows: int = Field(description="Rows scored: the check's sample.")
    ood_rows: int
    alpha: float = Field(description="Level of the novelty p-value (`ood.alpha`).")
    by_reason: dict[str, float] = Field(description="Per reason that ran, the share of scored rows it flagged.")
    features: dict[str, float] = Field(description="Per feature, the share of scored rows an OOD reason named it in.")
    reasons: list[str] = Field(description="The reasons that ran.")
    disabled: dict[str, str] = Field(description="Enabled reasons that could not run on this reference, and why.")
    exemplars: int = Field(description="OOD rows kept as exemplars (redacted), most novel first.")
    rules: RulesOut | None = Field(
        default=None, description="The rules over every row of a live window; null for a file check."
    )


class PairOut(_Model):
    reference: float | None = Field(description="In the reference's sampled rows (null: not derived there).")
    current: float | None = Field(description="In the checked rows (null: not derived).")


class TextOut(_Model):
    """One text feature's derived signals summarised, reference against current (docs/text.md)."""

    rows: int = Field(description="Rows checked.")
    languages: dict[str, PairOut] = Field(
        description="Share of rows per language (ISO 639-1; unknown: no confident language; none: no letters), "
        "the 10 largest, the rest as other."
    )
    new_languages: dict[str, float] = Field(
        description="Languages of the checked rows the reference had in less than 0.1% of its rows, by share."
    )
    code_switching: PairOut = Field(description="Share of rows that switch language (null: signal not derived).")
    scripts: dict[str, PairOut] = Field(description="Share of letters per Unicode script.")
    empty: PairOut = Field(description="Share of rows without any letter (missing, empty, emoji, digits only).")
    oov_rate: PairOut = Field(description="Mean share of a row's tokens the reference's vocabulary lacks.")
    length: PairOut = Field(description="Mean characters per row.")
    tokens: PairOut = Field(description="Mean tokens per row (words; a character of a script without spaces).")


class _Verdict(_Model):
    monitor: str
    reference_version: str
    status: Status
    rows: int
    dataset_drift: bool
    drift_share: float
    drift_share_threshold: float
    drifted_features: int
    judged_features: int
    multiple_testing: MultipleTesting = Field(description="The correction in force for this check.")
    decision: DecisionOut
    started_at: float
    duration_seconds: float
    ood: OodOut | None = Field(default=None, description="Out-of-distribution rows; null when OOD scoring is off.")
    text: dict[str, TextOut] = Field(
        default_factory=dict, description="Per text feature with derived signals, its text block; {} without."
    )


class CheckDocument(_Verdict):
    """What `driftwatch check --format json` prints and `CheckResult.to_dict()` returns."""

    schema_version: int
    features: list[FeatureOut]


def check_document_schema() -> dict[str, Any]:
    """The JSON Schema of a check document (docs/check-result.schema.json holds it; `driftwatch schema` prints it)."""
    schema = CheckDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "driftwatch check result"
    return schema


class CheckRunOut(_Verdict):
    """A check that just ran: the `check --format json` document plus its id, trigger and window."""

    schema_version: int
    id: int | None = Field(description="The stored check's id; null while it waits to be stored (`stored` false).")
    stored: bool
    trigger: str
    window_start: float | None
    window_end: float | None
    features: list[FeatureOut]


class SampleOut(_Model):
    """Whether the window sample a check judged is kept (redacted) under data_dir, for GET /v1/checks/{id}/sample."""

    kept: bool
    rows: int | None = Field(description="Rows of the kept sample.")
    path: str | None = Field(description="The sample's Parquet file, relative to data_dir.")
    reason: str | None = Field(description="Why it is not kept: pruned (storage.max_sample_bytes), or never written.")


class CheckRecordOut(_Verdict):
    """A stored check; `features` and `sample` only when one check is asked for."""

    id: int
    window_start: float | None
    window_end: float | None
    trigger: str
    error: str | None
    features: list[FeatureOut] | None = None
    sample: SampleOut | None = None


class CheckList(_Model):
    """Stored checks of a monitor, newest first."""

    monitor: str
    checks: list[CheckRecordOut]


class ExemplarOut(_Model):
    """One out-of-distribution row a check kept, with its values as redacted before they were stored."""

    rank: int = Field(description="0 is the check's most novel row.")
    reasons: list[str] = Field(description="The OOD reasons that fired on the row.")
    features: list[str] = Field(description="The features those reasons named.")
    p_value: float | None = Field(description="Novelty p-value; null when novelty did not run.")
    score: float | None = Field(description="Nearest-neighbour distance; null when novelty did not run.")
    values: dict[str, Any] = Field(
        description="Feature values after `ood.redact` (text dropped unless configured); never the raw row."
    )
    fingerprint: str = Field(description="SHA-256 of `values`: the same row kept by several checks has one.")


class ExemplarList(_Model):
    """A stored check's exemplars, most novel first; empty when OOD scoring was off or `store_exemplars` false."""

    check_id: int
    monitor: str
    exemplars: list[ExemplarOut]


class ReferenceOut(_Model):
    version: str
    rows: int
    source: str
    stale: bool = Field(description="The reference on disk differs from this one, or cannot be read (see `problem`).")
    problem: str | None = Field(description="What differs on disk, or why the latest reload failed; null when none.")


class ReloadWindowOut(_Model):
    """What a reload did to the open window (docs/operations.md#reference-changes)."""

    type: Literal["tumbling", "sliding"]
    action: Literal["closed", "empty", "kept", "unchanged"] = Field(
        description="`closed`: the tumbling window ended at the reload and got its final check against the old "
        "reference (`check`), the next one runs from the reload under the new one; `empty`: it had no rows and "
        "stays open under the new reference; `kept`: the sliding window (or, for a first load, the window "
        "restored from the spool) kept its rows, judged against the new reference from now on; `unchanged`: the "
        "reference did not change."
    )
    rows: int = Field(description="Rows of the closed window, or of the window kept.")
    start: float | None = Field(description="`closed`: the closed window's start.")
    end: float | None = Field(description="`closed`: when it ended (the reload).")
    check: CheckRunOut | None = Field(
        description="`closed`: its final check, unless the scheduler ran it first or it failed (see the log)."
    )


class ReferenceReloaded(_Model):
    """The answer to a reference reload that succeeded or found nothing to do."""

    monitor: str
    outcome: Literal["reloaded", "unchanged", "loaded"] = Field(
        description="`reloaded`: a new version is in use; `unchanged`: the files hold the version in use (nothing "
        "was done); `loaded`: the monitor had no reference loaded (it failed at start) and now has one."
    )
    old_version: str | None
    new_version: str
    rows: int = Field(description="Rows of the reference now in use.")
    features: int = Field(description="Features it monitors.")
    window: ReloadWindowOut


class WindowOut(_Model):
    type: str
    rows_seen: int
    rows_sampled: int


class IngestOut(_Model):
    rows_accepted: int
    rows_rejected: dict[str, int]
    unknown_columns: int
    restored_rows: int
    last_ingest_at: float | None


class RestoreOut(_Model):
    """How the restore of the monitor's windows at start went, or how far it is."""

    state: Literal["none", "waiting", "restoring", "done", "stopped"]
    checkpoint: str = Field(description="`used`, `none`, `missing`, or why it was not used (stale, unusable).")
    rows: int = Field(description="Rows restored into windows: checkpoint_rows + replayed_rows.")
    checkpoint_rows: int
    replayed_rows: int
    seconds: float | None


class MonitorOut(_Model):
    """A monitor; `reference`, `window`, `ingest` and `restore` only once its reference is loaded."""

    name: str
    loaded: bool
    load_error: str | None
    reference: ReferenceOut | None = None
    window: WindowOut | None = None
    ingest: IngestOut | None = None
    restore: RestoreOut | None = None
    checks_by_outcome: dict[str, int]
    last_check: CheckRunOut | None
    last_success_at: float | None


class MonitorList(_Model):
    monitors: list[MonitorOut]


class Alive(_Model):
    status: Literal["alive"]


class Ready(_Model):
    status: Literal["ready", "degraded"]
    reasons: list[str] | None = Field(
        None, description="When degraded: what works only in part (e.g. storage unreachable, checks queued)."
    )


# Largest id SQLite and PostgreSQL store (a signed 64-bit integer); larger ones are a 422, not a database error.
MAX_ID = 2**63 - 1


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries of error statuses, each with the error body and a description."""
    return {status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}


ERROR_DESCRIPTIONS = {
    400: "Malformed body.",
    401: "Missing, malformed or unknown bearer token (when tokens are configured); `WWW-Authenticate: Bearer`.",
    403: "The bearer token lacks the scope the operation needs (`ingest`, `read` or `admin`).",
    404: "Unknown monitor, check or route.",
    413: "Body over `ingest.limits.max_body_bytes`, `max_decoded_bytes` or `max_rows`.",
    415: "Unsupported Content-Type, charset or Content-Encoding.",
    410: "The check's sample was pruned to stay within `storage.max_sample_bytes`.",
    409: "The reference files are missing or unreadable: nothing was reloaded, the loaded version stays in use.",
    422: "Invalid path, query or header parameter; a reference that does not fit the monitor (nothing reloaded).",
    500: 'Unexpected server error (counted in `driftwatch_http_requests_total{status_class="5xx"}`).',
    503: "Shutting down, monitor not loaded or restoring its spool after a restart (with `Retry-After`), or the"
    " history database unreachable.",
}

_ROW_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True, "description": "A row: column -> value."}
ROWS_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "Rows, as JSON, NDJSON or an Arrow IPC stream; `Content-Encoding: gzip` is accepted for each.",
    "content": {
        **{
            mime: {
                "schema": {
                    "anyOf": [
                        {"type": "array", "items": _ROW_OBJECT, "description": "An array of rows."},
                        {
                            "type": "object",
                            "properties": {"rows": {"type": "array", "items": _ROW_OBJECT}},
                            "required": ["rows"],
                            "description": "An object holding the rows.",
                        },
                        _ROW_OBJECT,
                    ]
                }
            }
            for mime in JSON_TYPES
        },
        **{
            mime: {"schema": {"type": "string", "description": "One JSON object per line."}, "example": '{"a": 1}\n'}
            for mime in NDJSON_TYPES
        },
        **{
            mime: {"schema": {"type": "string", "format": "binary", "description": "An Arrow IPC stream."}}
            for mime in ARROW_TYPES
        },
    },
}
CLOUDEVENT_BODY: dict[str, Any] = {
    "required": True,
    "description": "A KServe inference logger event: binary mode (`ce-*` headers, the data as the body) or "
    "structured mode (the whole event as `application/cloudevents+json`).",
    "content": {
        "application/json": {
            "schema": {"type": "object", "description": "V1 `instances`/`predictions` or V2 `inputs`/`outputs`."}
        },
        "application/cloudevents+json": {
            "schema": {
                "type": "object",
                "properties": {"specversion": {"type": "string"}, "id": {"type": "string"}, "type": {"type": "string"}},
                "required": ["specversion", "id", "type"],
            }
        },
    },
}
