"""The packaged alembic migrations: they build exactly the models' schema, downgrade cleanly, and emit offline SQL."""

from __future__ import annotations

import io

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from driftwatch.storage import HistoryStore, StorageError, alembic_config
from driftwatch.storage.models import Base

TABLES = ["alembic_version", "checks", "feature_results", "file_source_progress", "monitors", "reference_versions"]


def test_migrated_schema_matches_the_models(store: HistoryStore, raw: Engine) -> None:
    with raw.connect() as conn:
        assert sorted(inspect(conn).get_table_names()) == TABLES
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(store: HistoryStore, raw: Engine) -> None:
    with raw.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
        assert inspect(conn).get_table_names() == ["alembic_version"]
    store.upgrade()
    with raw.connect() as conn:
        assert sorted(inspect(conn).get_table_names()) == TABLES


def test_offline_sql_for_postgresql() -> None:
    out = io.StringIO()
    cfg = alembic_config("postgresql+psycopg://u:p%40ss@db.example/x")
    cfg.output_buffer = out
    command.upgrade(cfg, "head", sql=True)
    sql = out.getvalue()
    assert "CREATE TABLE checks (" in sql and "id BIGSERIAL NOT NULL" in sql
    assert "CREATE INDEX ix_checks_monitor_id_started_at ON checks (monitor_id, started_at);" in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql


def test_a_database_from_a_newer_driftwatch_is_refused(store: HistoryStore, raw: Engine) -> None:
    with raw.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StorageError) as err:
        store.upgrade()
    assert str(err.value) == (
        f"history database {store.url}: upgrading the schema failed: Can't locate revision identified by '9999'"
        " (a newer driftwatch migrated this database; upgrade driftwatch)"
    )
