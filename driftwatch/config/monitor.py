"""A monitor's configuration: its features, reference, drift settings, window, schedule and file source."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from driftwatch.checks.stattests.catalog import lookup
from driftwatch.config.base import NAME, Duration, Strict
from driftwatch.config.ood import OodSettings
from driftwatch.config.text import TextSettings
from driftwatch.types import Kind, MultipleTesting


class FeatureSpec(Strict):
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


class ReferenceSpec(Strict):
    """Where the reference dataset lives: a file, glob or folder, or a SQL query."""

    path: str | None = None
    query: str | None = None
    url: str | None = None
    format: Literal["auto", "parquet", "csv", "jsonl"] = "auto"
    # The daemon compares a path reference on disk with the loaded one this often (null: never).
    watch_interval: Duration | None = 30.0
    # A change it notices is loaded at once, as by a reload; by default it is only reported.
    auto_reload: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ReferenceSpec:
        if (self.path is None) == (self.query is None):
            raise ValueError("give exactly one of 'path' (file, glob or folder) or 'query' (SQL, with 'url')")
        if self.query is not None and self.url is None:
            raise ValueError("'query' needs 'url', the SQLAlchemy URL of the database to run it on")
        return self


class CalibrationSettings(Strict):
    """How calibrated p-values are estimated: bootstrap replicates of each test's score from the reference alone."""

    replicates: int = Field(default=500, ge=100, le=20_000)
    seed: int = 0


class LookSettings(Strict):
    """Repeated checks of one open tumbling window share its alpha, so a clean window is flagged at most alpha."""

    # Share of alpha the checks of a still-open window may spend, by elapsed time; the final check gets the rest.
    open_share: float = Field(default=0.5, ge=0, lt=1)


class DriftSettings(Strict):
    """How features are compared and when a whole dataset counts as drifted."""

    min_rows: int = Field(default=100, ge=1)
    drift_share: float = Field(default=0.5, gt=0, le=1)
    # calibrated: p-values from the reference's own null at the window's size, corrected, against alpha.
    # threshold: evidently's fixed thresholds on its scores, as evidently's Report decides.
    decision: Literal["calibrated", "threshold"] = "calibrated"
    alpha: float = Field(default=0.05, gt=0, lt=1)
    # Unset: bh for calibrated decisions, none for threshold (evidently's behaviour).
    multiple_testing: MultipleTesting | None = None
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings)
    looks: LookSettings = Field(default_factory=LookSettings)
    methods: dict[Kind, str] = Field(default_factory=dict)
    thresholds: dict[Kind, float] = Field(default_factory=dict)

    @property
    def correction(self) -> MultipleTesting:
        """The multiple-testing correction in force."""
        if self.multiple_testing is not None:
            return self.multiple_testing
        return MultipleTesting.BH if self.decision == "calibrated" else MultipleTesting.NONE

    @model_validator(mode="after")
    def _methods_fit_kinds(self) -> DriftSettings:
        for kind, method in self.methods.items():
            lookup(method, kind)
        for kind, threshold in self.thresholds.items():
            if threshold <= 0:
                raise ValueError(f"thresholds.{kind} must be positive, got {threshold}")
        return self


class WindowSettings(Strict):
    """The slice of live traffic one check looks at."""

    type: Literal["tumbling", "sliding"] = "tumbling"
    duration: Duration = 900.0
    rows: int = Field(default=10_000, ge=1)
    max_sample_rows: int = Field(default=50_000, ge=1)


class ScheduleSettings(Strict):
    """When a monitor's check runs: every `interval`, or on a `cron` expression."""

    interval: Duration = 60.0
    cron: str | None = None

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


class FileSourceSettings(Strict):
    """Files a model server's request logger writes; each is ingested exactly once, across restarts."""

    path: str
    format: Literal["auto", "parquet", "csv", "jsonl"] = "auto"
    poll_interval: Duration = 10.0
    # A file younger than this may still be being written; it is picked up on a later poll.
    settle_seconds: Duration = 2.0


class MonitorConfig(Strict):
    """One model input stream compared against one reference dataset."""

    name: str = Field(pattern=NAME)
    reference: ReferenceSpec
    features: dict[str, FeatureSpec] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)
    prediction_columns: list[str] = Field(default_factory=list)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    window: WindowSettings = Field(default_factory=WindowSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    file_source: FileSourceSettings | None = None
    ood: OodSettings = Field(default_factory=OodSettings)
    text: TextSettings = Field(default_factory=TextSettings)
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

    @model_validator(mode="after")
    def _redaction_names_features(self) -> MonitorConfig:
        # A misspelt feature here would leave the real one unredacted; with inferred features only ignored
        # columns can be told apart before the reference is read.
        named = set(self.ood.redact)
        unknown = sorted(named - set(self.features)) if self.features else sorted(named & set(self.ignore))
        if unknown:
            known = ", ".join(self.features) if self.features else "every reference column not in ignore"
            names = ", ".join(unknown)
            raise ValueError(f"ood.redact names {names}, not a feature of this monitor (features: {known})")
        return self
