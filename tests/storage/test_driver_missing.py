"""A PostgreSQL URL without the optional driver installed: a message naming the extra, on the store and the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftwatch.cli import app
from driftwatch.storage import HistoryStore, StorageError

URL = "postgresql+psycopg://u:secret@127.0.0.1:1/x"


@pytest.fixture
def no_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports of psycopg fail as they do when driftwatch-daemon[postgres] is not installed."""
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)


@pytest.mark.usefixtures("no_psycopg")
def test_store_names_the_postgres_extra() -> None:
    with pytest.raises(StorageError) as err:
        HistoryStore(URL)
    message = str(err.value)
    assert message.startswith("history database postgresql+psycopg://u:***@127.0.0.1:1/x: "), message
    assert "install driftwatch-daemon[postgres]" in message
    assert "secret" not in message


@pytest.mark.usefixtures("no_psycopg")
def test_sqlite_needs_no_postgres_driver(tmp_path: Path) -> None:
    with HistoryStore(f"sqlite:///{tmp_path / 'h.db'}") as store:
        store.upgrade()
        assert store.ping()


@pytest.mark.usefixtures("no_psycopg")
def test_db_upgrade_exits_2_naming_the_extra(example_config: Path, tmp_path: Path) -> None:
    config = tmp_path / "pg.yaml"
    config.write_text(example_config.read_text().replace("${DRIFTWATCH_STORAGE_URL:-}", URL))
    result = CliRunner().invoke(app, ["db", "upgrade", "-c", str(config)], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2, result.output
    assert "install driftwatch-daemon[postgres]" in result.output
    assert "Traceback" not in result.output and "secret" not in result.output


@pytest.mark.usefixtures("no_psycopg")
def test_run_exits_2_naming_the_extra(example_config: Path, tmp_path: Path) -> None:
    config = tmp_path / "pg.yaml"
    config.write_text(example_config.read_text().replace("${DRIFTWATCH_STORAGE_URL:-}", URL))
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--port", "1"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2, result.output
    assert "install driftwatch-daemon[postgres]" in result.output
    assert "Traceback" not in result.output and "secret" not in result.output
