"""A monitor's out-of-distribution settings: which per-row reasons run, their parameters, exemplars and redaction."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from driftwatch.config.base import Strict

# drop: never written; keep: written as received; hash: a salted SHA-256 prefix (equal values stay equal, for
# deduplication); truncate:N: the first N characters.
REDACT = re.compile(r"^(drop|keep|hash|truncate:(0|[1-9][0-9]{0,5}))$")


class RangeReason(Strict):
    """out_of_range: a numeric value outside the reference's central range, widened on each side by `tolerance`."""

    enabled: bool = True
    quantiles: tuple[float, float] = (0.001, 0.999)
    # Share of the central range (between the two quantiles) added below and above it.
    tolerance: float = Field(default=0.25, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> RangeReason:
        lo, hi = self.quantiles
        if not 0 <= lo < hi <= 1:
            raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got [{lo}, {hi}]")
        return self


class CategoryReason(Strict):
    """unseen_category: a category the reference never had, or had in less than `min_frequency` of its rows."""

    enabled: bool = True
    min_frequency: float = Field(default=0.0, ge=0, lt=1)


class LanguageReason(Strict):
    """unseen_language: a text row in a language its reference texts never had, or had in less than `min_frequency`."""

    enabled: bool = True
    min_frequency: float = Field(default=0.0, ge=0, lt=1)


class ScriptReason(Strict):
    """unseen_script: a text row whose main script (or mixed, or mojibake) its reference texts never had."""

    enabled: bool = True
    min_frequency: float = Field(default=0.0, ge=0, lt=1)


class MissingReason(Strict):
    """unexpected_missing: a missing value where the reference's missing share is at most `max_reference_rate`."""

    enabled: bool = True
    max_reference_rate: float = Field(default=0.0, ge=0, lt=1)


class TypeReason(Strict):
    """type_error: a value that cannot be read as its feature's kind."""

    enabled: bool = True


class NovelReason(Strict):
    """novel: a row far from every reference row (k-nearest-neighbour distance), judged by a conformal p-value."""

    enabled: bool = True
    neighbours: int = Field(default=5, ge=1, le=100)
    # Reference rows the distances are measured to; the other sampled reference rows calibrate the p-value.
    fit_rows: int = Field(default=2_000, ge=50, le=50_000)
    calibration_rows: int = Field(default=10_000, ge=50, le=100_000)
    seed: int = 0


class Reasons(Strict):
    """Every per-row reason, each with its switch."""

    out_of_range: RangeReason = Field(default_factory=RangeReason)
    unseen_category: CategoryReason = Field(default_factory=CategoryReason)
    unexpected_missing: MissingReason = Field(default_factory=MissingReason)
    type_error: TypeReason = Field(default_factory=TypeReason)
    unseen_language: LanguageReason = Field(default_factory=LanguageReason)
    unseen_script: ScriptReason = Field(default_factory=ScriptReason)
    novel: NovelReason = Field(default_factory=NovelReason)


class ExemplarSettings(Strict):
    """How many of a check's out-of-distribution rows are kept, most novel first."""

    k: int = Field(default=20, ge=0, le=1_000)


class OodSettings(Strict):
    """Per-row out-of-distribution verdicts: a row is OOD when any enabled reason fires."""

    enabled: bool = True
    # Level of the novelty p-value; the rules have no level (they fire on what the reference never held).
    alpha: float = Field(default=0.01, gt=0, lt=1)
    reasons: Reasons = Field(default_factory=Reasons)
    exemplars: ExemplarSettings = Field(default_factory=ExemplarSettings)
    store_exemplars: bool = True
    # Per feature: drop | keep | hash | truncate:N. Unlisted text features are dropped, other features kept.
    redact: dict[str, str] = Field(default_factory=dict)

    @field_validator("redact")
    @classmethod
    def _redaction(cls, value: dict[str, str]) -> dict[str, str]:
        for feature, how in value.items():
            if not isinstance(how, str) or not REDACT.match(how):
                raise ValueError(f"redact.{feature}: {how!r} is not one of drop, keep, hash, truncate:N")
        return value
