"""Explanation cells: quantiles then and now for numbers, the most moved and unseen values for categories, "-" else."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from driftwatch.checks.explain import from_dict
from driftwatch.history.explanation import COLUMNS, cells, explanation_of

NUMERIC = {
    "kind": "numeric",
    "quantiles": [0.05, 0.25, 0.5, 0.75, 0.95],
    "reference": [18.0, 30.0, 41.5, 55.0, 80.0],
    "current": [35.0, 58.0, 70.25, 79.0, 91.0],
    "bins": {"edges": [0, 50, 100], "reference": [0.6, 0.4], "current": [0.2, 0.8]},
}
CATEGORICAL = {
    "kind": "categorical",
    "moved": [
        {"value": "walk_in", "reference": 0.5, "current": 0.4},
        {"value": "telehealth", "reference": 0.0, "current": 0.3},
        {"value": "ambulance", "reference": 0.5, "current": 0.3},
    ],
    "unseen": [{"value": "drone", "count": 3}, {"value": "telehealth", "count": 300}, {"value": "boat", "count": 7}],
    "unseen_values": 5,
}


def test_numeric_shows_median_and_p5_p95_then_and_now() -> None:
    assert cells(NUMERIC) == ("41.5 → 70.25", "18 .. 80 → 35 .. 91", "-", "-")


def test_categorical_shows_the_largest_move_and_the_top_unseen_values() -> None:
    assert cells(CATEGORICAL) == ("-", "-", "telehealth 0.0% → 30.0%", "telehealth (300), boat (7), drone (3) +2 more")
    only_two = {**CATEGORICAL, "unseen": CATEGORICAL["unseen"][:2], "unseen_values": 2}
    assert cells(only_two)[3] == "telehealth (300), drone (3)"
    long = {"kind": "categorical", "moved": [{"value": "x" * 40, "reference": 0.1, "current": 0.2}], "unseen": []}
    assert cells(long)[2] == "x" * 31 + "… 10.0% → 20.0%" and cells(long)[3] == "-"


@pytest.mark.parametrize(
    "broken",
    [
        None,
        {},
        {"kind": "image"},
        {"kind": "numeric"},
        {"kind": "numeric", "quantiles": [0.25, 0.75], "reference": [1, 2], "current": [3, 4]},
        {"kind": "numeric", "quantiles": [0.05, 0.5, 0.95], "reference": [1, 2], "current": [3, 4, 5]},
        {"kind": "numeric", "quantiles": "0.5", "reference": "1", "current": "2"},
        {"kind": "categorical", "moved": "telehealth", "unseen": {"value": "x"}},
        {"kind": "categorical", "moved": [{"reference": 0.1}, 3], "unseen": [None, "x"]},
    ],
)
def test_a_missing_or_malformed_explanation_shows_dashes(broken: dict | None) -> None:
    assert cells(broken) == ("-",) * len(COLUMNS)


def test_a_numeric_explanation_with_a_median_but_no_tails_shows_the_median_only() -> None:
    median_only = {"kind": "numeric", "quantiles": [0.5], "reference": [1.0], "current": [float("nan")]}
    assert cells(median_only) == ("1 → -", "-", "-", "-")


def test_explanation_is_read_from_the_first_holder_that_has_one() -> None:
    bare, stored = SimpleNamespace(explanation=None), SimpleNamespace(explanation=from_dict(NUMERIC))
    assert explanation_of(bare, stored) == NUMERIC
    assert explanation_of(SimpleNamespace(explanation=from_dict(CATEGORICAL))) == {**CATEGORICAL, "unseen_rows": 0}
    assert explanation_of(bare) is None


def test_an_empty_category_is_named_not_left_blank() -> None:
    empty = {
        "kind": "categorical",
        "moved": [{"value": "", "reference": 0.0, "current": 0.15}],
        "unseen": [{"value": "", "count": 151}],
        "unseen_values": 1,
    }
    assert cells(empty)[2:] == ("(empty) 0.0% → 15.0%", "(empty) (151)")
