"""What every configuration model shares: strict models, durations, names."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
# Monitor and route names: safe in URLs, metric labels and file names.
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


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


def iso_timestamp(text: str) -> float:
    """Epoch seconds of an ISO 8601 time, read as UTC when it names no offset; ValueError when it is not one."""
    at = datetime.fromisoformat(text.strip())
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


# Every duration field parses the same way; the type carries the parsing, so no model repeats it.
Duration = Annotated[
    float, BeforeValidator(parse_duration), Field(description="seconds; accepts '30s', '15m', '1h', '7d'")
]


class Strict(BaseModel):
    """A model that rejects unknown keys (a misspelled key is an error) and is immutable."""

    # NaN and infinity pass numeric bounds with a misleading message ("less than 1"); refuse them as what they are.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse `true` where a number belongs: pydantic would read it as 1 (`max_chars: true` cutting rows to 1)."""
        if isinstance(value, bool) and info.field_name and cls.model_fields[info.field_name].annotation in _NUMBERS:
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value


_NUMBERS = (int, float, int | None, float | None)
