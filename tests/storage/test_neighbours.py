"""HistoryStore.neighbours: a check's previous and next check of the same monitor, by start time then id."""

from __future__ import annotations

from dataclasses import replace

from checks.samples import Reference

from driftwatch.checks.results import CheckResult
from driftwatch.storage import HistoryStore


def test_neighbours_follow_start_time_then_id_within_one_monitor(
    store: HistoryStore, profile_and_check: tuple[Reference, CheckResult]
) -> None:
    profile, result = profile_and_check
    other = replace(profile, monitor="other")
    store.record_reference(profile)
    store.record_reference(other)

    def record(at: float, monitor: str = profile.monitor) -> int:
        checked = replace(result, monitor=monitor, started_at=at)
        return store.record_check(checked, window_start=None, window_end=None, trigger="schedule")

    late = record(300.0)
    early = record(100.0)  # stored later, started earlier (a check replayed from the outbox)
    tie_a, tie_b = record(200.0), record(200.0)
    record(150.0, "other")  # another monitor's check sits between them in time, not in the sequence
    assert store.neighbours(early) == (None, tie_a)
    assert store.neighbours(tie_a) == (early, tie_b)
    assert store.neighbours(tie_b) == (tie_a, late)
    assert store.neighbours(late) == (tie_b, None)
    assert store.neighbours(987654) is None
