"""Fixtures running every storage test against SQLite (a temp file) and the real PostgreSQL (a throwaway schema)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from driftwatch.checks.engine import CheckResult, run_check
from driftwatch.config import DriftSettings, MonitorConfig
from driftwatch.reference.profile import ReferenceProfile, build_profile
from driftwatch.storage import HistoryStore


@pytest.fixture
def store(db_url: str) -> Iterator[HistoryStore]:
    """An upgraded store on the fresh database."""
    with HistoryStore(db_url) as s:
        s.upgrade()
        yield s


@pytest.fixture
def raw(db_url: str) -> Iterator[Engine]:
    """A plain engine on the same database, to look at what was actually stored."""
    engine = create_engine(make_url(db_url), poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def profile_and_check() -> tuple[ReferenceProfile, CheckResult]:
    """A real profile and check on seeded data: drift, a missing column, a prediction and BH-adjusted p-values."""
    rng = np.random.default_rng(7)
    n = 200
    monitor = MonitorConfig(
        name="t",
        reference={"path": "unused"},
        features={"a": "numeric", "b": "categorical", "c": "numeric", "p": "categorical"},
        prediction_columns=["p"],
    )
    reference = pa.table(
        {
            "a": rng.normal(0, 1, n),
            "b": rng.choice(["x", "y"], n),
            "c": rng.normal(0, 1, n),
            "p": rng.choice(["yes", "no"], n),
        }
    )
    current = pa.table(
        {
            "a": np.append(rng.normal(0.5, 1, n - 2), [np.nan, 1e9]),
            "b": rng.choice(["x", "y", "z"], n),
            "p": rng.choice(["yes", "no"], n),
        }
    )
    profile = build_profile(reference, monitor, "v1", "memory")
    # Methods with fast paths keep evidently (seconds to import) out of this suite.
    settings = DriftSettings(multiple_testing="bh", methods={"numeric": "wasserstein", "categorical": "chisquare"})
    return profile, run_check(profile, current, settings)
