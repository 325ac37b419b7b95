"""driftwatch's restatement of evidently's default stat-test rule must pick what evidently picks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from driftwatch.checks.stattests import STAT_TESTS, default_method
from driftwatch.types import Kind

from .helpers import check, feature, profile, report_scores, texts

SIZES = (500, 1000, 1001, 5000)
DISTINCT = (2, 3, 5, 6, 30)
GRID = list(itertools.product(Kind, SIZES, DISTINCT))

# evidently's chisquare divides by the zero expected count of a new category (p = 0, as intended).
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _evidently_default(reference: pd.Series, current: pd.Series, kind: Kind) -> str:
    """evidently's default choice on the cleaned columns (its Report drops NaN and +-inf first)."""
    from evidently.legacy.calculations.stattests.registry import _get_default_stattest

    from driftwatch.checks.stattests.evidently_adapter import column_type

    def clean(s: pd.Series) -> pd.Series:
        return s.replace([-np.inf, np.inf], np.nan).dropna()

    return _get_default_stattest(clean(reference), clean(current), column_type(kind)).name


def _series(kind: Kind, rows: int, distinct: int, seed: int) -> tuple[pd.Series, pd.Series]:
    """Reference of `rows` rows with exactly `distinct` values, and 200 current rows from the same values."""
    rng = np.random.default_rng(seed)
    if kind == Kind.NUMERIC:
        values = np.round(rng.normal(size=distinct) * 10, 3)
    elif kind == Kind.CATEGORICAL:
        values = np.array([f"cat_{i}" for i in range(distinct)], dtype=object)
    else:
        values = np.array([f"{t} in week {i}" for i, t in enumerate(texts(rng, distinct))], dtype=object)
    ref = values[np.r_[np.arange(distinct), rng.integers(0, distinct, rows - distinct)]]
    cur = values[rng.integers(0, distinct, 200)]
    return pd.Series(rng.permutation(ref)), pd.Series(cur)


@pytest.mark.parametrize(("kind", "rows", "distinct"), GRID)
def test_default_method_agrees_with_evidently(kind: Kind, rows: int, distinct: int) -> None:
    ref, cur = _series(kind, rows, distinct, seed=rows + distinct)
    assert ref.nunique() == distinct
    n_values = pd.concat([ref, cur]).nunique()
    expected = _evidently_default(ref, cur, kind)
    assert default_method(kind, rows, n_values) == expected


def test_grid_covers_every_default_method() -> None:
    chosen = {_evidently_default(*_series(k, r, d, seed=r + d), k) for k, r, d in GRID}
    assert chosen == {
        "z", "chisquare", "ks", "jensenshannon", "wasserstein", "perc_text_content_drift", "abs_text_content_drift",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "rows", "distinct"),
    # Text through the engine only above 1000 rows: perc_text_content_drift costs seconds a run.
    [c for c in GRID if c[0] != Kind.TEXT] + [(Kind.TEXT, 1001, 5), (Kind.TEXT, 5000, 30)],
)
def test_engine_runs_evidentlys_default(kind: Kind, rows: int, distinct: int) -> None:
    ref, cur = _series(kind, rows, distinct, seed=rows + distinct)
    prof = profile({"x": ref}, {"x": kind.value})
    result = feature(check(prof, {"x": cur}), "x")
    assert result.status == "ok", result.message
    assert result.method == _evidently_default(ref, cur, kind)


def _boundary_cases() -> list:
    rng = np.random.default_rng(5)
    five = rng.integers(0, 5, 800).astype(float)
    five_big = rng.integers(0, 5, 1500).astype(float)
    two = rng.integers(0, 2, 800).astype(float)
    six = rng.integers(0, 6, 800).astype(float)
    cats = rng.choice(["a", "b"], 800)
    five_cats = rng.choice(list("abcde"), 800)
    cats_big = rng.choice(["a", "b"], 1500)

    def cur(base: np.ndarray, extra: list, n: int = 300) -> np.ndarray:
        values = rng.choice(np.unique(base), n - len(extra)).astype(base.dtype)
        return rng.permutation(np.r_[values, np.array(extra, dtype=base.dtype)])

    return [
        # (id, kind, reference, current, evidently's choice)
        ("num5+above", Kind.NUMERIC, five, cur(five, [5.0]), "ks"),
        ("num5+below", Kind.NUMERIC, five, cur(five, [-1.0] * 7), "ks"),
        ("num5+between", Kind.NUMERIC, five, cur(five, [2.5]), "ks"),
        ("num5+same", Kind.NUMERIC, five, cur(five, []), "chisquare"),
        ("num5+nan-inf", Kind.NUMERIC, five, cur(five, [np.nan, np.inf, -np.inf]), "chisquare"),
        ("num5-big+above", Kind.NUMERIC, five_big, cur(five_big, [7.0]), "wasserstein"),
        ("num5-big+same", Kind.NUMERIC, five_big, cur(five_big, []), "jensenshannon"),
        ("num2+new", Kind.NUMERIC, two, cur(two, [3.0]), "chisquare"),
        ("num2-one-value", Kind.NUMERIC, two, np.zeros(300), "z"),
        ("num6-subset", Kind.NUMERIC, six, rng.integers(0, 3, 300).astype(float), "ks"),
        ("cat2+new", Kind.CATEGORICAL, cats, cur(cats, ["c"]), "chisquare"),
        ("cat2+same", Kind.CATEGORICAL, cats, cur(cats, []), "z"),
        ("cat5+new", Kind.CATEGORICAL, five_cats, cur(five_cats, ["f", "g"]), "chisquare"),
        ("cat2-big+new", Kind.CATEGORICAL, cats_big, cur(cats_big, ["c"]), "jensenshannon"),
    ]


BOUNDARY = _boundary_cases()


@pytest.mark.parametrize(("kind", "ref", "cur", "expected"), [c[1:] for c in BOUNDARY], ids=[c[0] for c in BOUNDARY])
def test_current_values_can_move_the_choice(kind: Kind, ref: np.ndarray, cur: np.ndarray, expected: str) -> None:
    """The distinct values of reference and current together decide, as in evidently."""
    ref_s, cur_s = pd.Series(ref), pd.Series(cur)
    assert _evidently_default(ref_s, cur_s, kind) == expected
    prof = profile({"x": ref}, {"x": kind.value})
    result = feature(check(prof, {"x": cur}), "x")
    assert result.status == "ok", result.message
    assert result.method == expected
    # And the Report itself, end to end.
    columns = {"numerical": ["x"]} if kind == Kind.NUMERIC else {"categorical": ["x"]}
    display, value = report_scores(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), **columns)["x"]
    assert display == STAT_TESTS[expected].display_name
    assert result.score == pytest.approx(value, abs=1e-9, rel=0)
