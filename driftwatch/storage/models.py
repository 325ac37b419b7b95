"""The history schema: monitors, reference versions, checks with their feature results and OOD exemplars, and files.

Times are UTC epoch seconds in DOUBLE PRECISION columns, the same floats the engine produces, so they round-trip
exactly on SQLite and PostgreSQL. Non-finite floats are stored as NULL. The alembic revisions in `migrations/` create
this schema; a test compares the two so they cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints let later migrations alter them on SQLite too (batch mode needs names to drop).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids for the high-volume tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Monitor(Base):
    """A monitor name seen by the daemon."""

    __tablename__ = "monitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[float] = mapped_column(Double)


class ReferenceVersion(Base):
    """One content version of a monitor's reference dataset."""

    __tablename__ = "reference_versions"
    __table_args__ = (UniqueConstraint("monitor_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[float] = mapped_column(Double)


class Check(Base):
    """One completed check and its dataset-level verdict."""

    __tablename__ = "checks"
    __table_args__ = (
        Index("ix_checks_monitor_id_started_at", "monitor_id", "started_at"),
        # Retention deletes by age across all monitors.
        Index("ix_checks_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    reference_version_id: Mapped[int] = mapped_column(ForeignKey("reference_versions.id"))
    started_at: Mapped[float] = mapped_column(Double)
    duration_seconds: Mapped[float] = mapped_column(Double)
    window_start: Mapped[float | None] = mapped_column(Double)
    window_end: Mapped[float | None] = mapped_column(Double)
    rows: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    dataset_drift: Mapped[bool] = mapped_column(Boolean)
    drift_share: Mapped[float] = mapped_column(Double)
    drift_share_threshold: Mapped[float] = mapped_column(Double)
    drifted_features: Mapped[int] = mapped_column(Integer)
    judged_features: Mapped[int] = mapped_column(Integer)
    multiple_testing: Mapped[str] = mapped_column(String(16))
    # NULL in checks stored before results carried their decision (revision 0002): those used thresholds.
    decision: Mapped[str | None] = mapped_column(String(16))
    alpha: Mapped[float | None] = mapped_column(Double)
    look_share: Mapped[float | None] = mapped_column(Double)
    level: Mapped[float | None] = mapped_column(Double)
    trigger: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    # The OOD summary (revision 0003); NULL when OOD scoring was off or the check was stored before 0003.
    ood_rate: Mapped[float | None] = mapped_column(Double)
    ood_rows: Mapped[int | None] = mapped_column(BigInteger)
    # rows scored, alpha, counts by reason and feature, reasons that ran, disabled ones and why, exemplars kept
    ood: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The text block by text feature (revision 0004); NULL for checks stored before it.
    text: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    features: Mapped[list[FeatureResultRow]] = relationship(
        order_by="FeatureResultRow.id", cascade="all, delete-orphan", passive_deletes=True
    )
    exemplars: Mapped[list[ExemplarRow]] = relationship(
        order_by="ExemplarRow.rank", cascade="all, delete-orphan", passive_deletes=True
    )


class FeatureResultRow(Base):
    """One feature's result within a check."""

    __tablename__ = "feature_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    check_id: Mapped[int] = mapped_column(BigId, ForeignKey("checks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Double)
    score_kind: Mapped[str | None] = mapped_column(String(32))
    p_value: Mapped[float | None] = mapped_column(Double)
    adjusted_p_value: Mapped[float | None] = mapped_column(Double)
    threshold: Mapped[float | None] = mapped_column(Double)
    threshold_drifted: Mapped[bool | None] = mapped_column(Boolean)
    decision: Mapped[str | None] = mapped_column(String(16))
    calibration: Mapped[str | None] = mapped_column(String(16))
    missing_p_value: Mapped[float | None] = mapped_column(Double)
    level: Mapped[float | None] = mapped_column(Double)
    drifted: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(32))
    reference_rows: Mapped[int] = mapped_column(BigInteger)
    current_rows: Mapped[int] = mapped_column(BigInteger)
    prediction: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text)
    missing_rate: Mapped[float | None] = mapped_column(Double)
    reference_missing_rate: Mapped[float | None] = mapped_column(Double)
    type_error_rate: Mapped[float | None] = mapped_column(Double)
    unseen_category_rate: Mapped[float | None] = mapped_column(Double)
    out_of_range_rate: Mapped[float | None] = mapped_column(Double)
    # What explains the verdict (checks/explain.py, revision 0005); NULL where nothing was judged or stored before.
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ExemplarRow(Base):
    """One out-of-distribution row a check kept: its values as already redacted, never as received."""

    __tablename__ = "exemplars"
    __table_args__ = (
        UniqueConstraint("check_id", "rank"),
        # The labelling export reads a monitor's exemplars by time.
        Index("ix_exemplars_monitor_id_started_at", "monitor_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    check_id: Mapped[int] = mapped_column(BigId, ForeignKey("checks.id", ondelete="CASCADE"))
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    # the check's started_at
    started_at: Mapped[float] = mapped_column(Double)
    # 0 is the most novel of its check
    rank: Mapped[int] = mapped_column(Integer)
    p_value: Mapped[float | None] = mapped_column(Double)
    score: Mapped[float | None] = mapped_column(Double)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    features: Mapped[list[str]] = mapped_column(JSON)
    redacted_values: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SHA-256 of the redacted values as canonical JSON: the same row seen by several checks has one fingerprint.
    fingerprint: Mapped[str] = mapped_column(String(64))


class FileSourceProgress(Base):
    """A source file already ingested for a monitor, identified by path, size and mtime."""

    __tablename__ = "file_source_progress"
    __table_args__ = (UniqueConstraint("monitor_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    ingested_at: Mapped[float] = mapped_column(Double)
    rows: Mapped[int] = mapped_column(BigInteger)
