"""The check history store: SQLite by default, PostgreSQL via postgresql+psycopg://, schema managed by alembic."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, create_engine, delete, event, inspect, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased, selectinload, sessionmaker
from sqlalchemy.pool import StaticPool

from driftwatch.checks.results import CheckResult
from driftwatch.storage.convert import (
    check_record,
    check_row,
    exemplar_record,
    feature_record,
    finite,
    required,
)
from driftwatch.storage.models import (
    Check,
    ExemplarRow,
    FileSourceProgress,
    Monitor,
    ReferenceVersion,
)
from driftwatch.storage.records import (
    TRIGGERS,
    CheckRecord,
    ExemplarRecord,
    MonitorSummary,
    ReferenceLike,
    StorageError,
    StorageUnavailableError,
    UnknownReferenceError,
)
from driftwatch.types import Status

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision in migrations/versions (tests/storage/test_migrations.py holds it to alembic's head). A
# database already there is not handed to alembic, whose import (0.1-0.25 s) is a tenth of the daemon's start.
SCHEMA_REVISION = "0005"
BACKENDS = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_MS = 10_000
PG_CONNECT_TIMEOUT_SECONDS = 10
_URL_HELP = "expected e.g. sqlite:///data/driftwatch.db or postgresql+psycopg://user:password@host:5432/db"
# Any fixed key works; every driftwatch process must use the same one so concurrent upgrades queue up.
_MIGRATION_LOCK_KEY = 0x64776D67
# Execution option marking write transactions, which SQLite opens with BEGIN IMMEDIATE.
_WRITE = "driftwatch_write"
_MISSING_SCHEMA = re.compile(r"no such (table|column)|(relation|column) \S+ does not exist", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, also for strings SQLAlchemy cannot parse."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^/@:]*:).*@", r"\1***@", url)
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)


def alembic_config(url: str | None = None) -> AlembicConfig:
    """Alembic configuration for the packaged migrations; `url` is only needed for offline SQL or a bare connect."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    # configparser treats % as interpolation, and URLs carry %-escapes.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class HistoryStore:
    """Check history in a SQL database; thread-safe, and every database failure raises StorageError."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self.url = mask_url(url)
        self._clock = clock
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            raise StorageError(self.url, f"not a valid database URL ({_URL_HELP})") from None
        backend = parsed.get_backend_name()
        if backend not in BACKENDS:
            raise StorageError(self.url, f"unsupported database '{backend}' ({_URL_HELP})")
        self._password = parsed.password
        self._sqlite_file = _sqlite_file(parsed)
        try:
            self._engine = _create_engine(parsed)
        except (SQLAlchemyError, ImportError) as exc:
            # psycopg comes with the optional extra; without it SQLAlchemy fails on the import.
            missing_pg = isinstance(exc, ImportError) and backend == "postgresql"
            hint = "install driftwatch-daemon[postgres]" if missing_pg else _URL_HELP
            raise StorageError(self.url, f"cannot load the database driver: {exc} ({hint})") from None
        self._read = sessionmaker(self._engine)
        self._write = sessionmaker(self._engine.execution_options(**{_WRITE: True}))

    def __repr__(self) -> str:
        return f"HistoryStore({self.url!r})"

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def upgrade(self) -> None:
        """Create or migrate the schema to the latest revision; safe to repeat and to run from several processes."""
        if self._sqlite_file is not None:
            try:
                self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(self.url, f"cannot create folder {self._sqlite_file.parent}: {exc}") from None
        with self._guard("upgrading the schema"), self._engine.execution_options(**{_WRITE: True}).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            if _revisions(conn) == [SCHEMA_REVISION]:
                return
            from alembic import command
            from alembic.util import CommandError

            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            try:
                command.upgrade(cfg, "head")
            except CommandError as exc:
                newer = "locate revision" in str(exc)
                hint = " (a newer driftwatch migrated this database; upgrade driftwatch)" if newer else ""
                raise StorageError(self.url, f"upgrading the schema failed: {exc}{hint}") from exc

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        return self.probe() is None

    def probe(self) -> str | None:
        """None when the database answers a trivial query, else why it does not (password masked)."""
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return self._describe(exc)
        return None

    def close(self) -> None:
        """Close pooled connections; the store reconnects if used again."""
        self._engine.dispose()

    # ---- writing -----------------------------------------------------------------------------------

    def record_reference(self, profile: ReferenceLike) -> int:
        """Store a reference version once and return its id (the existing id when already recorded)."""
        values = dict(
            version=profile.version,
            source=profile.source,
            rows=int(profile.rows),
            created_at=required("created_at", profile.created_at),
        )
        with self._guard("recording a reference version"), self._write.begin() as s:
            monitor_id = self._monitor_id(s, profile.monitor)
            stmt = self._insert(ReferenceVersion).values(monitor_id=monitor_id, **values)
            s.execute(stmt.on_conflict_do_nothing(index_elements=["monitor_id", "version"]))
            return s.scalars(
                select(ReferenceVersion.id).where(
                    ReferenceVersion.monitor_id == monitor_id, ReferenceVersion.version == profile.version
                )
            ).one()

    def record_check(
        self,
        result: CheckResult,
        *,
        window_start: float | None,
        window_end: float | None,
        trigger: str,
        error: str | None = None,
        skip_existing: bool = False,
    ) -> int:
        """Store a check with its feature results and OOD exemplars, in one transaction; record its reference first.

        With `skip_existing`, a check of the same monitor, start time and trigger already stored is not stored
        again and its id is returned: replaying a queued check is idempotent.
        """
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r} (valid: {', '.join(TRIGGERS)})")
        start, end = finite(window_start), finite(window_end)
        if start is not None and end is not None and start > end:
            raise ValueError(f"window_start {start} is after window_end {end}")
        row = check_row(result, window_start=start, window_end=end, trigger=trigger, error=error)
        with self._guard("recording a check"), self._write.begin() as s:
            ref = s.execute(
                select(ReferenceVersion.id, ReferenceVersion.monitor_id)
                .join(Monitor, ReferenceVersion.monitor_id == Monitor.id)
                .where(Monitor.name == result.monitor, ReferenceVersion.version == result.reference_version)
            ).one_or_none()
            if ref is None:
                raise UnknownReferenceError(
                    self.url,
                    f"monitor '{result.monitor}' has no recorded reference version '{result.reference_version}'"
                    " (call record_reference(profile) before record_check)",
                )
            row.reference_version_id, row.monitor_id = ref
            for e in row.exemplars:
                e.monitor_id = row.monitor_id
            if skip_existing:
                found = s.scalar(
                    select(Check.id).where(
                        Check.monitor_id == row.monitor_id,
                        Check.started_at == row.started_at,
                        Check.trigger == trigger,
                    )
                )
                if found is not None:
                    return found
            s.add(row)
            s.flush()
            return row.id

    def delete_older_than(self, cutoff: float) -> int:
        """Delete checks that started before `cutoff` (epoch seconds) with their features and exemplars; the count."""
        cutoff = required("cutoff", cutoff)
        with self._guard("deleting old checks"), self._write.begin() as s:
            # The database cascades to feature_results and exemplars; loading them would only cost memory.
            result: Any = s.execute(
                delete(Check).where(Check.started_at < cutoff), execution_options={"synchronize_session": False}
            )
            return int(result.rowcount)

    def mark_file(self, monitor: str, path: str | Path, size: int, mtime_ns: int, rows: int) -> None:
        """Remember that this version of a file (path, size, mtime) has been ingested for the monitor."""
        values = dict(size=int(size), mtime_ns=int(mtime_ns), rows=int(rows), ingested_at=self._clock())
        with self._guard("marking a file as ingested"), self._write.begin() as s:
            monitor_id = self._monitor_id(s, monitor)
            stmt = self._insert(FileSourceProgress).values(monitor_id=monitor_id, path=str(path), **values)
            s.execute(stmt.on_conflict_do_update(index_elements=["monitor_id", "path"], set_=values))

    # ---- reading -----------------------------------------------------------------------------------

    def file_seen(self, monitor: str, path: str | Path, size: int, mtime_ns: int) -> bool:
        """Whether this exact version of a file was already ingested; a changed size or mtime counts as new."""
        stmt = (
            select(FileSourceProgress.id)
            .join(Monitor, FileSourceProgress.monitor_id == Monitor.id)
            .where(
                Monitor.name == monitor,
                FileSourceProgress.path == str(path),
                FileSourceProgress.size == int(size),
                FileSourceProgress.mtime_ns == int(mtime_ns),
            )
        )
        with self._guard("reading file progress"), self._read() as s:
            return s.scalar(stmt) is not None

    def list_monitors(self) -> list[MonitorSummary]:
        """Every monitor with a recorded reference, check or file, with its latest check; sorted by name."""
        inner = aliased(Check)
        latest = (
            select(inner.id)
            .where(inner.monitor_id == Monitor.id)
            .order_by(inner.started_at.desc(), inner.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = (
            select(Monitor.name, Check.id, Check.started_at, Check.status, Check.dataset_drift)
            .select_from(Monitor)
            .outerjoin(Check, Check.id == latest)
            .order_by(Monitor.name)
        )
        with self._guard("listing monitors"), self._read() as s:
            return [
                MonitorSummary(name, check_id, started, None if status is None else Status(status), drift)
                for name, check_id, started, status, drift in s.execute(stmt)
            ]

    def list_checks(
        self,
        monitor: str,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        *,
        with_features: bool = False,
    ) -> list[CheckRecord]:
        """A monitor's checks with since <= started_at < until, newest first; feature results only if asked for."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        stmt = self._checks().where(Monitor.name == monitor)
        if since is not None:
            stmt = stmt.where(Check.started_at >= since)
        if until is not None:
            stmt = stmt.where(Check.started_at < until)
        stmt = stmt.order_by(Check.started_at.desc(), Check.id.desc()).limit(limit)
        if with_features:
            stmt = stmt.options(selectinload(Check.features))
        with self._guard("listing checks"), self._read() as s:
            return [
                check_record(row, name, version, tuple(map(feature_record, row.features)) if with_features else None)
                for row, name, version in s.execute(stmt)
            ]

    def get_check(self, check_id: int) -> CheckRecord | None:
        """One check with its feature results in their original order and its exemplars, or None when unknown."""
        stmt = (
            self._checks()
            .where(Check.id == check_id)
            .options(selectinload(Check.features), selectinload(Check.exemplars))
        )
        with self._guard("reading a check"), self._read() as s:
            found = s.execute(stmt).one_or_none()
            if found is None:
                return None
            row, name, version = found
            features = tuple(feature_record(f) for f in row.features)
            return check_record(row, name, version, features, tuple(exemplar_record(e, name) for e in row.exemplars))

    def get_exemplars(self, check_id: int) -> tuple[str, list[ExemplarRecord]] | None:
        """A check's monitor and its exemplars, most novel first; None when there is no such check."""
        with self._guard("reading exemplars"), self._read() as s:
            monitor = s.scalar(
                select(Monitor.name).join(Check, Check.monitor_id == Monitor.id).where(Check.id == check_id)
            )
            if monitor is None:
                return None
            rows = s.scalars(select(ExemplarRow).where(ExemplarRow.check_id == check_id).order_by(ExemplarRow.rank))
            return monitor, [exemplar_record(e, monitor) for e in rows]

    def neighbours(self, check_id: int) -> tuple[int | None, int | None] | None:
        """The ids of the monitor's checks just before and after this one (by start, then id); None when unknown."""
        with self._guard("reading a check's neighbours"), self._read() as s:
            found = s.execute(select(Check.monitor_id, Check.started_at).where(Check.id == check_id)).one_or_none()
            if found is None:
                return None
            monitor_id, started = found
            same = Check.monitor_id == monitor_id
            before = or_(Check.started_at < started, and_(Check.started_at == started, Check.id < check_id))
            after = or_(Check.started_at > started, and_(Check.started_at == started, Check.id > check_id))
            prev = s.scalar(
                select(Check.id).where(same, before).order_by(Check.started_at.desc(), Check.id.desc()).limit(1)
            )
            nxt = s.scalar(select(Check.id).where(same, after).order_by(Check.started_at, Check.id).limit(1))
            return prev, nxt

    def list_exemplars(
        self, monitor: str, since: float | None = None, until: float | None = None
    ) -> list[ExemplarRecord]:
        """A monitor's exemplars of checks with since <= started_at < until, newest check first, then by rank."""
        stmt = select(ExemplarRow).join(Monitor, ExemplarRow.monitor_id == Monitor.id).where(Monitor.name == monitor)
        if since is not None:
            stmt = stmt.where(ExemplarRow.started_at >= since)
        if until is not None:
            stmt = stmt.where(ExemplarRow.started_at < until)
        stmt = stmt.order_by(ExemplarRow.started_at.desc(), ExemplarRow.check_id.desc(), ExemplarRow.rank)
        with self._guard("listing exemplars"), self._read() as s:
            return [exemplar_record(e, monitor) for e in s.scalars(stmt)]

    def has_monitor(self, monitor: str) -> bool:
        """Whether the database knows the monitor (it recorded a reference, check or file of it)."""
        with self._guard("reading monitors"), self._read() as s:
            return s.scalar(select(Monitor.id).where(Monitor.name == monitor)) is not None

    # ---- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _checks() -> Any:
        return (
            select(Check, Monitor.name, ReferenceVersion.version)
            .join(Monitor, Check.monitor_id == Monitor.id)
            .join(ReferenceVersion, Check.reference_version_id == ReferenceVersion.id)
        )

    def _insert(self, model: type) -> Any:
        """An INSERT that supports ON CONFLICT in the store's dialect."""
        return (postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert)(model)

    def _monitor_id(self, s: Session, name: str) -> int:
        """The monitor's id, creating the row when new; concurrent creators both get the same id."""
        query = select(Monitor.id).where(Monitor.name == name)
        found = s.scalar(query)
        if found is not None:
            return found
        stmt = self._insert(Monitor).values(name=name, created_at=self._clock())
        s.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
        return s.scalars(query).one()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn database and migration failures into a StorageError naming the (masked) URL."""
        try:
            yield
        except StorageError:
            raise
        except (OperationalError, InterfaceError, DisconnectionError) as exc:
            if _MISSING_SCHEMA.search(str(exc)):  # SQLite reports a missing table as an OperationalError
                raise StorageError(self.url, f"{action} failed: {self._describe(exc)}") from exc
            raise StorageUnavailableError(self.url, f"{action} failed: {self._describe(exc)}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(self.url, f"{action} failed: {self._describe(exc)}") from exc

    def _describe(self, exc: SQLAlchemyError) -> str:
        message = " ".join(str(getattr(exc, "orig", None) or exc).split())
        # Drivers do not echo passwords; this is a backstop, skipped for tiny ones that would garble every word.
        if self._password and len(self._password) >= 4:
            message = message.replace(self._password, "***")
        if _MISSING_SCHEMA.search(message):
            message += " (the schema is missing or outdated: run `driftwatch db upgrade`)"
        return message


def _revisions(conn: Connection) -> list[str]:
    """The schema revisions alembic recorded in the database; none before the first migration."""
    if not inspect(conn).has_table("alembic_version"):
        return []
    return list(conn.scalars(text("SELECT version_num FROM alembic_version")))


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            # One shared connection, or every pooled connection would see its own empty database.
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if url.get_driver_name() in ("psycopg", "psycopg2") and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_SECONDS
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800, connect_args=connect_args)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3 would BEGIN only before DML; _sqlite_begin takes over so reads are transactions too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    # WAL lets readers (the HTTP API) run while the scheduler writes.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    # Off by default in SQLite; retention relies on ON DELETE CASCADE.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that later writes gets SQLITE_BUSY at once under WAL instead of waiting out
    # busy_timeout, so writers take the write lock up front.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a plain SQLite URL, whose folder upgrade() creates."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri") == "true" or url.database.startswith("file:"):
        return None
    return Path(url.database)
