"""Fixtures running every storage test against SQLite (a temp file) and the real PostgreSQL (a throwaway schema)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from checks.samples import Reference, calibrated_check
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from driftwatch.checks.results import CheckResult
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
def profile_and_check() -> tuple[Reference, CheckResult]:
    """A reference and a calibrated check built by hand: every status, calibration and optional field."""
    return Reference(), calibrated_check()
