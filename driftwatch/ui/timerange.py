"""The time range of a monitor page: `from` and `to` in milliseconds since the epoch, as Grafana's `${__from}` and
`${__to}` pass them, validated at the boundary."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_SPAN_MS = 6 * 3600 * 1000
# Year 9999: later times do not format as dates, and no check is stored there.
MAX_MS = 253_402_300_799_999
_INTEGER = re.compile(r"-?[0-9]{1,16}")


class RangeError(ValueError):
    """A `from` or `to` that is not a usable time; the message names the parameter and what it must be."""


@dataclass(frozen=True)
class TimeRange:
    """[start_ms, end_ms): the checks whose start falls within it."""

    start_ms: int
    end_ms: int

    @property
    def since(self) -> float:
        return self.start_ms / 1000

    @property
    def until(self) -> float:
        return self.end_ms / 1000

    @property
    def span_ms(self) -> int:
        return self.end_ms - self.start_ms

    def shifted(self, spans: int) -> TimeRange:
        """The range of the same length `spans` lengths later (negative: earlier), clamped to valid times."""
        start = min(max(self.start_ms + spans * self.span_ms, 0), MAX_MS - self.span_ms)
        return TimeRange(start, start + self.span_ms)


def _millis(name: str, raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not _INTEGER.fullmatch(raw.strip()):
        raise RangeError(
            f"'{name}' must be milliseconds since the epoch, a whole number such as Grafana's ${{__{name}}}"
        )
    value = int(raw.strip())
    if not 0 <= value <= MAX_MS:
        raise RangeError(f"'{name}' must be between 0 and {MAX_MS} milliseconds since the epoch")
    return value


def parse_range(from_: str | None, to: str | None, now_ms: int) -> TimeRange:
    """The range asked for: `to` defaults to now, `from` to 6 hours before `to`; `from` must be before `to`."""
    start, end = _millis("from", from_), _millis("to", to)
    if end is None:
        # A range that starts in the future still shows 6 hours.
        end = now_ms if start is None or start < now_ms else min(start + DEFAULT_SPAN_MS, MAX_MS)
    if start is None:
        start = max(end - DEFAULT_SPAN_MS, 0)
    if start >= end:
        earliest = "'to' must be after 0, where the range starts at the earliest"
        given = "'from' must be before 'to'" if from_ else earliest
        raise RangeError(given)
    return TimeRange(start, end)
