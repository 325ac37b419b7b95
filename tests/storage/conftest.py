"""Fixtures running every storage test against SQLite (a temp file) and the real PostgreSQL (a throwaway schema)."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from driftwatch.config import DriftSettings, MonitorConfig
from driftwatch.engine import CheckResult, run_check
from driftwatch.profile import ReferenceProfile, build_profile
from driftwatch.storage import HistoryStore

PG_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)
PG_START_HINT = (
    "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "
    "or point DRIFTWATCH_TEST_PG_URL at a PostgreSQL database where the user may create schemas"
)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An engine on the test PostgreSQL; fails (never skips) when the server is unreachable."""
    env = os.environ.get("DRIFTWATCH_TEST_PG_URL")
    candidates = (env,) if env else PG_CANDIDATES
    problems = []
    for url in candidates:
        engine = create_engine(
            url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            problems.append(f"{url}: {' '.join(str(getattr(exc, 'orig', exc)).split())}")
            engine.dispose()
            continue
        yield engine
        engine.dispose()
        return
    pytest.fail("PostgreSQL is unreachable (" + "; ".join(problems) + f"); {PG_START_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def pg_schemas(pg_admin: Engine) -> Iterator[Iterator[str]]:
    """Fresh schema names for this session; whatever a test leaves behind is dropped at the end."""
    prefix = f"dw_test_{uuid.uuid4().hex[:10]}"
    yield (f"{prefix}_{i}" for i in itertools.count())
    with pg_admin.connect() as conn:
        names = conn.scalars(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": f"{prefix}\\_%"}
        ).all()
        for name in names:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file in a folder that does not exist yet, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'history' / 'driftwatch.db').as_posix()}"
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    schema = next(request.getfixturevalue("pg_schemas"))
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


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
