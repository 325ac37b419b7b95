"""Alembic environment for the history schema; driftwatch passes its own connection in `config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from driftwatch.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    """Emit the SQL for a URL's dialect without connecting, for DBAs who apply DDL by hand."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online(connection: Connection) -> None:
    """Migrate through an open connection; batch mode lets later revisions alter tables on SQLite."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (conn := config.attributes.get("connection")) is not None:
    run_online(conn)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes['connection']")
    with create_engine(url, poolclass=pool.NullPool).connect() as conn:
        run_online(conn)
