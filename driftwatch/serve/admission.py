"""Admission of ingest requests under one daemon-wide memory budget (ingest.limits.max_inflight_bytes).

Each request in progress holds a charge: its body as it is read, then what decoding, parsing and shaping it are
about to take (estimated by driftwatch.ingest.limits before each step allocates). A charge that does not fit waits
up to WAIT_SECONDS for others to finish and is then refused (503 with Retry-After); one larger than the whole budget
could never fit and is refused at once (413). So the memory all requests in progress take together stays within the
budget, however many arrive at once (docs/operations.md#memory).
"""

from __future__ import annotations

import asyncio
import threading
import time

from driftwatch.errors import DriftwatchError

# How long a request waits for room before it is refused, and the Retry-After it is refused with.
WAIT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 1
# How often a request waiting on the event loop looks again (threads are woken as soon as room is made).
_POLL_SECONDS = 0.005
LIMIT = "max_inflight_bytes"


class BudgetExceededError(DriftwatchError):
    """A request that does not fit the in-flight budget: `status` 503 (retry later) or 413 (never fits)."""

    def __init__(self, message: str, status: int):
        self.status = status
        self.limit = LIMIT
        super().__init__(message)


class InflightBudget:
    """Bytes of memory requests in progress may hold together; thread-safe, usable from the event loop too."""

    def __init__(self, limit: int, wait_seconds: float = WAIT_SECONDS):
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        self.limit = limit
        self.wait_seconds = wait_seconds
        self.used = 0
        self.peak = 0
        self._room = threading.Condition()

    def ticket(self) -> Ticket:
        """A new request's charge, holding nothing yet."""
        return Ticket(self)

    def _take(self, n: int, held: int) -> bool:
        """Add n to the charge if it fits (caller holds the condition); raise if it never could."""
        if held + n > self.limit:
            raise BudgetExceededError(
                f"this request needs about {held + n} bytes of memory to decode, more than"
                f" ingest.limits.{LIMIT} ({self.limit}) allows for all requests together; send smaller batches",
                413,
            )
        if self.used + n > self.limit:
            return False
        self.used += n
        self.peak = max(self.peak, self.used)
        return True

    def _busy(self, n: int) -> BudgetExceededError:
        return BudgetExceededError(
            f"busy: requests in progress hold {self.used} of ingest.limits.{LIMIT} ({self.limit}) bytes and this one"
            f" needs {n} more; retry in {RETRY_AFTER_SECONDS} s",
            503,
        )

    def _give_back(self, n: int) -> None:
        with self._room:
            self.used -= n
            self._room.notify_all()


class Ticket:
    """One request's charge against the budget; grows step by step, released once when the request is done.

    `held` is what the budget has granted, `spent` what the request's steps have claimed of it: a request may
    prepay an estimate on the event loop, and its steps then draw on that before asking the budget for more.
    """

    def __init__(self, budget: InflightBudget):
        self._budget = budget
        self.held = 0
        self.spent = 0

    def reserve(self, n: int) -> None:
        """Claim n more bytes, waiting (in a worker thread) for room; raises BudgetExceededError.

        A request that has to wait first gives back what it holds beyond what it has claimed, so that requests
        waiting for more never hold room that would let another one finish.
        """
        need = self._claim(n)
        if need <= 0:
            return
        budget = self._budget
        deadline = time.monotonic() + budget.wait_seconds
        with budget._room:
            if not budget._take(need, self.held):
                need += self.held - (self.spent - n)
                budget.used -= self.held - (self.spent - n)
                self.held = self.spent - n
                budget._room.notify_all()
                while not budget._take(need, self.held):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise budget._busy(need)
                    budget._room.wait(left)
        self.held += need

    def settle(self) -> None:
        """Give back what is held beyond what has been claimed (an estimate paid up front)."""
        excess = self.held - self.spent
        if excess > 0:
            self.held -= excess
            self._budget._give_back(excess)

    def try_reserve(self, n: int) -> None:
        """Claim n more bytes now or raise: for work that runs on the event loop and must not block it."""
        need = self._claim(n)
        if need <= 0:
            return
        budget = self._budget
        with budget._room:
            if not budget._take(need, self.held):
                raise budget._busy(need)
        self.held += need

    async def reserve_async(self, n: int, *, prepay: bool = False) -> None:
        """Claim n more bytes (or, with `prepay`, hold them for later claims), waiting on the event loop."""
        need = n if prepay else self._claim(n)
        if need <= 0:
            return
        budget = self._budget
        deadline = time.monotonic() + budget.wait_seconds
        while True:
            with budget._room:
                if budget._take(need, self.held):
                    break
            if time.monotonic() >= deadline:
                raise budget._busy(need)
            await asyncio.sleep(_POLL_SECONDS)
        self.held += need

    def _claim(self, n: int) -> int:
        """Count n bytes as spent; returns how many of them the budget must still grant."""
        n = max(n, 0)
        need = self.spent + n - self.held
        self.spent += n
        return need

    def release(self) -> None:
        """Give the whole charge back (idempotent)."""
        held, self.held, self.spent = self.held, 0, 0
        if held:
            self._budget._give_back(held)
