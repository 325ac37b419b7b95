"""The packaged alembic migrations: they build exactly the models' schema, downgrade cleanly, and emit offline SQL."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from driftwatch.storage import HistoryStore, StorageError, alembic_config
from driftwatch.storage.models import Base
from driftwatch.storage.store import SCHEMA_REVISION

TABLES = [
    "alembic_version",
    "checks",
    "exemplars",
    "feature_results",
    "file_source_progress",
    "monitors",
    "reference_versions",
]


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
    assert "ALTER TABLE feature_results ADD COLUMN threshold_drifted BOOLEAN;" in sql
    assert "ALTER TABLE checks ADD COLUMN look_share DOUBLE PRECISION;" in sql
    assert "UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';" in sql
    assert "ALTER TABLE checks ADD COLUMN ood JSON;" in sql and "CREATE TABLE exemplars (" in sql
    assert "UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';" in sql


def test_a_database_from_a_newer_driftwatch_is_refused(store: HistoryStore, raw: Engine) -> None:
    with raw.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StorageError) as err:
        store.upgrade()
    assert str(err.value) == (
        f"history database {store.url}: upgrading the schema failed: Can't locate revision identified by '9999'"
        " (a newer driftwatch migrated this database; upgrade driftwatch)"
    )


def test_schema_revision_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_REVISION


def test_an_up_to_date_database_is_opened_without_loading_alembic(store: HistoryStore, db_url: str) -> None:
    code = (
        "import sys; from driftwatch.storage import HistoryStore; HistoryStore(sys.argv[1]).upgrade(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))"
    )
    done = subprocess.run([sys.executable, "-c", code, db_url], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
