"""Stat tests by evidently's names: fast profile-based paths where we have them, evidently's code otherwise."""

from __future__ import annotations

from functools import cache

from driftwatch.checks.stattests.base import CurrentValues, StatTest
from driftwatch.checks.stattests.catalog import STAT_TESTS, StatTestSpec, default_method, lookup, names_for

__all__ = [
    "STAT_TESTS",
    "CurrentValues",
    "StatTest",
    "StatTestSpec",
    "default_method",
    "get_stat_test",
    "lookup",
    "names_for",
]


@cache
def get_stat_test(name: str, *, fast: bool = True) -> StatTest:
    """The stat test called `name`; `fast=False` forces evidently's own implementation."""
    spec = lookup(name)
    from driftwatch.checks.stattests.fast import FAST_TESTS, FastStatTest
    from driftwatch.checks.stattests.text import TEXT_TESTS, TextDriftStatTest

    if fast and name in FAST_TESTS:
        return FastStatTest(spec)
    if fast and name in TEXT_TESTS:
        return TextDriftStatTest(spec)
    from driftwatch.checks.stattests.evidently_adapter import EvidentlyStatTest

    return EvidentlyStatTest(spec)
