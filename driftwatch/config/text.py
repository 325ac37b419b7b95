"""A monitor's text settings: the signals derived from its text features and the rows code-switching reads."""

from __future__ import annotations

from pydantic import Field, field_validator

from driftwatch.config.base import Strict

SIGNALS = ("language", "code_switching", "script", "length", "tokens", "oov_rate")


class TextSettings(Strict):
    """Derived features of each text feature (`<feature>.<signal>`), judged like any other feature."""

    signals: list[str] = Field(default_factory=lambda: list(SIGNALS))
    # Code-switching needs span detection: it reads at most this many rows of a check's sample (the first ones; the
    # sample is uniform, so they are too). The other signals read every row of the sample.
    code_switching_rows: int = Field(default=5000, ge=100)
    # Every signal but length and tokens reads a row's first max_chars characters (0: the whole row), in the reference
    # and in checks alike: the cost of a check grows with the characters read, and a row's opening tells its language.
    max_chars: int = Field(default=120, ge=0)
    # driftwatch_text_language_ratio exports this many languages per feature, the rest summed as "other".
    exported_languages: int = Field(default=8, ge=1, le=50)

    @field_validator("signals")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SIGNALS]
        if unknown:
            raise ValueError(f"unknown text signal {', '.join(unknown)}; known: {', '.join(SIGNALS)}")
        return list(dict.fromkeys(value))
