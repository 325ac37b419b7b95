"""The in-flight budget: charges add up to at most the limit, a waiter holds only what it uses, refusals say why."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from driftwatch.serve.admission import BudgetExceededError, InflightBudget


def test_charges_add_up_to_the_limit_and_come_back() -> None:
    budget = InflightBudget(100, wait_seconds=0.05)
    a, b = budget.ticket(), budget.ticket()
    a.reserve(60)
    b.reserve(40)
    assert budget.used == 100
    with pytest.raises(BudgetExceededError) as busy:
        budget.ticket().reserve(1)
    assert busy.value.status == 503 and busy.value.limit == "max_inflight_bytes"
    assert "hold 100 of ingest.limits.max_inflight_bytes (100) bytes and this one needs 1 more" in str(busy.value)
    a.release()
    a.release()  # idempotent
    assert budget.used == 40 and budget.peak == 100
    b.release()
    assert budget.used == 0


def test_a_request_larger_than_the_whole_budget_is_a_413_at_once() -> None:
    budget = InflightBudget(100, wait_seconds=5)
    ticket = budget.ticket()
    ticket.reserve(30)
    t0 = time.monotonic()
    with pytest.raises(BudgetExceededError) as never:
        ticket.reserve(71)
    assert never.value.status == 413 and time.monotonic() - t0 < 1
    assert "needs about 101 bytes" in str(never.value)


def test_claims_draw_on_a_prepaid_estimate_and_settle_gives_the_rest_back() -> None:
    budget = InflightBudget(100)
    ticket = budget.ticket()
    asyncio.run(ticket.reserve_async(80, prepay=True))
    ticket.reserve(30)
    ticket.try_reserve(20)
    assert (budget.used, ticket.held, ticket.spent) == (80, 80, 50)
    ticket.settle()
    assert (budget.used, ticket.held) == (50, 50)
    ticket.reserve(10)
    assert budget.used == 60
    ticket.release()
    assert budget.used == 0


def test_a_waiter_gives_back_its_unused_prepayment_so_that_others_can_finish() -> None:
    budget = InflightBudget(100, wait_seconds=2)
    waiter, other = budget.ticket(), budget.ticket()
    asyncio.run(waiter.reserve_async(60, prepay=True))
    waiter.reserve(10)  # 50 prepaid and unused
    other.reserve(40)
    done = threading.Event()

    def needs_more() -> None:
        waiter.reserve(70)  # 20 left of the budget: it waits, holding only the 10 it uses
        done.set()

    thread = threading.Thread(target=needs_more)
    thread.start()
    time.sleep(0.2)
    assert not done.is_set() and budget.used == 50  # 10 + 40: the unused 50 went back
    budget.ticket().reserve(10)  # another request fits in the room given back
    other.release()
    thread.join(2)
    assert done.is_set() and waiter.held == 80


def test_the_event_loop_waits_without_blocking_and_is_refused_after_the_wait() -> None:
    budget = InflightBudget(100, wait_seconds=0.3)
    holder = budget.ticket()
    holder.reserve(100)

    async def scenario() -> float:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        with pytest.raises(BudgetExceededError) as busy:
            await budget.ticket().reserve_async(10)
        ticker.cancel()
        assert busy.value.status == 503
        return ticks

    assert asyncio.run(scenario()) >= 10  # the loop kept running while the request waited
    with pytest.raises(BudgetExceededError):
        budget.ticket().try_reserve(1)
