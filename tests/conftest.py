"""Shared fixtures: repository paths and the example config."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
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
