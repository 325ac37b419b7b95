"""Shared fixtures: repository paths, the example config and databases (SQLite, a throwaway PostgreSQL)."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from services.binaries import missing
from services.postgres import ClusterError, ThrowawayCluster, server_bindir
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "triage"


@pytest.fixture
def example_config(tmp_path: Path) -> Path:
    """config.example.yaml rewritten to keep its data_dir under tmp_path."""
    text = (ROOT / "config.example.yaml").read_text()
    text = text.replace("path: examples/triage/reference.csv", f"path: {EXAMPLES / 'reference.csv'}")
    text = text.replace("${DRIFTWATCH_DATA_DIR:-./data}", str(tmp_path / "data"))
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


PG_URL_ENV = "DRIFTWATCH_TEST_POSTGRES_URL"


def _admin_engine(url: str) -> Engine:
    """An autocommit engine on `url`; fails the tests that need it when nobody answers there."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return engine
    except SQLAlchemyError as exc:
        engine.dispose()
        problem = " ".join(str(getattr(exc, "orig", exc)).split())
    pytest.fail(f"PostgreSQL at {engine.url} is unreachable: {problem}", pytrace=False)


def _start(cluster: ThrowawayCluster) -> str:
    try:
        return cluster.start()
    except ClusterError as exc:
        problem = str(exc)
    pytest.fail(f"cannot start a throwaway PostgreSQL cluster: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An engine on a throwaway PostgreSQL cluster for this session, or on the database PG_URL_ENV names."""
    if url := os.environ.get(PG_URL_ENV):
        engine = _admin_engine(url)
        yield engine
        engine.dispose()
        return
    bindir = server_bindir()
    if bindir is None:
        alternative = f"or point {PG_URL_ENV} at a database where the user may create schemas"
        pytest.fail(missing("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)", alternative), pytrace=False)
    cluster = ThrowawayCluster(bindir)
    try:
        engine = _admin_engine(_start(cluster))
        yield engine
        engine.dispose()
    finally:
        cluster.stop()


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
