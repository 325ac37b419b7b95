"""Initial history schema: monitors, reference versions, checks, feature results, file-ingestion progress.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a revision must keep creating the same schema when models.py changes later.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REAL = sa.Double()


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", REAL, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitors"),
        sa.UniqueConstraint("name", name="uq_monitors_name"),
    )
    op.create_table(
        "reference_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("created_at", REAL, nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name="fk_reference_versions_monitor_id_monitors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reference_versions"),
        sa.UniqueConstraint("monitor_id", "version", name="uq_reference_versions_monitor_id_version"),
    )
    op.create_table(
        "checks",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("reference_version_id", sa.Integer(), nullable=False),
        sa.Column("started_at", REAL, nullable=False),
        sa.Column("duration_seconds", REAL, nullable=False),
        sa.Column("window_start", REAL, nullable=True),
        sa.Column("window_end", REAL, nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("dataset_drift", sa.Boolean(), nullable=False),
        sa.Column("drift_share", REAL, nullable=False),
        sa.Column("drift_share_threshold", REAL, nullable=False),
        sa.Column("drifted_features", sa.Integer(), nullable=False),
        sa.Column("judged_features", sa.Integer(), nullable=False),
        sa.Column("multiple_testing", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name="fk_checks_monitor_id_monitors", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reference_version_id"],
            ["reference_versions.id"],
            name="fk_checks_reference_version_id_reference_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_checks"),
    )
    op.create_index("ix_checks_monitor_id_started_at", "checks", ["monitor_id", "started_at"])
    op.create_index("ix_checks_started_at", "checks", ["started_at"])
    op.create_table(
        "feature_results",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("check_id", BIG_ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(64), nullable=True),
        sa.Column("score", REAL, nullable=True),
        sa.Column("score_kind", sa.String(32), nullable=True),
        sa.Column("p_value", REAL, nullable=True),
        sa.Column("adjusted_p_value", REAL, nullable=True),
        sa.Column("threshold", REAL, nullable=True),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reference_rows", sa.BigInteger(), nullable=False),
        sa.Column("current_rows", sa.BigInteger(), nullable=False),
        sa.Column("prediction", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("missing_rate", REAL, nullable=True),
        sa.Column("reference_missing_rate", REAL, nullable=True),
        sa.Column("type_error_rate", REAL, nullable=True),
        sa.Column("unseen_category_rate", REAL, nullable=True),
        sa.Column("out_of_range_rate", REAL, nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name="fk_feature_results_check_id_checks", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feature_results"),
    )
    op.create_index("ix_feature_results_check_id", "feature_results", ["check_id"])
    op.create_table(
        "file_source_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("ingested_at", REAL, nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name="fk_file_source_progress_monitor_id_monitors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_file_source_progress"),
        sa.UniqueConstraint("monitor_id", "path", name="uq_file_source_progress_monitor_id_path"),
    )


def downgrade() -> None:
    op.drop_table("file_source_progress")
    op.drop_index("ix_feature_results_check_id", table_name="feature_results")
    op.drop_table("feature_results")
    op.drop_index("ix_checks_started_at", table_name="checks")
    op.drop_index("ix_checks_monitor_id_started_at", table_name="checks")
    op.drop_table("checks")
    op.drop_table("reference_versions")
    op.drop_table("monitors")
