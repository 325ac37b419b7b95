"""Rate-limited logging for daemon and client: one message per kind per interval, so a flood cannot flood the log."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class LogThrottle:
    """Lets one message of each kind through per `every` seconds and says how many were held back."""

    def __init__(self, logger: logging.Logger, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not every > 0:
            raise ValueError(f"every must be positive, got {every}")
        self._logger = logger
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, kind: str, msg: str, *args: object, extra: dict[str, object] | None = None) -> bool:
        """Log `msg % args` at WARNING unless a message of `kind` went out less than `every` ago; True if logged."""
        now = self._clock()
        with self._lock:
            if now < self._next.get(kind, float("-inf")):
                self._held[kind] = self._held.get(kind, 0) + 1
                return False
            self._next[kind] = now + self._every
            held = self._held.pop(kind, 0)
        if held:
            msg += " (%d similar messages suppressed)"
            args = (*args, held)
        self._logger.warning(msg, *args, extra=extra)
        return True
