"""Checks carry their OOD summary, and the OOD rows they kept (already redacted) go to an exemplars table.

The checks columns are nullable, so checks stored before read back without an OOD result. Exemplars go with their
check (ON DELETE CASCADE), so retention removes them with it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types, as in 0001.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REAL = sa.Double()
CHECK_COLUMNS = (
    ("ood_rate", REAL),
    ("ood_rows", sa.BigInteger()),
    ("ood", sa.JSON()),
)


def upgrade() -> None:
    for name, type_ in CHECK_COLUMNS:
        op.add_column("checks", sa.Column(name, type_, nullable=True))
    op.create_table(
        "exemplars",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("check_id", BIG_ID, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("started_at", REAL, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("p_value", REAL, nullable=True),
        sa.Column("score", REAL, nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("redacted_values", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name="fk_exemplars_check_id_checks", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name="fk_exemplars_monitor_id_monitors", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exemplars"),
        sa.UniqueConstraint("check_id", "rank", name="uq_exemplars_check_id_rank"),
    )
    op.create_index("ix_exemplars_monitor_id_started_at", "exemplars", ["monitor_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_exemplars_monitor_id_started_at", table_name="exemplars")
    op.drop_table("exemplars")
    for name, _ in reversed(CHECK_COLUMNS):
        op.drop_column("checks", name)
